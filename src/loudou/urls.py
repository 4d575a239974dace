"""URL map: the web UI, the Django admin (configuration), the REST API (/api/)."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("loudou.core.urls")),
    path("", include("loudou.deals.urls")),
    path("", include("loudou.spreadsheets.urls")),
    path("", include("loudou.reports.urls")),
    path("", include("loudou.api.urls")),
]
