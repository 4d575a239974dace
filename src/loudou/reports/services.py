"""Running reports for a user: visibility, parameters, the cached frames."""

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.utils import timezone

from loudou.analytics.catalog import CATALOG as REPORTS
from loudou.analytics.params import BY_DEAL, ParamError, ReportParams, ReportResult, Visibility
from loudou.deals.models import Deal
from loudou.people.access import Scope
from loudou.people.models import User

from .loader import frames_for

NEEDS_ACTIVITIES = {"activities"}  # the only report reading activities (loaded on demand)


def visibility_for(user: User | None) -> Visibility:
    """The deals ``user`` may count, as data (their ``Scope``). None means the command
    line's unrestricted admin view."""
    return (Scope.unrestricted() if user is None else Scope.of(user)).visibility()


def run_report(
    *,
    name: str,
    user: User | None,
    now: dt.datetime | None = None,
    alias: str = "default",
    **options: Any,
) -> ReportResult:
    """Run report ``name`` as ``user`` with ``options`` (ReportParams fields).

    Raises ``ParamError`` with a readable message for unknown reports or bad options."""
    if name not in REPORTS:
        raise ParamError(
            f"report: unknown {name!r}; one of {', '.join(sorted(REPORTS))}",
            f"没有报表 {name!r}；可用：{'、'.join(sorted(REPORTS))}",
        )
    if options.get("by") == BY_DEAL and name != "collection":
        raise ParamError(
            "deal is for the collection report only",
            "deal 只适用于回款报表（collection）",
            option="by",
        )
    params = ReportParams(
        now=now or timezone.now(),
        time_zone=settings.TIME_ZONE,
        visibility=visibility_for(user),
        **options,
    )
    frames = frames_for(alias, activities=name in NEEDS_ACTIVITIES)
    pipeline_id = frames.pipeline_id(params.pipeline)
    if pipeline_id is None:
        raise ParamError(
            f"no pipeline {params.pipeline!r}",
            f"没有销售流程 {params.pipeline!r}",
            option="pipeline",
        )
    return REPORTS[name](frames.pipeline(pipeline_id), params)


def finding_deals(
    *, user: User | None, findings: Sequence[dict[str, Any]]
) -> list[list[tuple[int, str]]]:
    """Per diagnosis finding, the deals it names (``numbers.deal_ids``) as (id, name), in
    the finding's order, leaving out any deal ``user`` may not see. One query for all."""
    wanted = [finding.get("numbers", {}).get("deal_ids") or [] for finding in findings]
    names = visible_deal_names(user=user, deal_ids=(i for ids in wanted for i in ids))
    return [[(i, names[i]) for i in ids if i in names] for ids in wanted]


def visible_deal_names(*, user: User | None, deal_ids: Iterable[int]) -> dict[int, str]:
    """The names of those of ``deal_ids`` that ``user`` may see (None: everything)."""
    ids = sorted(set(deal_ids))
    if not ids:
        return {}
    scope = Scope.unrestricted() if user is None else Scope.of(user)
    return dict(scope.filter(Deal.objects.filter(pk__in=ids)).values_list("id", "name"))


def known_sources(*, user: User | None, alias: str = "default") -> list[str]:
    """The sources of the deals ``user`` may see, in every pipeline, A to Z (from the
    cached report frames: no query)."""
    frames = frames_for(alias)
    visibility = visibility_for(user)
    found: set[str] = set()
    for pipeline_id in frames.derived:
        deals = frames.pipeline(pipeline_id).deals
        if not visibility.all:
            deals = deals.filter(visibility.allows())
        found.update(deals["source"].drop_nulls().unique().to_list())
    found.discard("")
    return sorted(found)
