from django.urls import path

from .api import api, docs

urlpatterns = [
    path("api/v1/", api.urls),
    path("api/docs", docs, name="api-docs"),
]
