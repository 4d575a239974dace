"""Deals over HTTP: list, read, create, edit, and every stage action, all through
``loudou.deals.services`` (and so ``deals.rules`` and ``people.access.Scope``)."""

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.conf import settings
from django.db.models import DateField, DecimalField, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.http import FileResponse, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile
from pydantic import Field

from loudou.accounts.models import Account, Contact
from loudou.activities.models import Activity, ActivityOutcome, ActivityType, NextStep
from loudou.activities.services import log_activity
from loudou.core.errors import InvalidInput, NotAllowed
from loudou.deals import services
from loudou.deals.models import (
    Attachment,
    AttachmentKind,
    Deal,
    DealStatus,
    LostReason,
    Payment,
    StageApproval,
    StageEvent,
)
from loudou.deals.queries import is_stale, with_last_touch
from loudou.limits import FIRST_DATE
from loudou.people.access import Scope
from loudou.people.models import User
from loudou.pipelines.models import Pipeline, Stage, StageKind

from .common import errors, get_or_404, keyset_page, lookup
from .errors import NotFound
from .inputs import Amount, Day, Id, Key, Moment, Name, Note, text

router = Router(tags=["deals"])

# ---------------------------------------------------------------------------------------
# Output


class DealOut(Schema):
    id: int
    name: str
    version: int
    pipeline: str
    stage: str
    stage_name: str
    status: Literal["open", "won", "lost"]
    owner: str
    team: str | None
    account_id: int | None
    account: str | None
    contact_id: int | None
    amount: str | None
    currency: str
    expected_close_date: dt.date | None
    source: str
    forecast_category: str
    custom: dict[str, Any]
    external_id: str | None
    lost_reason: str | None
    lost_note: str
    created_at: dt.datetime
    updated_at: dt.datetime
    stage_entered_at: dt.datetime
    closed_at: dt.datetime | None
    last_touch: dt.datetime
    stale: bool


class StageEventOut(Schema):
    id: int
    from_stage: str | None
    to_stage: str
    at: dt.datetime
    by: str | None
    override_reason: str
    overridden: list[dict[str, Any]]
    note: str
    imported: bool


class ActivityOut(Schema):
    id: int
    type: str
    at: dt.datetime
    outcome: str
    note: str
    contact_id: int | None
    by: str | None


class AttachmentOut(Schema):
    id: int
    kind: str
    name: str
    size: int
    uploaded_by: str
    uploaded_at: dt.datetime
    url: str


class PaymentOut(Schema):
    id: int
    amount: str
    paid_on: dt.date
    note: str
    recorded_by: str
    recorded_at: dt.datetime


class ApprovalOut(Schema):
    id: int
    stage: str
    approved_by: str
    at: dt.datetime
    note: str


class ContactBrief(Schema):
    id: int
    name: str
    title: str
    phone: str
    email: str
    wechat: str
    is_decision_maker: bool


class DealDetailOut(DealOut):
    stage_events: list[StageEventOut]
    activities: list[ActivityOut]
    attachments: list[AttachmentOut]
    payments: list[PaymentOut]
    approvals: list[ApprovalOut]
    contacts: list[ContactBrief]


class DealPage(Schema):
    items: list[DealOut]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last page."
    )


class MoveOut(Schema):
    deal: DealOut
    overridden: list[dict[str, Any]]


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def deal_out(deal: Deal, now: dt.datetime | None = None) -> dict[str, Any]:
    """A deal as the API shows it (``deal`` from ``_deals()``: related rows loaded)."""
    return {
        "id": deal.pk,
        "name": deal.name,
        "version": deal.version,
        "pipeline": deal.pipeline.key,
        "stage": deal.stage.key,
        "stage_name": deal.stage.name,
        "status": deal.status,
        "owner": deal.owner.username,
        "team": deal.team.name if deal.team else None,
        "account_id": deal.account_id,
        "account": deal.account.name if deal.account else None,
        "contact_id": deal.contact_id,
        "amount": _money(deal.amount),
        "currency": deal.currency,
        "expected_close_date": deal.expected_close_date,
        "source": deal.source,
        "forecast_category": deal.effective_forecast_category,
        "custom": deal.custom or {},
        "external_id": deal.external_id,
        "lost_reason": deal.lost_reason.key if deal.lost_reason else None,
        "lost_note": deal.lost_note,
        "created_at": deal.created_at,
        "updated_at": deal.updated_at,
        "stage_entered_at": deal.stage_entered_at,
        "closed_at": deal.closed_at,
        "last_touch": deal.last_touch,
        "stale": is_stale(deal, now),
    }


def _deals(request: HttpRequest) -> QuerySet[Deal]:
    """The deals the caller may see (their ``Scope``), with what ``deal_out`` reads."""
    return with_last_touch(
        services.deals_visible_to(request.user).select_related(
            "owner", "team", "stage", "pipeline", "account", "lost_reason"
        )
    )


def visible_deal(request: HttpRequest, deal_id: int) -> Deal:
    """The deal, if the caller may see it; else 404 (never a 403: it does not exist for
    them)."""
    deal = _deals(request).filter(pk=deal_id).first()
    if deal is None:
        raise NotFound(_("No such deal, or it is not visible to you."))
    return deal


def _fresh(request: HttpRequest, deal: Deal | int) -> dict[str, Any]:
    return deal_out(visible_deal(request, deal.pk if isinstance(deal, Deal) else deal))


def _stage(deal: Deal, key: str) -> Stage:
    return lookup(Stage, "stage", _("stage"), pipeline_id=deal.pipeline_id, key=key)


# ---------------------------------------------------------------------------------------
# The list

ORDERINGS = {
    "created_at": ("created_at", None),
    "updated_at": ("updated_at", None),
    "stage_entered_at": ("stage_entered_at", None),
    "name": ("name", None),
    # Nullable columns sort as a value below every real one, so the keyset stays total.
    "amount": (Coalesce("amount", Value(Decimal(-1)), output_field=DecimalField()), Decimal),
    "expected_close_date": (
        Coalesce("expected_close_date", Value(FIRST_DATE), output_field=DateField()),
        dt.date.fromisoformat,
    ),
}
Ordering = Literal[
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
    "stage_entered_at",
    "-stage_entered_at",
    "name",
    "-name",
    "amount",
    "-amount",
    "expected_close_date",
    "-expected_close_date",
]


class DealFilters(Schema):
    pipeline: Key | None = Field(None, description="pipeline key")
    stage: Key | None = Field(None, description="stage key (within the pipeline, if given)")
    status: Literal["open", "won", "lost"] | None = None
    owner: text(150) | None = Field(None, description="owner's username")
    team: text(100) | None = Field(None, description="team name")
    source: text(50) | None = None
    account_id: Id | None = None
    expected_close_from: Day | None = Field(None, description="expected close on or after")
    expected_close_to: Day | None = Field(None, description="expected close before")
    stale: bool | None = Field(None, description="open and untouched beyond the stage's rot days")
    no_next_step: bool | None = Field(
        None, description="true: open deals with no next step scheduled; false: with one"
    )
    q: text(200) | None = Field(None, description="text in the deal's or account's name")
    ordering: Ordering = "-created_at"
    cursor: text(400) | None = None
    limit: int = Field(50, ge=1, le=200)


def _parse_datetime(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("naive")
    return moment


def _stale_q(stages: QuerySet[Stage], now: dt.datetime) -> Q:
    """Open deals whose last touch is older than their stage's rot days (one term per
    stage: rot days differ by stage)."""
    stale = Q(pk__in=[])
    for stage in stages:
        stale |= Q(stage_id=stage.pk, last_touch__lt=now - dt.timedelta(days=stage.rot_days))
    return Q(status=DealStatus.OPEN) & stale


@router.get("/deals", response={200: DealPage, **errors()}, summary="List deals")
def list_deals(request: HttpRequest, filters: Query[DealFilters]) -> Any:
    """The deals you may see, filtered, ordered, a page at a time (keyset cursor)."""
    deals = _deals(request)
    pipeline = None
    if filters.pipeline:
        pipeline = lookup(Pipeline, "pipeline", _("pipeline"), key=filters.pipeline)
        deals = deals.filter(pipeline=pipeline)
    if filters.stage:
        stages = Stage.objects.filter(key=filters.stage)
        if pipeline is not None:
            stages = stages.filter(pipeline=pipeline)
        if not stages.exists():
            raise InvalidInput({"stage": _("No such stage.")})
        deals = deals.filter(stage__in=stages)
    if filters.status:
        deals = deals.filter(status=filters.status)
    if filters.owner:
        deals = deals.filter(owner__username=filters.owner)
    if filters.team:
        deals = deals.filter(team__name=filters.team)
    if filters.source:
        deals = deals.filter(source=filters.source)
    if filters.account_id:
        deals = deals.filter(account_id=filters.account_id)
    if filters.expected_close_from:
        deals = deals.filter(expected_close_date__gte=filters.expected_close_from)
    if filters.expected_close_to:
        deals = deals.filter(expected_close_date__lt=filters.expected_close_to)
    if filters.q:
        deals = deals.filter(Q(name__icontains=filters.q) | Q(account__name__icontains=filters.q))
    now = timezone.now()
    if filters.stale is not None:
        stale = _stale_q(Stage.objects.filter(kind=StageKind.OPEN), now)
        deals = deals.filter(stale) if filters.stale else deals.exclude(stale)
    if filters.no_next_step is not None:
        scheduled = Exists(NextStep.objects.filter(deal=OuterRef("pk"), done_at__isnull=True))
        deals = (
            deals.filter(~scheduled, status=DealStatus.OPEN)
            if filters.no_next_step
            else deals.filter(scheduled)
        )
    name = filters.ordering.lstrip("-")
    expression, parse = ORDERINGS[name]
    parse = parse or (_parse_datetime if name.endswith("_at") else str)
    deals = deals.annotate(sort_key=F(expression) if isinstance(expression, str) else expression)
    rows, next_cursor = keyset_page(
        deals,
        field="sort_key",
        descending=filters.ordering.startswith("-"),
        cursor=filters.cursor,
        limit=filters.limit,
        parse_key=parse,
    )
    return {"items": [deal_out(d, now) for d in rows], "next_cursor": next_cursor}


# ---------------------------------------------------------------------------------------
# One deal


def _user_name(user: User | None) -> str | None:
    return user.username if user else None


def deal_detail(request: HttpRequest, deal: Deal) -> dict[str, Any]:
    data = deal_out(deal)
    data["stage_events"] = [
        {
            "id": e.pk,
            "from_stage": e.from_stage.key if e.from_stage else None,
            "to_stage": e.to_stage.key,
            "at": e.at,
            "by": _user_name(e.by),
            "override_reason": e.override_reason,
            "overridden": e.overridden or [],
            "note": e.note,
            "imported": e.imported,
        }
        for e in StageEvent.objects.filter(deal=deal).select_related("from_stage", "to_stage", "by")
    ]
    data["activities"] = [
        {
            "id": a.pk,
            "type": a.type,
            "at": a.at,
            "outcome": a.outcome,
            "note": a.note,
            "contact_id": a.contact_id,
            "by": _user_name(a.by),
        }
        for a in Activity.objects.filter(deal=deal).select_related("by").order_by("-at", "-id")
    ]
    data["attachments"] = [
        attachment_out(a) for a in deal.attachments.select_related("uploaded_by")
    ]
    data["payments"] = [payment_out(p) for p in deal.payments.select_related("recorded_by")]
    data["approvals"] = [
        {
            "id": a.pk,
            "stage": a.stage.key,
            "approved_by": a.approved_by.username,
            "at": a.at,
            "note": a.note,
        }
        for a in StageApproval.objects.filter(deal=deal).select_related("stage", "approved_by")
    ]
    data["contacts"] = (
        [contact_brief(c) for c in Contact.objects.filter(account_id=deal.account_id)]
        if deal.account_id
        else []
    )
    return data


def attachment_out(a: Attachment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "kind": a.kind,
        "name": a.name,
        "size": a.size,
        "uploaded_by": a.uploaded_by.username,
        "uploaded_at": a.uploaded_at,
        "url": f"/api/v1/deals/{a.deal_id}/attachments/{a.pk}/file",
    }


def payment_out(p: Payment) -> dict[str, Any]:
    return {
        "id": p.pk,
        "amount": _money(p.amount),
        "paid_on": p.paid_on,
        "note": p.note,
        "recorded_by": p.recorded_by.username,
        "recorded_at": p.recorded_at,
    }


def contact_brief(c: Contact) -> dict[str, Any]:
    return {
        "id": c.pk,
        "name": c.name,
        "title": c.title,
        "phone": c.phone,
        "email": c.email,
        "wechat": c.wechat,
        "is_decision_maker": c.is_decision_maker,
    }


@router.get(
    "/deals/{deal_id}", response={200: DealDetailOut, **errors(404)}, summary="A deal in full"
)
def get_deal(request: HttpRequest, deal_id: Id) -> Any:
    """A deal with its stage events, activities, attachments, payments, approvals and its
    account's contacts."""
    return deal_detail(request, visible_deal(request, deal_id))


class DealCreateIn(Schema):
    name: Name
    pipeline: Key | None = Field(None, description="pipeline key (default: the default one)")
    stage: Key | None = Field(None, description="stage key (default: the first open stage)")
    owner: text(150) | None = Field(None, description="owner's username (default: you)")
    amount: Amount | None = None
    currency: text(3) | None = None
    expected_close_date: Day | None = None
    account_id: Id | None = None
    account_name: Name | None = Field(None, description="found or created by name")
    contact_id: Id | None = None
    source: text(50) = ""
    custom: dict[text(50), Any] = Field(default_factory=dict, max_length=100)
    external_id: text(100) | None = None
    override_reason: Note = ""


def _owner(username: str) -> User:
    return lookup(User, "owner", _("user"), username=username, is_active=True)


@router.post("/deals", response={201: DealOut, **errors(403, 409, 422)}, summary="Create a deal")
def create_deal(request: HttpRequest, payload: DealCreateIn) -> Any:
    """Create a deal; in a stage after the first, the earlier stages' exit criteria apply
    (422 lists what is unmet; a manager may override with ``override_reason``)."""
    pipeline = (
        lookup(Pipeline, "pipeline", _("pipeline"), key=payload.pipeline)
        if payload.pipeline
        else None
    )
    stage = None
    if payload.stage:
        pipeline = pipeline or services.default_pipeline()
        stage = lookup(Stage, "stage", _("stage"), pipeline=pipeline, key=payload.stage)
        if stage.kind != StageKind.OPEN:
            raise InvalidInput({"stage": _("Pick an open stage of the deal's pipeline.")})
    if payload.external_id and Deal.objects.filter(external_id=payload.external_id).exists():
        raise InvalidInput({"external_id": _("Another deal has this external ID.")})
    deal = services.create_deal(
        actor=request.user,
        name=payload.name,
        owner=_owner(payload.owner) if payload.owner else None,
        pipeline=pipeline,
        stage=stage,
        amount=payload.amount,
        currency=payload.currency,
        expected_close_date=payload.expected_close_date,
        account=lookup(Account, "account_id", _("account"), pk=payload.account_id)
        if payload.account_id
        else None,
        account_name=payload.account_name,
        contact=lookup(Contact, "contact_id", _("contact"), pk=payload.contact_id)
        if payload.contact_id
        else None,
        source=payload.source,
        custom=payload.custom,
        external_id=payload.external_id,
        override_reason=payload.override_reason,
    )
    return Status(201, _fresh(request, deal))


class DealUpdateIn(Schema):
    version: int = Field(ge=1, le=2**31, description="the version you read (409 if stale)")
    name: Name | None = None
    owner: text(150) | None = Field(None, description="username")
    amount: Amount | None = None
    currency: text(3) | None = None
    expected_close_date: Day | None = None
    account_id: Id | None = None
    contact_id: Id | None = None
    source: text(50) | None = None
    forecast_category: Literal["", "pipeline", "best_case", "commit", "omitted"] | None = None
    custom: dict[text(50), Any] | None = Field(None, max_length=100)
    external_id: text(100) | None = None


@router.patch(
    "/deals/{deal_id}", response={200: DealOut, **errors(403, 404, 409)}, summary="Edit a deal"
)
def update_deal(request: HttpRequest, deal_id: Id, payload: DealUpdateIn) -> Any:
    """Change the fields given (a field set to null is cleared where it may be). ``version``
    must be the one you read: a stale one is a 409 and changes nothing."""
    deal = visible_deal(request, deal_id)
    given = payload.model_dump(exclude_unset=True)
    given.pop("version", None)
    changes: dict[str, Any] = {}
    for key, value in given.items():
        if key == "owner":
            if value is None:
                raise InvalidInput({"owner": _("A deal needs an owner.")})
            changes["owner"] = _owner(value)
        elif key == "account_id":
            changes["account"] = (
                lookup(Account, "account_id", _("account"), pk=value) if value else None
            )
        elif key == "contact_id":
            changes["contact"] = (
                lookup(Contact, "contact_id", _("contact"), pk=value) if value else None
            )
        elif key == "external_id" and value:
            if Deal.objects.filter(external_id=value).exclude(pk=deal.pk).exists():
                raise InvalidInput({"external_id": _("Another deal has this external ID.")})
            changes[key] = value
        elif key in ("name", "currency") and value is None:
            raise InvalidInput({key: _("This field cannot be empty.")})
        else:
            changes[key] = value
    services.update_deal(
        actor=request.user, deal=deal, expected_version=payload.version, changes=changes
    )
    return _fresh(request, deal)


# ---------------------------------------------------------------------------------------
# Stage actions


class MoveIn(Schema):
    stage: Key = Field(description="key of an open stage of the deal's pipeline")
    version: int | None = Field(None, ge=1, le=2**31, description="409 if stale")
    note: Note = ""


class WinIn(Schema):
    version: int | None = Field(None, ge=1, le=2**31)
    note: Note = ""


class LoseIn(Schema):
    reason: Key = Field(description="lost reason key (GET /lost-reasons)")
    version: int | None = Field(None, ge=1, le=2**31)
    note: Note = ""


class ReopenIn(Schema):
    stage: Key | None = Field(None, description="default: the stage it closed from")
    version: int | None = Field(None, ge=1, le=2**31)
    note: Note = ""


class ApproveIn(Schema):
    stage: Key | None = Field(None, description="default: the deal's current stage")
    note: Note = ""


class OverrideIn(Schema):
    to: Key = Field(description="an open stage key, or `won`")
    reason: text(2000) = Field(min_length=1, description="why the exit criteria are overridden")
    version: int | None = Field(None, ge=1, le=2**31)
    note: Note = ""


def _move_out(request: HttpRequest, deal: Deal, overridden: list[Any]) -> dict[str, Any]:
    return {"deal": _fresh(request, deal), "overridden": [u.as_dict() for u in overridden]}


ACTION_ERRORS = errors(403, 404, 409, 422)


@router.post("/deals/{deal_id}/move", response={200: MoveOut, **ACTION_ERRORS})
def move_deal(request: HttpRequest, deal_id: Id, payload: MoveIn) -> Any:
    """Move an open deal to another open stage. A forward move must meet the exit criteria
    of every stage it leaves: otherwise 422 lists them (in your language)."""
    deal = visible_deal(request, deal_id)
    result = services.move_deal(
        actor=request.user,
        deal=deal,
        to_stage=_stage(deal, payload.stage),
        expected_version=payload.version,
        note=payload.note,
    )
    return _move_out(request, deal, result.overridden)


@router.post("/deals/{deal_id}/win", response={200: DealOut, **ACTION_ERRORS})
def win_deal(request: HttpRequest, deal_id: Id, payload: WinIn) -> Any:
    """Close as won; the exit criteria of the current and every later stage apply."""
    deal = visible_deal(request, deal_id)
    services.win_deal(
        actor=request.user, deal=deal, expected_version=payload.version, note=payload.note
    )
    return _fresh(request, deal)


@router.post("/deals/{deal_id}/lose", response={200: DealOut, **ACTION_ERRORS})
def lose_deal(request: HttpRequest, deal_id: Id, payload: LoseIn) -> Any:
    """Close as lost, with a reason."""
    deal = visible_deal(request, deal_id)
    reason = lookup(LostReason, "reason", _("lost reason"), key=payload.reason, active=True)
    services.lose_deal(
        actor=request.user,
        deal=deal,
        reason=reason,
        note=payload.note,
        expected_version=payload.version,
    )
    return _fresh(request, deal)


@router.post("/deals/{deal_id}/reopen", response={200: DealOut, **ACTION_ERRORS})
def reopen_deal(request: HttpRequest, deal_id: Id, payload: ReopenIn) -> Any:
    """Reopen a won or lost deal (a won deal with payments stays won)."""
    deal = visible_deal(request, deal_id)
    services.reopen_deal(
        actor=request.user,
        deal=deal,
        to_stage=_stage(deal, payload.stage) if payload.stage else None,
        expected_version=payload.version,
        note=payload.note,
    )
    return _fresh(request, deal)


@router.post("/deals/{deal_id}/approve", response={201: ApprovalOut, **ACTION_ERRORS})
def approve_deal(request: HttpRequest, deal_id: Id, payload: ApproveIn) -> Any:
    """A manager (not of their own deal) or an admin approves the deal leaving a stage."""
    deal = visible_deal(request, deal_id)
    approval = services.approve_stage_exit(
        actor=request.user,
        deal=deal,
        stage=_stage(deal, payload.stage) if payload.stage else None,
        note=payload.note,
    )
    return Status(
        201,
        {
            "id": approval.pk,
            "stage": approval.stage.key,
            "approved_by": approval.approved_by.username,
            "at": approval.at,
            "note": approval.note,
        },
    )


@router.post("/deals/{deal_id}/override", response={200: MoveOut, **ACTION_ERRORS})
def override_deal(request: HttpRequest, deal_id: Id, payload: OverrideIn) -> Any:
    """A forced move (managers and admins): to an open stage or ``won`` past unmet exit
    criteria, with the reason recorded on the event."""
    deal = visible_deal(request, deal_id)
    if not Scope.of(request.user).may_override:
        raise NotAllowed(_("Only a manager or an administrator may override exit criteria."))
    if not payload.reason.strip():
        raise InvalidInput({"reason": _("Give a reason for the override.")})
    if payload.to == "won":
        result = services.win_deal(
            actor=request.user,
            deal=deal,
            override_reason=payload.reason.strip(),
            expected_version=payload.version,
            note=payload.note,
        )
    else:
        result = services.move_deal(
            actor=request.user,
            deal=deal,
            to_stage=_stage(deal, payload.to),
            override_reason=payload.reason.strip(),
            expected_version=payload.version,
            note=payload.note,
        )
    return _move_out(request, deal, result.overridden)


# ---------------------------------------------------------------------------------------
# Activities, attachments, payments


class ActivityIn(Schema):
    type: Literal[tuple(ActivityType.values)]  # type: ignore[valid-type]
    at: Moment | None = Field(None, description="default: now; never in the future")
    outcome: Literal[tuple(ActivityOutcome.values)] = ""  # type: ignore[valid-type]
    note: Note = ""
    contact_id: Id | None = None


@router.post("/deals/{deal_id}/activities", response={201: ActivityOut, **errors(403, 404)})
def add_activity(request: HttpRequest, deal_id: Id, payload: ActivityIn) -> Any:
    """Log a call, visit, meeting, e-mail, WeChat message or note."""
    deal = visible_deal(request, deal_id)
    activity = log_activity(
        actor=request.user,
        deal=deal,
        type=payload.type,
        at=payload.at,
        outcome=payload.outcome,
        note=payload.note,
        contact=lookup(Contact, "contact_id", _("contact"), pk=payload.contact_id)
        if payload.contact_id
        else None,
    )
    return Status(
        201,
        {
            "id": activity.pk,
            "type": activity.type,
            "at": activity.at,
            "outcome": activity.outcome,
            "note": activity.note,
            "contact_id": activity.contact_id,
            "by": request.user.username,
        },
    )


@router.post(
    "/deals/{deal_id}/attachments",
    response={201: AttachmentOut, **errors(403, 404, 413)},
    summary="Upload an attachment (multipart)",
)
def add_attachment(
    request: HttpRequest,
    deal_id: Id,
    kind: Form[Literal[tuple(AttachmentKind.values)]],  # type: ignore[valid-type]
    file: File[UploadedFile],
) -> Any:
    """Upload a file (``multipart/form-data``: ``kind`` and ``file``), at most
    LOUDOU_MAX_ATTACHMENT_BYTES (413 beyond)."""
    deal = visible_deal(request, deal_id)
    if file.size is not None and file.size > settings.LOUDOU_MAX_ATTACHMENT_BYTES:
        raise HttpError(413, _("The file is too large."))
    attachment = services.attach_file(actor=request.user, deal=deal, kind=kind, file=file)
    return Status(201, attachment_out(attachment))


@router.get(
    "/deals/{deal_id}/attachments/{attachment_id}/file",
    response={200: None, **errors(404)},
    openapi_extra={
        "responses": {200: {"description": "The file", "content": {"application/octet-stream": {}}}}
    },
)
def download_attachment(request: HttpRequest, deal_id: Id, attachment_id: Id) -> Any:
    """The attachment's file."""
    deal = visible_deal(request, deal_id)
    attachment = get_or_404(Attachment.objects, pk=attachment_id, deal=deal)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise NotFound(_("The file is missing.")) from exc
    return FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.name,
        content_type="application/octet-stream",
    )


class PaymentIn(Schema):
    amount: Amount
    paid_on: Day
    note: text(200) = ""


@router.post("/deals/{deal_id}/payments", response={201: PaymentOut, **errors(403, 404)})
def add_payment(request: HttpRequest, deal_id: Id, payload: PaymentIn) -> Any:
    """Record a payment collected against a won deal (never more than its amount)."""
    deal = visible_deal(request, deal_id)
    payment = services.record_payment(
        actor=request.user,
        deal=deal,
        amount=payload.amount,
        paid_on=payload.paid_on,
        note=payload.note,
    )
    return Status(
        201, payment_out(Payment.objects.select_related("recorded_by").get(pk=payment.pk))
    )


class LostReasonOut(Schema):
    key: str
    name_zh: str
    name_en: str
    active: bool


@router.get("/lost-reasons", response={200: list[LostReasonOut], **errors()})
def lost_reasons(request: HttpRequest) -> Any:
    """Why deals are lost: the keys ``lose`` takes."""
    return list(LostReason.objects.values("key", "name_zh", "name_en", "active"))
