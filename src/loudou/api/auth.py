"""Who is calling: a personal API token (``Authorization: Bearer ldu_…``) or the browser
session (then the CSRF token is checked on unsafe methods, as for any form)."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from .tokens import user_for_token


class TokenAuth(HttpBearer):
    """A personal API token; the request then acts as the token's user."""

    openapi_description = "A personal API token: `loudou token create USERNAME`."

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is None:
            return None
        request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The logged-in browser session; unsafe methods need the CSRF token (X-CSRFToken)."""

    param_name = settings.SESSION_COOKIE_NAME
    openapi_description = "The browser session of a logged-in user (with the CSRF token)."

    def _get_key(self, request: HttpRequest) -> str | None:
        # Without a logged-in session this is no session call: answer 401, not a CSRF 403.
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


AUTH = [TokenAuth(), SessionAuth(csrf=True)]
