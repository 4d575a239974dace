"""Cross-cutting pages: the health check, the page of a throttled login, and the pages of
a forgotten password (Django's reset views in the app's layout, over ``core.passwords``)."""

import datetime as dt
import math
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import get_language

from . import passwords, throttle


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database check for load balancers and `loudou serve` scripts."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """What a login refused by the throttle gets (``AXES_LOCKOUT_CALLABLE``): our own page,
    in the user's language, saying until when, with axes' status (429) and Retry-After."""
    until = throttle.locked_until(request, credentials)
    response = render(
        request,
        "core/locked_out.html",
        {"until": until},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    wait = (until - timezone.now()).total_seconds()
    response["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


def require_post(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Like Django's ``require_POST``, but a browser that opens an action's address (a GET)
    gets a page in the app's layout saying so, with a way back, not an empty 405."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            response = render(request, "405.html", status=405)
            response["Allow"] = "POST"
            return response
        return view(request, *args, **kwargs)

    return wrapped


def _throttled(request: HttpRequest, until: dt.datetime) -> HttpResponse:
    """The page of a refused reset request: 429, until when, with Retry-After."""
    response = render(request, "core/password_reset_throttled.html", {"until": until}, status=429)
    wait = (until - timezone.now()).total_seconds()
    response["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


class PasswordResetRequestView(auth_views.PasswordResetView):
    """Ask for a reset link. Whatever the address, the same page follows (or, past the
    limits, the same refusal): ``core.passwords.request_reset`` says why."""

    template_name = "core/password_reset_form.html"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form: auth_forms.PasswordResetForm) -> HttpResponse:
        try:
            passwords.request_reset(
                email=form.cleaned_data["email"],
                address=throttle.client_address(self.request),
                site=passwords.LinkSite.of(self.request),
                language=get_language() or settings.LANGUAGE_CODE,
            )
        except passwords.ResetThrottled as exc:
            return _throttled(self.request, exc.until)
        return redirect(self.get_success_url())


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    template_name = "core/password_reset_done.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "hours": _link_hours()}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Choose the new password (Django's checks of the link and of the password); done,
    the account is unlocked at the login throttle."""

    template_name = "core/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def get_user(self, uidb64: str) -> Any:
        """Django's, but a deactivated account's link stops working (its token does not
        change when an admin deactivates it)."""
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def form_valid(self, form: auth_forms.SetPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        passwords.reset_completed(form.user)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "core/password_reset_complete.html"


def _link_hours() -> int:
    return settings.PASSWORD_RESET_TIMEOUT // 3600
