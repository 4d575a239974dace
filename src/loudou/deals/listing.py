"""The deal list's read side: filters (the board's, plus stage and status), sorting and
totals; the export downloads exactly this list."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from loudou.people.access import Scope
from loudou.people.models import User
from loudou.pipelines.models import Stage, StageKind

from .board import BoardFilters, stale_q
from .models import Deal, DealStatus
from .queries import with_last_touch, with_next_step

SORTS = {
    "name": _("Name"),
    "amount": _("Amount"),
    "expected_close_date": _("Expected close date"),
    "created_at": _("Created"),
    "stage": _("Stage"),
    "owner": _("Owner"),
}
SORT_FIELDS = {
    "name": ("name",),
    "amount": ("amount",),
    "expected_close_date": ("expected_close_date",),
    "created_at": ("created_at",),
    "stage": ("stage__position",),
    "owner": ("owner__display_name", "owner__username"),
}


@dataclass
class ListFilters:
    board: BoardFilters
    status: str = ""
    stage: Stage | None = None
    sort: str = "-created_at"

    @classmethod
    def parse(cls, params: QueryDict, user: User) -> "ListFilters":
        status = params.get("status", "")
        stage_id = params.get("stage", "")
        sort = params.get("sort", "")
        return cls(
            board=BoardFilters.parse(params, Scope.of(user)),
            status=status if status in DealStatus.values else "",
            stage=Stage.objects.filter(pk=int(stage_id)).first() if stage_id.isdigit() else None,
            sort=sort if sort.removeprefix("-") in SORTS else "-created_at",
        )

    def querystring(self, *, sort: str | None = None) -> str:
        params = QueryDict(self.board.querystring(), mutable=True)
        if self.status:
            params["status"] = self.status
        if self.stage is not None:
            params["stage"] = str(self.stage.pk)
        params["sort"] = self.sort if sort is None else sort
        return params.urlencode()

    def apply(self, user: User) -> QuerySet[Deal]:
        """The visible deals (``Scope``) under every filter, sorted."""
        now = timezone.now()
        deals = with_next_step(with_last_touch(Scope.of(user).filter(Deal.objects.all())))
        if self.status:
            deals = deals.filter(status=self.status)
        if self.stage is not None:
            deals = deals.filter(stage=self.stage)
        if self.board.no_next_step:
            deals = deals.filter(status=DealStatus.OPEN)
        deals = self.board.apply(deals, timezone.localdate(now))
        if self.board.stale:
            # Each stage has its own limit: one condition per open stage.
            stale = Q(pk__in=[])
            for stage in Stage.objects.filter(kind=StageKind.OPEN):
                stale |= Q(stage=stage) & stale_q(stage, now)
            deals = deals.filter(stale, status=DealStatus.OPEN)
        fields = SORT_FIELDS[self.sort.removeprefix("-")]
        prefix = "-" if self.sort.startswith("-") else ""
        return deals.order_by(*[prefix + f for f in fields], prefix + "id")


def totals(deals: QuerySet[Deal]) -> dict[str, Any]:
    """Count, amount and weighted amount (amount × its stage's probability) of a list."""
    weighted = ExpressionWrapper(
        F("amount") * F("stage__probability"),
        output_field=DecimalField(max_digits=22, decimal_places=6),
    )
    result = deals.order_by().aggregate(n=Count("id"), s=Sum("amount"), w=Sum(weighted))
    return {
        "count": result["n"],
        "amount": result["s"] or Decimal(0),
        "weighted": Decimal(result["w"] or 0).quantize(Decimal("0.01")),
    }
