"""Export what a user may see, in the import format, as CSV or XLSX."""

import csv
import datetime as dt
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db.models import QuerySet
from openpyxl import Workbook

from loudou.activities.models import Activity
from loudou.analytics.output import neutralise
from loudou.deals.models import Deal, Payment, StageEvent
from loudou.deals.services import deals_visible_to
from loudou.people.models import User
from loudou.pipelines.models import Pipeline, StageKind
from loudou.spreadsheets.columns import DEAL_EXPORT_COLUMNS

KINDS = ("deals", "history", "activities", "payments")


def _deals(user: User | None) -> Any:
    return Deal.objects.all() if user is None else deals_visible_to(user)


def _time(value: dt.datetime | None, tz: zoneinfo.ZoneInfo) -> str:
    return value.astimezone(tz).isoformat() if value else ""


def _external(deal_id: int, external_id: str | None) -> str:
    # Deals created in Loudou have no external id: give a stable one so that history,
    # activity and payment rows can refer to them.
    return external_id or f"loudou-{deal_id}"


def rows(
    kind: str, user: User | None, deals: QuerySet[Deal] | None = None
) -> tuple[list[str], Iterator[list[Any]]]:
    """(header, rows) of an export. Deals stream in id order; nothing is held in memory.
    ``deals``: a narrower list (the deal list's filters, already within the user's scope)."""
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    deals = _deals(user) if deals is None else deals.order_by("id")
    if kind == "deals":
        pipeline = Pipeline.objects.filter(is_default=True).first()
        open_keys = [s.key for s in pipeline.stages.filter(kind=StageKind.OPEN)] if pipeline else []
        header = [*DEAL_EXPORT_COLUMNS, *[f"entered_{k}" for k in open_keys]]

        def deal_rows() -> Iterator[list[Any]]:
            queryset = deals.select_related(
                "account", "owner", "team", "pipeline", "stage", "lost_reason"
            ).order_by("id")
            for chunk in _chunks(queryset):
                entered: dict[int, dict[str, dt.datetime]] = {}
                for deal_id, key, at in (
                    StageEvent.objects.filter(
                        deal_id__in=[d.pk for d in chunk], to_stage__kind=StageKind.OPEN
                    )
                    .order_by("at", "id")
                    .values_list("deal_id", "to_stage__key", "at")
                ):
                    # The latest entry per stage: sorted by time on import, these rebuild
                    # a move back to the current stage and keep the highest stage reached.
                    entered.setdefault(deal_id, {})[key] = at
                for d in chunk:
                    first = entered.get(d.pk, {})
                    yield [
                        _external(d.pk, d.external_id),
                        d.name,
                        d.account.name if d.account else "",
                        d.owner.username,
                        d.team.name if d.team else "",
                        d.pipeline.key,
                        d.stage.key,
                        d.status,
                        "" if d.amount is None else f"{d.amount:.2f}",
                        d.currency,
                        _time(d.created_at, tz),
                        d.expected_close_date.isoformat() if d.expected_close_date else "",
                        _time(d.closed_at, tz),
                        d.lost_reason.key if d.lost_reason else (d.lost_note or ""),
                        d.source,
                        d.forecast_category,
                        _time(d.updated_at, tz),
                        _time(d.last_activity_at, tz),
                        *[_time(first.get(k), tz) for k in open_keys],
                    ]

        return header, deal_rows()
    if kind == "history":
        header = ["external_id", "stage", "changed_at", "changed_by"]
        events = StageEvent.objects.filter(deal__in=deals).order_by("deal_id", "at", "id")
        return header, (
            [
                _external(e.deal_id, e.deal.external_id),
                e.to_stage.key,
                _time(e.at, tz),
                e.by.username if e.by else "",
            ]
            for e in events.select_related("deal", "to_stage", "by").iterator(chunk_size=2000)
        )
    if kind == "activities":
        header = ["external_id", "type", "at", "outcome", "note", "by"]
        activities = Activity.objects.filter(deal__in=deals).order_by("deal_id", "at", "id")
        return header, (
            [
                _external(a.deal_id, a.deal.external_id),
                a.type,
                _time(a.at, tz),
                a.outcome,
                a.note,
                a.by.username,
            ]
            for a in activities.select_related("deal", "by").iterator(chunk_size=2000)
        )
    if kind == "payments":
        header = ["external_id", "amount", "paid_on", "note", "recorded_by"]
        payments = Payment.objects.filter(deal__in=deals).order_by("deal_id", "paid_on", "id")
        return header, (
            [
                _external(p.deal_id, p.deal.external_id),
                f"{p.amount:.2f}",
                p.paid_on.isoformat(),
                p.note,
                p.recorded_by.username,
            ]
            for p in payments.select_related("deal", "recorded_by").iterator(chunk_size=2000)
        )
    raise ValueError(f"unknown export {kind!r}; one of {', '.join(KINDS)}")


def _chunks(queryset: Any, size: int = 2000) -> Iterator[list[Deal]]:
    chunk: list[Deal] = []
    for deal in queryset.iterator(chunk_size=size):
        chunk.append(deal)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def write_csv(header: list[str], data: Iterator[list[Any]], handle: IO[str]) -> int:
    """UTF-8 with BOM (so Excel opens Chinese text correctly); returns the row count."""
    writer = csv.writer(handle)
    writer.writerow(header)
    count = 0
    for row in data:
        writer.writerow([neutralise(cell) for cell in row])
        count += 1
    return count


def write_xlsx(header: list[str], data: Iterator[list[Any]], path: Path) -> int:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("export")
    sheet.append(header)
    count = 0
    for row in data:
        sheet.append([neutralise(cell) for cell in row])
        count += 1
    workbook.save(path)
    return count
