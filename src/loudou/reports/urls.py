from django.urls import path

from . import views

urlpatterns = [
    path("cockpit/", views.cockpit_page, name="cockpit"),
    path("cockpit/<str:panel>.<str:fmt>", views.cockpit_download, name="cockpit_download"),
    path("reports/", views.report_page, name="reports"),
    path("reports/<str:name>.<str:fmt>", views.report_download, name="report_download"),
    path("reports/probabilities/adopt/", views.adopt_probabilities, name="adopt_probabilities"),
    path(
        "reports/probabilities/<int:adoption_id>/revert/",
        views.revert_probabilities,
        name="revert_probabilities",
    ),
]
