"""The REST API: one ``NinjaAPI`` at ``/api/v1/``, its schema at ``/api/v1/openapi.json``
(committed as ``docs/openapi.json``), interactive docs at ``/api/docs`` (Swagger UI from
django-ninja's own static files: nothing loaded from the internet)."""

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.renderers import JSONRenderer

from . import errors
from .auth import AUTH


class Utf8Renderer(JSONRenderer):
    # Chinese names as they are, not as \uXXXX escapes (readable with curl).
    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    renderer=Utf8Renderer(),
    title="Loudou API",
    version="1",
    description=(
        "Loudou's REST API: the same rules as the web app (stage rules, exit criteria, "
        "who may see and change what). Authenticate with a personal API token "
        "(`Authorization: Bearer ldu_…`, from `loudou token create USERNAME`) or the "
        "browser session (with the CSRF token). Errors are JSON "
        '`{"code", "message", "details"}`.'
    ),
    auth=AUTH,
    urls_namespace="api-v1",
    docs_url=None,
)
errors.install(api)


def _add_routers() -> None:
    from .accounts import router as accounts
    from .config import router as config
    from .deals import router as deals
    from .followups import router as followups
    from .people import router as people
    from .reports import router as reports
    from .tokens_api import router as tokens

    for router in (deals, followups, accounts, config, people, reports, tokens):
        api.add_router("", router)


_add_routers()


def docs(request: HttpRequest) -> HttpResponse:
    """The interactive documentation (Swagger UI) of the API."""
    return api.docs.render_page(request, api)
