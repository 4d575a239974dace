"""Export what a user may see, in the import format, as CSV or XLSX.

Deals and their stage history come in the user's language: English is the import format
of codes (open, contact, best_case, usernames), as scripts read it; zh-Hans has the Chinese
headers the importer reads and words instead of codes (进行中, 初步接洽, 最佳情况, display
names). A word is written only where the importer reads it back as the same thing (a display
name two people share stays the username), so either file imports back unchanged. No cell
starts a formula (``quoting.quoted``: "=Boss" is written "'=Boss"), and the importer reads
a quoted cell back as the text quoted."""

import csv
import datetime as dt
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import translation
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from loudou.activities.models import Activity
from loudou.deals.models import Deal, DealStatus, LostReason, Payment, StageEvent
from loudou.deals.services import deals_visible_to
from loudou.people.models import User
from loudou.pipelines.models import (
    CustomField,
    FieldType,
    ForecastCategory,
    Pipeline,
    Stage,
    StageKind,
)
from loudou.spreadsheets.columns import (
    DEAL_EXPORT_COLUMNS,
    DEAL_EXPORT_HEADERS_ZH,
    HISTORY_EXPORT_COLUMNS,
    HISTORY_EXPORT_HEADERS_ZH,
    Mapping,
    custom_field_index,
    entered_header_zh,
    entered_stage_label,
    field_for,
)
from loudou.spreadsheets.lookups import (
    find_pipeline,
    reason_labels,
    stage_labels,
    user_labels,
)
from loudou.spreadsheets.quoting import quoted

KINDS = ("deals", "history", "activities", "payments")


class Words:
    """How one export writes people, pipelines, stages, statuses, forecast categories and
    lost reasons: codes (English, the import format) or words in zh-Hans."""

    def __init__(self, language: str) -> None:
        self.zh = language.lower().startswith("zh")
        self._people: dict[int, str] = {}
        self._stages: dict[int, str] = {}
        self._pipelines: dict[int, str] = {}
        self._reasons: dict[int, str] = {}
        self._choices: dict[str, str] = {}
        if not self.zh:
            return
        users = list(User.objects.all())
        self._people = _unambiguous(users, user_labels, str)
        by_pipeline: dict[int, list[Stage]] = {}
        for stage in Stage.objects.all():
            by_pipeline.setdefault(stage.pipeline_id, []).append(stage)
        for stages in by_pipeline.values():
            self._stages |= _unambiguous(stages, stage_labels, lambda s: s.name_zh)
        self._reasons = _unambiguous(
            list(LostReason.objects.all()), reason_labels, lambda r: r.name_zh
        )
        pipelines = {p.key.lower(): p for p in Pipeline.objects.all()}
        self._pipelines = {
            p.pk: p.name_zh for p in pipelines.values() if find_pipeline(pipelines, p.name_zh) == p
        }
        with translation.override("zh-hans"):
            for choices in (DealStatus.choices, ForecastCategory.choices):
                self._choices |= {code: str(label) for code, label in choices}

    def person(self, user: User | None) -> str:
        if user is None:
            return ""
        return self._people.get(user.pk, user.username)

    def stage(self, stage: Stage) -> str:
        return self._stages.get(stage.pk, stage.key)

    def pipeline(self, pipeline: Pipeline) -> str:
        return self._pipelines.get(pipeline.pk, pipeline.key)

    def reason(self, reason: LostReason) -> str:
        return self._reasons.get(reason.pk, reason.key)

    def choice(self, code: str) -> str:
        """A status or forecast category: its zh-Hans name, or the code ("" stays "")."""
        return self._choices.get(code, code) if code else ""

    def deal_header(self, entered: list[Stage]) -> list[str]:
        if not self.zh:
            return [*DEAL_EXPORT_COLUMNS, *[f"entered_{s.key}" for s in entered]]
        return [
            *(DEAL_EXPORT_HEADERS_ZH[c] for c in DEAL_EXPORT_COLUMNS),
            *(self._entered(s) for s in entered),
        ]

    def _entered(self, stage: Stage) -> str:
        """进入<stage>时间, when the importer reads the stage back from it (a name with
        a hyphen or an underscore, say, it would not): else the English header."""
        name = self.stage(stage)
        header = entered_header_zh(name)
        if entered_stage_label(header) == name.strip().lower():
            return header
        return f"entered_{stage.key}"

    def history_header(self) -> list[str]:
        if not self.zh:
            return list(HISTORY_EXPORT_COLUMNS)
        return [HISTORY_EXPORT_HEADERS_ZH[c] for c in HISTORY_EXPORT_COLUMNS]


def _unambiguous(
    items: list[Any], labels: Callable[[Any], Iterable[str]], word: Callable[[Any], str]
) -> dict[int, str]:
    """id -> the word to write for each item whose word no other item is known by (so the
    importer, matching labels case-blind, finds that item and no other)."""
    claims = Counter(label for item in items for label in set(labels(item)))
    return {
        item.pk: word(item)
        for item in items
        if word(item).strip() and claims[word(item).strip().lower()] == 1
    }


def _deals(user: User | None) -> Any:
    return Deal.objects.all() if user is None else deals_visible_to(user)


def _time(value: dt.datetime | None, tz: zoneinfo.ZoneInfo) -> dt.datetime | None:
    """A time in the organisation's zone: the CSV writes it as ISO text to the microsecond
    (the import format), the XLSX as an Excel date-time (``write_xlsx``)."""
    return value.astimezone(tz) if value else None


def _custom_header(cf: CustomField, zh: bool, index: dict[str, str]) -> str:
    """A custom field's column: its zh-Hans name in a zh-Hans export, its key in the
    English import format; else (a name or key another column or field is known by)
    custom.<key>, which the import always reads as this field."""
    for header in (cf.name_zh, cf.key) if zh else (cf.key,):
        if field_for(header, Mapping(), custom=index) == f"custom:{cf.key}":
            return header
    return f"custom.{cf.key}"


def _custom_cell(cf: CustomField, value: Any, zh: bool) -> Any:
    """A custom field's value as a cell the import reads back: numbers as numbers, dates
    as dates, yes/no as a word (是/否 in zh-Hans)."""
    if value is None or value == "":
        return None
    if cf.type == FieldType.BOOLEAN and isinstance(value, bool):
        return ("是" if value else "否") if zh else ("yes" if value else "no")
    if cf.type == FieldType.DATE:
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            return str(value)
    if cf.type == FieldType.NUMBER and isinstance(value, int | float):
        return value
    return str(value)


def _external(deal_id: int, external_id: str | None) -> str:
    # Deals created in Loudou have no external id: give a stable one so that history,
    # activity and payment rows can refer to them.
    return external_id or f"loudou-{deal_id}"


def rows(
    kind: str,
    user: User | None,
    deals: QuerySet[Deal] | None = None,
    *,
    language: str = "en",
) -> tuple[list[str], Iterator[list[Any]]]:
    """(header, rows) of an export; nothing is held in memory. Deals stream in id order,
    or in the order of ``deals``: a narrower list (the deal list's filters and sort, already
    within the user's scope), so that the file is the list as the user saw it.
    ``language``: "en" (codes) or "zh-hans" (words), for deals and history."""
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    deals = _deals(user).order_by("id") if deals is None else deals
    words = Words(language) if kind in ("deals", "history") else Words("en")
    if kind == "deals":
        pipeline = Pipeline.objects.filter(is_default=True).first()
        entered_stages = list(pipeline.stages.filter(kind=StageKind.OPEN)) if pipeline else []
        open_keys = [s.key for s in entered_stages]
        custom_fields = list(CustomField.objects.order_by("id"))
        index = custom_field_index(custom_fields)
        header = [
            *words.deal_header(entered_stages),
            *(_custom_header(cf, words.zh, index) for cf in custom_fields),
        ]

        def deal_rows() -> Iterator[list[Any]]:
            queryset = deals.select_related(
                "account", "owner", "team", "pipeline", "stage", "lost_reason"
            )
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
                        words.person(d.owner),
                        d.team.name if d.team else "",
                        words.pipeline(d.pipeline),
                        words.stage(d.stage),
                        words.choice(d.status),
                        d.amount,
                        d.currency,
                        _time(d.created_at, tz),
                        d.expected_close_date,
                        _time(d.closed_at, tz),
                        words.reason(d.lost_reason) if d.lost_reason else (d.lost_note or ""),
                        d.source,
                        words.choice(d.forecast_category),
                        words.choice(d.effective_forecast_category),
                        _time(d.updated_at, tz),
                        _time(d.last_activity_at, tz),
                        *[_time(first.get(k), tz) for k in open_keys],
                        *[
                            _custom_cell(cf, (d.custom or {}).get(cf.key), words.zh)
                            for cf in custom_fields
                        ],
                    ]

        return header, deal_rows()
    if kind == "history":
        events = StageEvent.objects.filter(deal__in=deals).order_by("deal_id", "at", "id")
        return words.history_header(), (
            [
                _external(e.deal_id, e.deal.external_id),
                words.stage(e.to_stage),
                _time(e.at, tz),
                words.person(e.by),
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
                p.amount,
                p.paid_on,
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


def _text(cell: Any) -> Any:
    """A cell as the CSV import format writes it: amounts with two places, ISO dates and
    times (with the zone's offset and the microseconds), "" for nothing."""
    if cell is None:
        return ""
    if isinstance(cell, Decimal):
        return f"{cell:.2f}"
    if isinstance(cell, dt.date):  # and dt.datetime
        return cell.isoformat()
    return cell


def write_csv(header: list[str], data: Iterator[list[Any]], handle: IO[str]) -> int:
    """UTF-8 with BOM (so Excel opens Chinese text correctly); returns the row count."""
    writer = csv.writer(handle)
    writer.writerow(header)
    count = 0
    for row in data:
        writer.writerow([quoted(_text(cell)) for cell in row])
        count += 1
    return count


# Number formats of typed XLSX cells: what Excel shows; the values stay exact.
AMOUNT_FORMAT = "#,##0.00"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DATE_FORMAT = "yyyy-mm-dd"


def _xlsx_cell(sheet: Any, cell: Any) -> Any:
    """Amounts as numbers and dates as Excel dates (sortable, summable): a time is written
    in the zone ``rows`` gave it (the organisation's, which the importer reads naive times
    in), to the second, as Excel keeps no zone and shows no microseconds."""
    if isinstance(cell, Decimal):
        typed = WriteOnlyCell(sheet, value=cell)
        typed.number_format = AMOUNT_FORMAT
    elif isinstance(cell, dt.datetime):
        typed = WriteOnlyCell(sheet, value=cell.replace(tzinfo=None, microsecond=0))
        typed.number_format = DATETIME_FORMAT
    elif isinstance(cell, dt.date):
        typed = WriteOnlyCell(sheet, value=cell)
        typed.number_format = DATE_FORMAT
    else:
        return quoted(cell)
    return typed


def write_xlsx(header: list[str], data: Iterator[list[Any]], path: Path) -> int:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("export")
    sheet.append(header)
    count = 0
    for row in data:
        sheet.append([_xlsx_cell(sheet, cell) for cell in row])
        count += 1
    workbook.save(path)
    return count
