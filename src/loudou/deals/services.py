"""Deal services: the only way to create or change a deal one at a time.

Every function takes keyword-only arguments, checks the actor's permissions (the actor's
``people.access.Scope``), runs in one transaction, and either does all of its work or
raises a ``ServiceError`` having changed nothing. Every stage change goes through
``_change_stage`` (or creation): ``deals.rules`` classifies it, says what it requires and
what the deal becomes, and a ``StageEvent`` is appended.
"""

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from loudou.accounts.models import Account, Contact
from loudou.core import events
from loudou.core.errors import Conflict, InvalidInput, NotAllowed
from loudou.people.access import Scope
from loudou.people.models import Team, User
from loudou.pipelines.models import (
    ForecastCategory,
    Pipeline,
    Stage,
    StageKind,
)

from . import rules
from .criteria import UnmetCriterion
from .guards import (
    can_act_on,
    check_after_last_event,
    deals_visible_to,
    lock_deal,
    require_can_act,
    resolve_time,
)
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
from .rules import CriteriaNotMet
from .values import merge_custom, parse_amount

# Raised or used by callers of the services; defined beside the rules and guards.
__all__ = ["CriteriaNotMet", "can_act_on", "deals_visible_to", "require_can_act", "resolve_time"]


def _append_event(
    *,
    deal: Deal,
    from_stage: Stage | None,
    to_stage: Stage,
    at: dt.datetime,
    by: User | None,
    override: rules.Override,
    note: str = "",
) -> StageEvent:
    return StageEvent.objects.create(
        deal=deal,
        from_stage=from_stage,
        to_stage=to_stage,
        at=at,
        by=by,
        override_reason=override.reason,
        overridden=[u.as_dict() for u in override.overridden],
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
    locked = lock_deal(deal, expected_version)
    require_can_act(actor, locked)
    check_after_last_event(locked, at)
    return locked


def _transition(
    *,
    actor: User,
    deal: Deal | int,
    locked: Deal,
    change: rules.Transition,
    at: dt.datetime,
    override: rules.Override,
    note: str = "",
    **fields: Any,
) -> StageEvent:
    """Append the stage-change event and put the deal where ``change`` leads (the fields
    ``rules.state_after`` gives, plus ``fields``)."""
    event = _append_event(
        deal=locked,
        from_stage=locked.stage,
        to_stage=change.to_stage,
        at=at,
        by=actor,
        override=override,
        note=note,
    )
    state = rules.state_after(change.to_stage, at) | fields
    Deal.objects.filter(pk=locked.pk).update(**state, version=F("version") + 1)
    _refresh(deal)
    data = {"deal_id": locked.pk, "actor_id": actor.pk, "event_id": event.pk}
    events.emit("deal.stage_changed", **data)
    if change.kind == rules.Kind.WIN:
        events.emit("deal.won", **data)
    elif change.kind == rules.Kind.LOSE:
        events.emit("deal.lost", **data)
    return event


def default_pipeline() -> Pipeline:
    pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
    if pipeline is None:
        raise InvalidInput({"pipeline": _("No pipeline is configured.")})
    return pipeline


def check_move(*, deal: Deal, to_stage: Stage) -> list[UnmetCriterion]:
    """The exit criteria ``deal`` does not meet for going to ``to_stage`` (nothing changes;
    for pages that show what is missing)."""
    return rules.unmet(rules.transition(deal=deal, to_stage=to_stage), deal)


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
    override_reason: str = "",
    at: dt.datetime | None = None,
) -> Deal:
    """Create a deal and its creation event (``from_stage = null``) into ``stage`` (by
    default the first). Creating in a later stage is a forward move from the first one
    (``rules.creation``): what is given must meet the criteria of every earlier stage, or a
    manager overrides them with a reason, which the creation event records."""
    at = resolve_time(at)
    scope = Scope.of(actor)
    owner = owner or actor
    if not scope.can_own(owner):
        raise NotAllowed(_("You may only create deals for yourself (managers: their teams)."))
    name = (name or "").strip()
    if not name:
        raise InvalidInput({"name": _("A deal needs a name.")})
    pipeline = pipeline or (stage.pipeline if stage else default_pipeline())
    if stage is None:
        stage = rules.open_stages(pipeline.pk)[0]
    change = rules.creation(pipeline_id=pipeline.pk, stage=stage)
    if account is None and account_name and account_name.strip():
        account = get_or_create_account(name=account_name)
    if contact is not None and (account is None or contact.account_id != account.pk):
        raise InvalidInput({"contact": _("The contact must belong to the deal's account.")})
    team = owner.team if team is None else team
    if not scope.can_place(owner=owner, team=team):
        raise InvalidInput({"team": _("A deal belongs to its owner's team.")})
    deal = Deal(
        name=name,
        owner=owner,
        team=team,
        pipeline=pipeline,
        stage=stage,
        stage_entered_at=at,
        amount=parse_amount(amount),
        currency=(currency or pipeline.currency or settings.LOUDOU_CURRENCY).upper(),
        expected_close_date=expected_close_date,
        account=account,
        contact=contact,
        source=(source or "").strip(),
        custom=merge_custom({}, custom or {}),
        external_id=external_id or None,
        created_at=at,
        updated_at=at,
    )
    override = rules.require(scope=scope, change=change, deal=deal, override_reason=override_reason)
    deal.save(force_insert=True)
    _append_event(deal=deal, from_stage=None, to_stage=stage, at=at, by=actor, override=override)
    events.emit("deal.created", deal_id=deal.pk, actor_id=actor.pk)
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
    scope = Scope.of(actor)
    require_can_act(actor, current)
    values: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "name":
            value = (value or "").strip()
            if not value:
                raise InvalidInput({"name": _("A deal needs a name.")})
        elif key == "amount":
            value = parse_amount(value)
        elif key == "currency":
            value = (value or "").strip().upper()
            if len(value) != 3:
                raise InvalidInput({"currency": _("Use a three-letter currency code.")})
        elif key == "owner":
            if not isinstance(value, User) or not scope.can_own(value):
                raise NotAllowed(_("You may not give this deal to that owner."))
            if value.pk != current.owner_id and not scope.may_reassign:
                raise NotAllowed(_("Only a manager or an administrator may reassign deals."))
            values["team"] = changes.get("team", value.team)
        elif key == "team":
            owner = changes.get("owner", current.owner)
            if not scope.can_place(owner=owner, team=value):
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
            value = merge_custom(current.custom, value or {})
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
    events.emit("deal.updated", deal_id=deal.pk, actor_id=actor.pk, fields=sorted(values))
    return deal


@dataclass(frozen=True)
class MoveResult:
    event: StageEvent
    overridden: list[UnmetCriterion]


def _change_stage(
    *,
    actor: User,
    deal: Deal,
    to_stage: Stage | Callable[[Deal], Stage],
    kinds: tuple[rules.Kind, ...],
    refused: dict[str, Any],
    override_reason: str = "",
    expected_version: int | None = None,
    note: str = "",
    at: dt.datetime | None = None,
    **fields: Any,
) -> MoveResult:
    """The one way a deal changes stage: lock it, let ``rules`` classify and check the
    change (one of ``kinds``, else ``refused``), append the event, set the state.
    ``to_stage`` may be a function of the locked deal (its outcome stage, or where it
    closed from)."""
    at = resolve_time(at)
    locked = _lock_for_transition(actor=actor, deal=deal, expected_version=expected_version, at=at)
    if (rules.Kind.REOPEN in kinds) == (locked.status == DealStatus.OPEN):
        raise InvalidInput(refused)
    target = to_stage(locked) if callable(to_stage) else to_stage
    change = rules.transition(deal=locked, to_stage=target)
    if change.kind not in kinds:
        raise InvalidInput(refused)
    if change.kind == rules.Kind.REOPEN:
        rules.check_reopen(locked)
    override = rules.require(
        scope=Scope.of(actor), change=change, deal=locked, override_reason=override_reason
    )
    event = _transition(
        actor=actor,
        deal=deal,
        locked=locked,
        change=change,
        at=at,
        override=override,
        note=note,
        **fields,
    )
    return MoveResult(event=event, overridden=list(override.overridden))


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
    if to_stage.kind != StageKind.OPEN:
        raise InvalidInput({"stage": _("Pick an open stage of the deal's pipeline.")})
    return _change_stage(
        actor=actor,
        deal=deal,
        to_stage=to_stage,
        kinds=(rules.Kind.FORWARD, rules.Kind.BACKWARD),
        refused={"stage": _("This deal is closed; reopen it first.")},
        override_reason=override_reason,
        expected_version=expected_version,
        note=note,
        at=at,
    )


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
    return _change_stage(
        actor=actor,
        deal=deal,
        to_stage=lambda locked: locked.pipeline.outcome(StageKind.WON),
        kinds=(rules.Kind.WIN,),
        refused={"status": _("This deal is already closed.")},
        override_reason=override_reason,
        expected_version=expected_version,
        note=note,
        at=at,
    )


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
    if reason is None:
        raise InvalidInput({"lost_reason": _("Choose why the deal was lost.")})
    return _change_stage(
        actor=actor,
        deal=deal,
        to_stage=lambda locked: locked.pipeline.outcome(StageKind.LOST),
        kinds=(rules.Kind.LOSE,),
        refused={"status": _("This deal is already closed.")},
        expected_version=expected_version,
        note=note,
        at=at,
        lost_reason=reason,
        lost_note=note,
    ).event


def _closed_from(locked: Deal) -> Stage:
    origin, _entered = rules.closed_from(locked)
    return origin or rules.open_stages(locked.pipeline_id)[0]


@transaction.atomic
def reopen_deal(
    *,
    actor: User,
    deal: Deal,
    to_stage: Stage | None = None,
    override_reason: str = "",
    note: str = "",
    expected_version: int | None = None,
    at: dt.datetime | None = None,
) -> StageEvent:
    """Reopen a won or lost deal into an open stage: by default, and without conditions,
    the one it closed from or an earlier one. A later stage is a forward move from the
    stage it closed from, with the same criteria (or a manager's override). A won deal
    with payments recorded cannot be reopened."""
    if to_stage is not None and to_stage.kind != StageKind.OPEN:
        raise InvalidInput({"stage": _("Pick an open stage of the deal's pipeline.")})
    return _change_stage(
        actor=actor,
        deal=deal,
        to_stage=to_stage or _closed_from,
        kinds=(rules.Kind.REOPEN,),
        refused={"status": _("This deal is open already.")},
        override_reason=override_reason,
        expected_version=expected_version,
        note=note,
        at=at,
    ).event


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
    scope = Scope.of(actor)
    require_can_act(actor, deal)
    if not scope.may_override:
        raise NotAllowed(_("Only a manager or an administrator may do this."))
    if deal.owner_id == actor.pk and not scope.everything:
        raise NotAllowed(_("You cannot approve your own deal; ask another manager."))
    if deal.status != DealStatus.OPEN:
        raise InvalidInput({"status": _("This deal is closed.")})
    stage = stage or deal.stage
    rules.require_open_stage(stage, deal.pipeline_id)
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
    locked = lock_deal(deal, None)
    require_can_act(actor, locked)
    if locked.status != DealStatus.WON:
        raise InvalidInput({"deal": _("Payments are recorded against won deals only.")})
    value = parse_amount(amount)
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
    payment = Payment.objects.create(
        deal=locked, amount=value, paid_on=paid_on, note=note.strip(), recorded_by=actor
    )
    events.emit("payment.recorded", deal_id=locked.pk, actor_id=actor.pk, payment_id=payment.pk)
    return payment
