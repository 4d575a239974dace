"""Reports over HTTP: ``/api/v1/reports/{name}`` takes the options of `loudou report`
(made from the one description, ``reports/options.py``) and answers the same JSON."""

from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language
from ninja import Query, Router, Schema
from pydantic import Field, create_model

from loudou.analytics.catalog import CATALOG
from loudou.analytics.output import to_json
from loudou.reports.options import OPTIONS, Option, parse_options
from loudou.reports.services import run_report

from .common import errors

router = Router(tags=["reports"])

ReportName = Literal[tuple(sorted(CATALOG))]  # type: ignore[valid-type]


def _query_field(option: Option) -> tuple[Any, Any]:
    """The API's declaration of one option: its type and documentation. Values are still
    read by ``parse_options`` (as on the command line), so the messages are the same."""
    applies = (
        ""
        if len(option.reports) == len(CATALOG)
        else (" Reports: " + ", ".join(sorted(option.reports)) + ".")
    )
    extra: dict[str, Any] = {"description": option.help + applies}
    # Only the JSON types are declared to pydantic; choices and bounds are documented
    # but checked by parse_options, so that a wrong value gets the command's message.
    if option.kind == "flag":
        kind: Any = bool
    elif option.kind == "int":
        kind = int
        extra["json_schema_extra"] = {"minimum": option.minimum, "maximum": option.maximum}
    else:
        kind = str
        extra["max_length"] = option.max_length
        if option.kind == "choice":
            extra["json_schema_extra"] = {"enum": list(option.choices)}
        elif option.kind in ("date", "datetime"):
            fmt = "date" if option.kind == "date" else "date-time"
            extra["json_schema_extra"] = {"format": fmt}
    return kind | None, Field(
        None, alias=option.name if option.name != option.field else None, **extra
    )


ReportQuery = create_model(
    "ReportQuery",
    __base__=Schema,
    **{option.field: _query_field(option) for option in OPTIONS},
)


class ReportOut(Schema):
    """METRICS.md's shape, as `loudou report --format json` prints it."""

    report: str
    params: dict[str, Any]
    rows: list[dict[str, Any]]
    totals: dict[str, Any]


class ReportInfo(Schema):
    name: str
    options: list[str]


@router.get("/reports", response={200: list[ReportInfo], **errors()})
def list_reports(request: HttpRequest) -> Any:
    """Every report and the options it takes."""
    return [
        {"name": name, "options": [o.name for o in OPTIONS if o.applies_to(name)]}
        for name in sorted(CATALOG)
    ]


@router.get("/reports/{name}", response={200: ReportOut, **errors()})
def get_report(request: HttpRequest, name: ReportName, query: Query[ReportQuery]) -> Any:  # type: ignore[valid-type]
    """Run a report over the deals you may see: the same options and JSON as
    `loudou report NAME --format json`."""
    raw = {option.name: getattr(query, option.field) for option in OPTIONS}
    values = parse_options(name, {k: v for k, v in raw.items() if v is not None})
    values["lang"] = values.get("lang") or get_language() or settings.LANGUAGE_CODE
    result = run_report(name=name, user=request.user, **values)
    return HttpResponse(to_json(result), content_type="application/json")
