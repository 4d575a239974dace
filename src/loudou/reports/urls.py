from django.urls import path

from . import views

urlpatterns = [
    path("reports/", views.report_page, name="reports"),
    path("reports/<str:name>.<str:fmt>", views.report_download, name="report_download"),
]
