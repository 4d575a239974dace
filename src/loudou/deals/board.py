"""The kanban board's read side: filters, columns with count, total and weighted total,
and one page of cards per column (lazy paging keeps 2,000+ open deals usable).

Queries per board: a fixed few plus two per open stage (totals, first cards), whatever
the number of deals."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from loudou.people.access import Scope
from loudou.people.models import Team, User
from loudou.pipelines.models import Pipeline, Stage, StageKind

from .models import Deal, DealStatus
from .queries import days_since, with_last_touch, with_next_step
from .today import days_text

CARDS_PER_PAGE = 50
MAX_SEARCH = 100

PERIODS = {
    "overdue": gettext_lazy("Past expected close"),
    "this_month": gettext_lazy("This month"),
    "next_month": gettext_lazy("Next month"),
    "this_quarter": gettext_lazy("This quarter"),
    "none": gettext_lazy("No close date"),
}


def _month_start(day: dt.date, months: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_q(period: str, today: dt.date) -> Q:
    """The expected-close-date filter of a period name (unknown: no filter)."""
    if period == "overdue":
        return Q(expected_close_date__lt=today)
    if period == "this_month":
        return Q(
            expected_close_date__gte=_month_start(today),
            expected_close_date__lt=_month_start(today, 1),
        )
    if period == "next_month":
        return Q(
            expected_close_date__gte=_month_start(today, 1),
            expected_close_date__lt=_month_start(today, 2),
        )
    if period == "this_quarter":
        first = _month_start(today, -((today.month - 1) % 3))
        return Q(expected_close_date__gte=first, expected_close_date__lt=_month_start(first, 3))
    if period == "none":
        return Q(expected_close_date__isnull=True)
    return Q()


@dataclass
class BoardFilters:
    """What the board (and the deal list) is narrowed to; parsed leniently: an unknown
    value is ignored, never an error."""

    owner: User | None = None
    team: Team | None = None
    source: str = ""
    period: str = ""
    no_next_step: bool = False
    stale: bool = False
    q: str = ""

    @classmethod
    def parse(cls, params: QueryDict, scope: Scope) -> "BoardFilters":
        owners = scope.owner_choices()
        owner = _pick(owners, params.get("owner", ""))
        team = _pick(teams_for(scope), params.get("team", ""))
        period = params.get("period", "")
        return cls(
            owner=owner,
            team=team,
            source=params.get("source", "").strip()[:50],
            period=period if period in PERIODS else "",
            no_next_step=params.get("no_next_step") == "1",
            stale=params.get("stale") == "1",
            q=params.get("q", "").strip()[:MAX_SEARCH],
        )

    def apply(self, deals: QuerySet[Deal], today: dt.date) -> QuerySet[Deal]:
        """Every filter but staleness (which depends on the stage; see ``stale_q``)."""
        if self.owner is not None:
            deals = deals.filter(owner=self.owner)
        if self.team is not None:
            deals = deals.filter(team=self.team)
        if self.source:
            deals = deals.filter(source=self.source)
        if self.period:
            deals = deals.filter(period_q(self.period, today))
        if self.no_next_step:
            deals = deals.filter(next_step_due__isnull=True)
        if self.q:
            deals = deals.filter(Q(name__icontains=self.q) | Q(account__name__icontains=self.q))
        return deals

    def querystring(self) -> str:
        """The filters as URL parameters (for paging links and drops)."""
        params = QueryDict(mutable=True)
        for key, value in (
            ("owner", self.owner.pk if self.owner else ""),
            ("team", self.team.pk if self.team else ""),
            ("source", self.source),
            ("period", self.period),
            ("no_next_step", "1" if self.no_next_step else ""),
            ("stale", "1" if self.stale else ""),
            ("q", self.q),
        ):
            if value:
                params[key] = value
        return params.urlencode()

    @property
    def active(self) -> bool:
        return bool(self.querystring())


def _pick(queryset: QuerySet, value: str) -> Any:
    return queryset.filter(pk=int(value)).first() if value.isdigit() else None


def teams_for(scope: Scope) -> QuerySet[Team]:
    if scope.everything:
        return Team.objects.all()
    return Team.objects.filter(pk__in=sorted(scope.team_ids))


def stale_q(stage: Stage, now: dt.datetime) -> Q:
    """Untouched for longer than the stage's rot days (needs ``with_last_touch``)."""
    return Q(last_touch__lt=now - dt.timedelta(days=stage.rot_days))


def stale_reason(deal: Deal, now: dt.datetime) -> str:
    """Why a card is flagged stale, in words (the tooltip)."""
    return _("untouched for %(days)s; this stage's limit is %(limit)s") % {
        "days": days_text(days_since(deal.last_touch, now)),
        "limit": days_text(deal.stage.rot_days),
    }


@dataclass
class Column:
    stage: Stage
    count: int = 0
    amount: Decimal = Decimal(0)
    deals: list[Deal] = field(default_factory=list)
    more: bool = False
    offset: int = 0

    @property
    def weighted(self) -> Decimal:
        return self.amount * self.stage.probability


def base_deals(user: User, pipeline: Pipeline) -> QuerySet[Deal]:
    """The visible open deals of ``pipeline``, annotated for cards (``Scope``)."""
    return with_next_step(
        with_last_touch(
            Scope.of(user).filter(Deal.objects.filter(pipeline=pipeline, status=DealStatus.OPEN))
        )
    )


def decorate(deal: Deal, now: dt.datetime, today: dt.date) -> Deal:
    """What a card shows beyond the fields: age in stage, stale (and why), overdue."""
    deal.age_days = days_since(deal.stage_entered_at, now)
    deal.stale = now - deal.last_touch > dt.timedelta(days=deal.stage.rot_days)
    deal.stale_reason = stale_reason(deal, now) if deal.stale else ""
    deal.overdue = deal.expected_close_date is not None and deal.expected_close_date < today
    deal.no_next_step = deal.next_step_due is None
    deal.next_step_overdue = deal.next_step_due is not None and deal.next_step_due < now
    return deal


def cards(
    deals: QuerySet[Deal], stage: Stage, filters: BoardFilters, now: dt.datetime, offset: int
) -> tuple[list[Deal], bool]:
    """One page of a column's cards from ``offset``; and whether more follow."""
    column = deals.filter(stage=stage)
    if filters.stale:
        column = column.filter(stale_q(stage, now))
    page = list(
        column.select_related("owner", "account", "stage").order_by("stage_entered_at", "id")[
            offset : offset + CARDS_PER_PAGE + 1
        ]
    )
    today = timezone.localdate(now)
    return [decorate(d, now, today) for d in page[:CARDS_PER_PAGE]], len(page) > CARDS_PER_PAGE


def board_columns(
    user: User, pipeline: Pipeline, filters: BoardFilters, now: dt.datetime | None = None
) -> list[Column]:
    now = now or timezone.now()
    today = timezone.localdate(now)
    deals = filters.apply(base_deals(user, pipeline), today)
    columns = []
    # An archived stage keeps its column only while open deals are still in it.
    in_use = Deal.objects.filter(pipeline=pipeline, status=DealStatus.OPEN).values("stage_id")
    stages = Stage.objects.filter(pipeline=pipeline, kind=StageKind.OPEN).filter(
        Q(archived=False) | Q(pk__in=in_use)
    )
    for stage in stages.order_by("position"):
        in_stage = deals.filter(stage=stage)
        if filters.stale:
            in_stage = in_stage.filter(stale_q(stage, now))
        totals = in_stage.aggregate(n=Count("id"), s=Sum("amount"))
        page, more = cards(deals, stage, filters, now, 0)
        columns.append(
            Column(
                stage=stage,
                count=totals["n"],
                amount=totals["s"] or Decimal(0),
                deals=page,
                more=more,
                offset=len(page),
            )
        )
    return columns
