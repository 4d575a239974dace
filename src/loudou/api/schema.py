"""The API's OpenAPI schema as committed in the repository (``docs/openapi.json``).

A change to the API must change the committed file: the tests compare the two, and
``loudou openapi`` rewrites it (``loudou openapi --check`` only compares)."""

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import translation
from ninja.responses import NinjaJSONEncoder

COMMITTED = Path(settings.PACKAGE_DIR).parent.parent / "docs" / "openapi.json"


def live_schema() -> dict[str, Any]:
    """The schema the running code serves at /api/v1/openapi.json (in English)."""
    from .api import api

    with translation.override("en"):
        return json.loads(json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder))


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
