"""URL map: the web UI, the settings pages, the REST API (/api/), the Django admin
(superusers), media."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("loudou.core.urls")),
    path("", include("loudou.deals.urls")),
    path("", include("loudou.spreadsheets.urls")),
    path("", include("loudou.reports.urls")),
    path("", include("loudou.notifications.urls")),
    path("", include("loudou.configure.urls")),
    path("", include("loudou.api.urls")),
]
