from django.urls import URLPattern, path, re_path

from . import views
from .api import api, docs
from .errors import json_method_not_allowed, not_found_view


def _api_urls() -> tuple[list, str, str]:
    """ninja's URL patterns, each view wrapped so a wrong method gets the JSON error."""
    patterns, app_name, namespace = api.urls
    wrapped = [
        URLPattern(p.pattern, json_method_not_allowed(p.callback), p.default_args, p.name)
        if isinstance(p, URLPattern)
        else p
        for p in patterns
    ]
    return wrapped, app_name, namespace


urlpatterns = [
    path("api/v1/", _api_urls()),
    path("api/docs", docs, name="api-docs"),
    path("account/tokens/", views.token_page, name="api_tokens"),
    path("account/tokens/<int:token_id>/revoke", views.token_revoke, name="api_token_revoke"),
    re_path(r"^api/(?P<rest>.*)$", not_found_view),
]
