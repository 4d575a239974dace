"""Cross-cutting pages: the health check and the page of a throttled login."""

import math
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from . import throttle


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
