"""Deal services: the only way to create or change a deal.

Every function takes keyword-only arguments, checks the actor's permissions, runs in one
transaction, and either does all of its work or raises a ``ServiceError`` having changed
nothing. Every stage change appends a ``StageEvent``.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from loudou.accounts.models import Account, Contact
from loudou.core.errors import Conflict, InvalidInput, NotAllowed, ServiceError
from loudou.people.models import Team, User
from loudou.pipelines.models import (
    CustomField,
    FieldType,
    ForecastCategory,
    Pipeline,
    Stage,
    StageKind,
)

from .criteria import UnmetCriterion, unmet_criteria
from .models import (
    Attachment,
    AttachmentKind,
    Deal,
    DealStatus,
    LostReason,
    Payment,
    StageApproval,
    StageEvent,
)


class CriteriaNotMet(ServiceError):
    """The deal does not meet the exit criteria of a stage it would leave."""

    code = "criteria_not_met"

    def __init__(self, unmet: list[UnmetCriterion]) -> None:
        self.unmet = unmet
        super().__init__(
            _("The deal does not meet the exit criteria of the stages it would leave.")
        )


# ---------------------------------------------------------------------------------------
# Visibility and permissions


def managed_team_ids(user: User) -> set[int]:
    """Ids of the teams ``user`` manages (cached on the user object for the request)."""
    cached = getattr(user, "_loudou_managed_team_ids", None)
    if cached is None:
        cached = set(Team.objects.filter(manager=user).values_list("id", flat=True))
        user._loudou_managed_team_ids = cached
    return cached


def deals_visible_to(user: User) -> QuerySet[Deal]:
    """The deals ``user`` may see: an admin all, a manager own and managed teams', a rep own.

    The one query helper every list, report and export starts from."""
    if not user.is_authenticated or not user.is_active:
        return Deal.objects.none()
    if user.is_loudou_admin:
        return Deal.objects.all()
    if user.is_manager:
        return Deal.objects.filter(Q(owner=user) | Q(team__manager=user))
    return Deal.objects.filter(owner=user)


def can_act_on(user: User, deal: Deal) -> bool:
    """True if ``user`` may change ``deal`` (same rule as visibility)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_loudou_admin or deal.owner_id == user.pk:
        return True
    return user.is_manager and deal.team_id is not None and deal.team_id in managed_team_ids(user)


def require_can_act(user: User, deal: Deal) -> None:
    if not can_act_on(user, deal):
        raise NotAllowed(_("You may only change your own deals (managers: their teams' deals)."))


def _require_manager_of(user: User, deal: Deal) -> None:
    require_can_act(user, deal)
    if not (user.is_loudou_admin or user.is_manager):
        raise NotAllowed(_("Only a manager or an administrator may do this."))


def can_own(actor: User, owner: User) -> bool:
    """May ``actor`` make ``owner`` the owner of a deal?"""
    if actor.is_loudou_admin or owner.pk == actor.pk:
        return True
    return (
        actor.is_manager and owner.team_id is not None and owner.team_id in managed_team_ids(actor)
    )


# ---------------------------------------------------------------------------------------
# Helpers


def resolve_time(at: dt.datetime | None) -> dt.datetime:
    now = timezone.now()
    if at is None:
        return now
    if timezone.is_naive(at):
        raise InvalidInput({"at": _("The time must include a time zone.")})
    if at > now + dt.timedelta(minutes=5):
        raise InvalidInput({"at": _("The time cannot be in the future.")})
    return at


def _locked(deal: Deal | int, expected_version: int | None) -> Deal:
    """Re-read the deal under a row lock; refuse if the caller's version is stale."""
    pk = deal.pk if isinstance(deal, Deal) else deal
    try:
        locked = Deal.objects.select_for_update().select_related("stage", "pipeline").get(pk=pk)
    except Deal.DoesNotExist as exc:
        raise InvalidInput({"deal": _("This deal does not exist (any more).")}) from exc
    if expected_version is not None and locked.version != expected_version:
        raise Conflict()
    return locked


def _last_event(deal: Deal) -> StageEvent | None:
    return StageEvent.objects.filter(deal=deal).order_by("-at", "-id").first()


def _check_after_last_event(deal: Deal, at: dt.datetime) -> None:
    last = _last_event(deal)
    if last is not None and at < last.at:
        raise InvalidInput(
            {"at": _("A stage change cannot be dated before the deal's previous stage change.")}
        )


def _append_event(
    *,
    deal: Deal,
    from_stage: Stage | None,
    to_stage: Stage,
    at: dt.datetime,
    by: User | None,
    override_reason: str = "",
    overridden: list[UnmetCriterion] | None = None,
    note: str = "",
) -> StageEvent:
    return StageEvent.objects.create(
        deal=deal,
        from_stage=from_stage,
        to_stage=to_stage,
        at=at,
        by=by,
        override_reason=override_reason,
        overridden=[u.as_dict() for u in overridden or []],
        note=note,
    )


def _refresh(target: Deal | int) -> None:
    """Bring the caller's deal object up to date with what was written."""
    if isinstance(target, Deal):
        target.refresh_from_db()


def _lock_for_transition(
    *, actor: User, deal: Deal | int, expected_version: int | None, at: dt.datetime
) -> Deal:
    """The deal, row-locked, after the checks every stage change shares: permission,
    version, and that ``at`` does not precede the deal's last stage change."""
    locked = _locked(deal, expected_version)
    require_can_act(actor, locked)
    _check_after_last_event(locked, at)
    return locked


def _transition(
    *,
    actor: User,
    deal: Deal | int,
    locked: Deal,
    to_stage: Stage,
    at: dt.datetime,
    note: str = "",
    override_reason: str = "",
    overridden: list[UnmetCriterion] | None = None,
    **fields: Any,
) -> StageEvent:
    """Append the stage-change event and put the deal into ``to_stage`` (plus ``fields``)."""
    event = _append_event(
        deal=locked,
        from_stage=locked.stage,
        to_stage=to_stage,
        at=at,
        by=actor,
        override_reason=override_reason,
        overridden=overridden,
        note=note,
    )
    Deal.objects.filter(pk=locked.pk).update(
        stage=to_stage, stage_entered_at=at, version=F("version") + 1, **fields
    )
    _refresh(deal)
    return event


def _parse_amount(value: Any, field: str = "amount") -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput({field: _("Not a number.")}) from exc
    if not amount.is_finite():
        raise InvalidInput({field: _("Not a number.")})
    if amount < 0:
        raise InvalidInput({field: _("The amount cannot be negative.")})
    return amount.quantize(Decimal("0.01"))


def _clean_custom(values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate custom field values against their definitions; None removes a value."""
    defs = {cf.key: cf for cf in CustomField.objects.filter(key__in=list(values))}
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        cf = defs.get(key)
        if cf is None:
            raise InvalidInput({f"custom.{key}": _("No such custom field.")})
        if value is None or value == "":
            cleaned[key] = None
            continue
        if cf.type == FieldType.NUMBER:
            try:
                number = Decimal(str(value))
            except (InvalidOperation, ValueError) as exc:
                raise InvalidInput({f"custom.{key}": _("Not a number.")}) from exc
            cleaned[key] = int(number) if number == number.to_integral() else float(number)
        elif cf.type == FieldType.BOOLEAN:
            if not isinstance(value, bool):
                raise InvalidInput({f"custom.{key}": _("Must be yes or no.")})
            cleaned[key] = value
        elif cf.type == FieldType.DATE:
            try:
                cleaned[key] = dt.date.fromisoformat(str(value)).isoformat()
            except ValueError as exc:
                raise InvalidInput({f"custom.{key}": _("Not a date (YYYY-MM-DD).")}) from exc
        else:
            cleaned[key] = str(value)
    return cleaned


def _merge_custom(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(current or {})
    for key, value in _clean_custom(changes).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def default_pipeline() -> Pipeline:
    pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
    if pipeline is None:
        raise InvalidInput({"pipeline": _("No pipeline is configured.")})
    return pipeline


def _require_open_stage(stage: Stage, pipeline_id: int) -> None:
    if stage.pipeline_id != pipeline_id or stage.kind != StageKind.OPEN:
        raise InvalidInput({"stage": _("Pick an open stage of the deal's pipeline.")})


def _open_stages(pipeline: Pipeline) -> list[Stage]:
    return list(Stage.objects.filter(pipeline=pipeline, kind=StageKind.OPEN).order_by("position"))


def stages_to_leave(deal: Deal, target: Stage) -> list[Stage]:
    """The open stages whose exit criteria apply when ``deal`` goes to ``target``.

    Forward (or to Won): the current stage and every open stage skipped on the way.
    Backward, sideways or to Lost: none."""
    if deal.status != DealStatus.OPEN or target.kind == StageKind.LOST:
        return []
    stages = _open_stages(deal.pipeline)
    positions = [s.position for s in stages]
    current = deal.stage.position
    if target.kind == StageKind.WON:
        return [s for s in stages if s.position >= current]
    if target.position <= current or target.position not in positions:
        return []
    return [s for s in stages if current <= s.position < target.position]


def check_move(*, deal: Deal, to_stage: Stage) -> list[UnmetCriterion]:
    """The exit criteria ``deal`` does not meet for going to ``to_stage`` (nothing changes)."""
    return unmet_criteria(deal, stages_to_leave(deal, to_stage))


def _apply_criteria(
    *, actor: User, deal: Deal, target: Stage, override_reason: str
) -> tuple[str, list[UnmetCriterion]]:
    """Raise unless the move meets the criteria or is a valid override; return what to record."""
    unmet = check_move(deal=deal, to_stage=target)
    if not unmet:
        return "", []
    reason = (override_reason or "").strip()
    if not reason:
        raise CriteriaNotMet(unmet)
    if not (actor.is_loudou_admin or actor.is_manager):
        raise NotAllowed(_("Only a manager or an administrator may override exit criteria."))
    return reason, unmet


# ---------------------------------------------------------------------------------------
# Use cases


@transaction.atomic
def create_deal(
    *,
    actor: User,
    name: str,
    owner: User | None = None,
    team: Team | None = None,
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    amount: Decimal | str | int | None = None,
    currency: str | None = None,
    expected_close_date: dt.date | None = None,
    account: Account | None = None,
    account_name: str | None = None,
    contact: Contact | None = None,
    source: str = "",
    custom: Mapping[str, Any] | None = None,
    external_id: str | None = None,
    at: dt.datetime | None = None,
) -> Deal:
    """Create a deal and its creation event (``from_stage = null``) into its first stage."""
    at = resolve_time(at)
    owner = owner or actor
    if not can_own(actor, owner):
        raise NotAllowed(_("You may only create deals for yourself (managers: their teams)."))
    name = (name or "").strip()
    if not name:
        raise InvalidInput({"name": _("A deal needs a name.")})
    pipeline = pipeline or (stage.pipeline if stage else default_pipeline())
    if stage is None:
        stages = _open_stages(pipeline)
        stage = stages[0]
    else:
        _require_open_stage(stage, pipeline.pk)
    if account is None and account_name and account_name.strip():
        account = get_or_create_account(name=account_name)
    if contact is not None and (account is None or contact.account_id != account.pk):
        raise InvalidInput({"contact": _("The contact must belong to the deal's account.")})
    if team is None:
        team = owner.team
    elif not actor.is_loudou_admin and team.pk != owner.team_id:
        raise InvalidInput({"team": _("A deal belongs to its owner's team.")})
    deal = Deal.objects.create(
        name=name,
        owner=owner,
        team=team,
        pipeline=pipeline,
        stage=stage,
        stage_entered_at=at,
        amount=_parse_amount(amount),
        currency=(currency or pipeline.currency or settings.LOUDOU_CURRENCY).upper(),
        expected_close_date=expected_close_date,
        account=account,
        contact=contact,
        source=(source or "").strip(),
        custom=_merge_custom({}, custom or {}),
        external_id=external_id or None,
        created_at=at,
        updated_at=at,
    )
    _append_event(deal=deal, from_stage=None, to_stage=stage, at=at, by=actor)
    return deal


def get_or_create_account(*, name: str) -> Account:
    """The account with this name (case-insensitive), created if new."""
    name = name.strip()
    account = Account.objects.filter(name__iexact=name).first()
    return account or Account.objects.create(name=name)


UPDATABLE_FIELDS = (
    "name",
    "owner",
    "team",
    "account",
    "contact",
    "amount",
    "currency",
    "expected_close_date",
    "source",
    "forecast_category",
    "custom",
    "external_id",
)


@transaction.atomic
def update_deal(
    *,
    actor: User,
    deal: Deal,
    expected_version: int,
    changes: Mapping[str, Any],
    at: dt.datetime | None = None,
) -> Deal:
    """Change a deal's fields. Refuses with ``Conflict`` if ``expected_version`` is stale,
    so two people editing the same deal never silently overwrite each other."""
    at = resolve_time(at)
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise InvalidInput({k: _("This field cannot be changed here.") for k in sorted(unknown)})
    current = Deal.objects.select_related("owner").get(pk=deal.pk)
    require_can_act(actor, current)
    values: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "name":
            value = (value or "").strip()
            if not value:
                raise InvalidInput({"name": _("A deal needs a name.")})
        elif key == "amount":
            value = _parse_amount(value)
        elif key == "currency":
            value = (value or "").strip().upper()
            if len(value) != 3:
                raise InvalidInput({"currency": _("Use a three-letter currency code.")})
        elif key == "owner":
            if not isinstance(value, User) or not can_own(actor, value):
                raise NotAllowed(_("You may not give this deal to that owner."))
            if value.pk != current.owner_id and not (actor.is_manager or actor.is_loudou_admin):
                raise NotAllowed(_("Only a manager or an administrator may reassign deals."))
            values["team"] = changes.get("team", value.team)
        elif key == "team" and not actor.is_loudou_admin:
            owner = changes.get("owner", current.owner)
            if value is not None and value.pk != owner.team_id:
                raise InvalidInput({"team": _("A deal belongs to its owner's team.")})
        elif key == "forecast_category":
            value = value or ""
            if value and value not in (
                ForecastCategory.PIPELINE,
                ForecastCategory.BEST_CASE,
                ForecastCategory.COMMIT,
                ForecastCategory.OMITTED,
            ):
                raise InvalidInput({"forecast_category": _("Not a forecast category.")})
        elif key == "custom":
            value = _merge_custom(current.custom, value or {})
        elif key == "source":
            value = (value or "").strip()
        elif key == "external_id":
            value = value or None
        values[key] = value
    account = values.get("account", current.account)
    contact = values.get("contact", current.contact)
    if contact is not None and (account is None or contact.account_id != account.pk):
        raise InvalidInput({"contact": _("The contact must belong to the deal's account.")})
    if (
        "account" in values
        and "contact" not in values
        and contact is not None
        and (account is None or contact.account_id != account.pk)
    ):
        values["contact"] = None
    # Compare-and-set on version: the UPDATE only matches if nobody wrote in between.
    written = Deal.objects.filter(pk=deal.pk, version=expected_version).update(
        **values, version=F("version") + 1, updated_at=max(at, current.created_at)
    )
    if written == 0:
        raise Conflict()
    deal.refresh_from_db()
    return deal


@dataclass(frozen=True)
class MoveResult:
    event: StageEvent
    overridden: list[UnmetCriterion]


@transaction.atomic
def move_deal(
    *,
    actor: User,
    deal: Deal,
    to_stage: Stage,
    override_reason: str = "",
    expected_version: int | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> MoveResult:
    """Move an open deal to another open stage of its pipeline.

    Forward moves must meet the exit criteria of every stage left (the current one and
    any skipped); otherwise nothing changes and ``CriteriaNotMet`` lists every unmet
    criterion. A manager or admin may override with a reason, which the event records.
    Backward moves are allowed and recorded."""
    at = resolve_time(at)
    locked = _lock_for_transition(actor=actor, deal=deal, expected_version=expected_version, at=at)
    if locked.status != DealStatus.OPEN:
        raise InvalidInput({"stage": _("This deal is closed; reopen it first.")})
    _require_open_stage(to_stage, locked.pipeline_id)
    if to_stage.pk == locked.stage_id:
        raise InvalidInput({"stage": _("The deal is already in this stage.")})
    reason, overridden = _apply_criteria(
        actor=actor, deal=locked, target=to_stage, override_reason=override_reason
    )
    event = _transition(
        actor=actor,
        deal=deal,
        locked=locked,
        to_stage=to_stage,
        at=at,
        note=note,
        override_reason=reason,
        overridden=overridden,
    )
    return MoveResult(event=event, overridden=overridden)


@transaction.atomic
def win_deal(
    *,
    actor: User,
    deal: Deal,
    override_reason: str = "",
    expected_version: int | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> MoveResult:
    """Close a deal as won (签约成单). The exit criteria of the current stage and every
    later open stage apply, as for any forward move."""
    at = resolve_time(at)
    locked = _lock_for_transition(actor=actor, deal=deal, expected_version=expected_version, at=at)
    if locked.status != DealStatus.OPEN:
        raise InvalidInput({"status": _("This deal is already closed.")})
    won = locked.pipeline.outcome(StageKind.WON)
    reason, overridden = _apply_criteria(
        actor=actor, deal=locked, target=won, override_reason=override_reason
    )
    event = _transition(
        actor=actor,
        deal=deal,
        locked=locked,
        to_stage=won,
        at=at,
        note=note,
        override_reason=reason,
        overridden=overridden,
        status=DealStatus.WON,
        closed_at=at,
    )
    return MoveResult(event=event, overridden=overridden)


@transaction.atomic
def lose_deal(
    *,
    actor: User,
    deal: Deal,
    reason: LostReason | None,
    note: str = "",
    expected_version: int | None = None,
    at: dt.datetime | None = None,
) -> StageEvent:
    """Close a deal as lost (输单) from the stage it is in. A lost reason is required."""
    at = resolve_time(at)
    locked = _lock_for_transition(actor=actor, deal=deal, expected_version=expected_version, at=at)
    if locked.status != DealStatus.OPEN:
        raise InvalidInput({"status": _("This deal is already closed.")})
    if reason is None:
        raise InvalidInput({"lost_reason": _("Choose why the deal was lost.")})
    return _transition(
        actor=actor,
        deal=deal,
        locked=locked,
        to_stage=locked.pipeline.outcome(StageKind.LOST),
        at=at,
        note=note,
        status=DealStatus.LOST,
        closed_at=at,
        lost_reason=reason,
        lost_note=note,
    )


@transaction.atomic
def reopen_deal(
    *,
    actor: User,
    deal: Deal,
    to_stage: Stage | None = None,
    note: str = "",
    expected_version: int | None = None,
    at: dt.datetime | None = None,
) -> StageEvent:
    """Reopen a won or lost deal into an open stage (by default the one it closed from).
    A won deal with payments recorded cannot be reopened."""
    at = resolve_time(at)
    locked = _lock_for_transition(actor=actor, deal=deal, expected_version=expected_version, at=at)
    if locked.status == DealStatus.OPEN:
        raise InvalidInput({"status": _("This deal is open already.")})
    if locked.status == DealStatus.WON and Payment.objects.filter(deal=locked).exists():
        raise InvalidInput({"status": _("Payments are recorded on this deal; it stays won.")})
    if to_stage is None:
        last = _last_event(locked)
        to_stage = last.from_stage if last and last.from_stage else _open_stages(locked.pipeline)[0]
    _require_open_stage(to_stage, locked.pipeline_id)
    return _transition(
        actor=actor,
        deal=deal,
        locked=locked,
        to_stage=to_stage,
        at=at,
        note=note,
        status=DealStatus.OPEN,
        closed_at=None,
        lost_reason=None,
        lost_note="",
    )


@transaction.atomic
def approve_stage_exit(
    *,
    actor: User,
    deal: Deal,
    stage: Stage | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> StageApproval:
    """A manager (or admin) approves the deal leaving ``stage`` (default: its current one).
    Managers cannot approve their own deals; an admin can."""
    at = resolve_time(at)
    _require_manager_of(actor, deal)
    if deal.owner_id == actor.pk and not actor.is_loudou_admin:
        raise NotAllowed(_("You cannot approve your own deal; ask another manager."))
    if deal.status != DealStatus.OPEN:
        raise InvalidInput({"status": _("This deal is closed.")})
    stage = stage or deal.stage
    _require_open_stage(stage, deal.pipeline_id)
    return StageApproval.objects.create(
        deal=deal, stage=stage, approved_by=actor, at=at, note=note.strip()
    )


@transaction.atomic
def attach_file(
    *,
    actor: User,
    deal: Deal,
    kind: str,
    file: File,
    name: str | None = None,
    at: dt.datetime | None = None,
) -> Attachment:
    """Upload a file of a kind (quote, contract, ...) to a deal."""
    at = resolve_time(at)
    require_can_act(actor, deal)
    if kind not in AttachmentKind.values:
        raise InvalidInput({"kind": _("Not an attachment kind.")})
    size = getattr(file, "size", None) or 0
    if size > settings.LOUDOU_MAX_ATTACHMENT_BYTES:
        raise InvalidInput({"file": _("The file is too large.")})
    filename = (name or getattr(file, "name", "") or "").rsplit("/", 1)[-1].strip()
    if not filename:
        raise InvalidInput({"file": _("The file needs a name.")})
    attachment = Attachment(
        deal=deal, kind=kind, name=filename, size=size, uploaded_by=actor, uploaded_at=at
    )
    attachment.file.save(filename, file, save=False)
    try:
        attachment.save()
    except Exception:
        # Do not leave an orphan file behind when the row cannot be written.
        attachment.file.delete(save=False)
        raise
    return attachment


@transaction.atomic
def record_payment(
    *,
    actor: User,
    deal: Deal,
    amount: Decimal | str | int,
    paid_on: dt.date,
    note: str = "",
) -> Payment:
    """Record a payment collected (回款) against a won deal. The total paid may not exceed
    the won amount."""
    locked = _locked(deal, None)
    require_can_act(actor, locked)
    if locked.status != DealStatus.WON:
        raise InvalidInput({"deal": _("Payments are recorded against won deals only.")})
    value = _parse_amount(amount)
    if value is None or value <= 0:
        raise InvalidInput({"amount": _("A payment must be more than zero.")})
    if paid_on > timezone.localdate():
        raise InvalidInput({"paid_on": _("The payment date cannot be in the future.")})
    paid = Payment.objects.filter(deal=locked).aggregate(s=Sum("amount"))["s"] or Decimal(0)
    if locked.amount is not None and paid + value > locked.amount:
        raise InvalidInput(
            {
                "amount": _("Payments would exceed the deal's amount (%(left)s left to collect).")
                % {"left": locked.amount - paid}
            }
        )
    return Payment.objects.create(
        deal=locked, amount=value, paid_on=paid_on, note=note.strip(), recorded_by=actor
    )
