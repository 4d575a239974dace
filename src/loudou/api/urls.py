from django.urls import path, re_path

from . import views
from .api import api, docs
from .errors import not_found_view

urlpatterns = [
    path("api/v1/", api.urls),
    path("api/docs", docs, name="api-docs"),
    path("account/tokens/", views.token_page, name="api_tokens"),
    path("account/tokens/<int:token_id>/revoke", views.token_revoke, name="api_token_revoke"),
    re_path(r"^api/(?P<rest>.*)$", not_found_view),
]
