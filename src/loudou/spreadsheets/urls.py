from django.urls import path

from . import views

urlpatterns = [
    path("import/", views.import_deals_view, name="import_deals"),
    path("import/<str:token>/", views.import_job, name="import_job"),
    path("import/<str:token>/confirm/", views.import_confirm, name="import_confirm"),
    path("import/<str:token>/options/", views.import_options, name="import_options"),
    path("import/<str:token>/errors.csv", views.import_errors, name="import_errors"),
    path("export/<str:kind>.<str:fmt>", views.export_view, name="export"),
]
