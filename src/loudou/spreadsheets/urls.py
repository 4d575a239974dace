from django.urls import path

from . import views

urlpatterns = [
    path("import/", views.import_deals_view, name="import_deals"),
    path("import/preview/", views.import_preview, name="import_preview"),
    path("import/confirm/", views.import_confirm, name="import_confirm"),
    path("import/errors.csv", views.import_errors, name="import_errors"),
    path("export/<str:kind>.<str:fmt>", views.export_view, name="export"),
]
