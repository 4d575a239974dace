from django.urls import path, re_path

from .api import api, docs
from .errors import not_found_view

urlpatterns = [
    path("api/v1/", api.urls),
    path("api/docs", docs, name="api-docs"),
    re_path(r"^api/(?P<rest>.*)$", not_found_view),
]
