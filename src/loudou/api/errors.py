"""Every API error is JSON ``{"code", "message", "details"}``, in the user's language:

- 400 ``malformed`` (the request does not fit the schema) or ``invalid`` (a rule refused
  the input: ``details`` maps fields to messages), ``bad_parameter`` (report options);
- 401 ``unauthenticated``; 403 ``not_allowed``; 404 ``not_found`` (including a deal the
  user may not see);
- 405 ``method_not_allowed``: the address does not answer this method (``details.allowed``);
- 409 ``conflict``: a stale ``version``;
- 422 ``criteria_not_met``: ``details.unmet`` lists the unmet exit criteria.

Services raise ``ServiceError``s; this module is the one place that turns them into
responses.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from loudou.analytics.params import ParamError
from loudou.core.errors import Conflict, InvalidInput, NotAllowed, ServiceError
from loudou.deals.rules import CriteriaNotMet


class ErrorOut(Schema):
    """An error: a stable code for programs, a message for people, and details."""

    code: str
    message: str
    details: dict[str, Any] | list[Any] | None = None


class NotFound(Exception):
    """The object does not exist, or the user may not see it (the same answer)."""


def not_found_view(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other address under /api/: a JSON 404 like the API's own."""
    from .api import api

    return respond(api, request, 404, "not_found", _("Not found."))


def json_method_not_allowed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Wrap one of ninja's address views: its answer to a method the address does not
    answer is plain text; turn it into the API's JSON error, keeping the Allow header."""
    from .api import api

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code != 405 or response.get("Content-Type", "").startswith(
            "application/json"
        ):
            return response
        allowed = sorted(m.strip() for m in response.get("Allow", "").split(",") if m.strip())
        message = _("This address does not support %(method)s; it supports %(allowed)s.") % {
            "method": request.method,
            "allowed": ", ".join(allowed),
        }
        answer = respond(api, request, 405, "method_not_allowed", message, {"allowed": allowed})
        answer["Allow"] = ", ".join(allowed)
        return answer

    return wrapped


def respond(
    api: NinjaAPI, request: HttpRequest, status: int, code: str, message: str, details: Any = None
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "details": details}, status=status
    )


def _service_error(api: NinjaAPI, request: HttpRequest, exc: ServiceError) -> HttpResponse:
    if isinstance(exc, CriteriaNotMet):
        unmet = [
            {
                "stage": u.stage_key,
                "kind": u.kind,
                "criterion_id": u.criterion_id,
                "message": u.message,
            }
            for u in exc.unmet
        ]
        return respond(api, request, 422, exc.code, str(exc), {"unmet": unmet})
    if isinstance(exc, Conflict):
        return respond(api, request, 409, exc.code, str(exc))
    if isinstance(exc, NotAllowed):
        return respond(api, request, 403, exc.code, str(exc))
    if isinstance(exc, InvalidInput):
        details = {field: str(message) for field, message in exc.errors.items()}
        return respond(api, request, 400, exc.code, str(exc), details)
    return respond(api, request, 400, exc.code, str(exc))


def _validation_error(api: NinjaAPI, request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = [
        {
            "location": [str(part) for part in error.get("loc", ())],
            "message": str(error.get("msg", "")),
        }
        for error in exc.errors
    ]
    return respond(
        api, request, 400, "malformed", _("The request is malformed; see details."), details
    )


def install(api: NinjaAPI) -> None:
    """Register the handlers on ``api``."""

    @api.exception_handler(ServiceError)
    def service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
        return _service_error(api, request, exc)

    @api.exception_handler(ParamError)
    def param_error(request: HttpRequest, exc: ParamError) -> HttpResponse:
        return respond(api, request, 400, "bad_parameter", exc.message(get_language() or ""))

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return _validation_error(api, request, exc)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return respond(
            api,
            request,
            401,
            "unauthenticated",
            _("Log in, or send a valid API token (Authorization: Bearer …)."),
        )

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        codes = {400: "malformed", 403: "not_allowed", 404: "not_found", 413: "too_large"}
        code = codes.get(exc.status_code, "error")
        message = str(exc)
        if exc.status_code == 400:  # django-ninja's own words for a body it cannot read
            message = _("The request body cannot be read (send JSON, or multipart for files).")
        return respond(api, request, exc.status_code, code, message)

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return respond(api, request, 413, "too_large", _("The request is too large."))

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return respond(api, request, 403, "not_allowed", str(NotAllowed().message))

    @api.exception_handler(Http404)
    def http404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(api, request, 404, "not_found", _("Not found."))

    @api.exception_handler(NotFound)
    def not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
        return respond(api, request, 404, "not_found", str(exc) or _("Not found."))
