"""From a deal event to deliveries: webhook subscribers get the event as JSON; team
channels get won deals and approval requests. Runs in the worker (``tasks.dispatch``),
never in the user's request."""

import datetime as dt
import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from loudou.deals.models import Deal, DealStatus, Payment, StageEvent
from loudou.people.models import User
from loudou.pipelines.models import StageKind

from . import delivery, messages
from .models import ApprovalNotice, Channel, MessageKind, Subscription

# Events after which a deal may have come to wait for nothing but an approval.
MAY_AWAIT_APPROVAL = ("deal.created", "deal.updated", "deal.stage_changed")


def deal_json(deal: Deal) -> dict[str, Any]:
    """A deal as webhooks carry it."""
    return {
        "id": deal.pk,
        "name": deal.name,
        "version": deal.version,
        "status": deal.status,
        "pipeline": deal.pipeline.key,
        "stage": {
            "key": deal.stage.key,
            "name_zh": deal.stage.name_zh,
            "name_en": deal.stage.name_en,
        },
        "stage_entered_at": deal.stage_entered_at.isoformat(),
        "owner": {"id": deal.owner_id, "username": deal.owner.username, "name": str(deal.owner)},
        "team": {"id": deal.team_id, "name": deal.team.name} if deal.team_id else None,
        "account": deal.account.name if deal.account_id else None,
        "amount": None if deal.amount is None else str(deal.amount),
        "currency": deal.currency,
        "expected_close_date": (
            deal.expected_close_date.isoformat() if deal.expected_close_date else None
        ),
        "source": deal.source,
        "external_id": deal.external_id,
        "created_at": deal.created_at.isoformat(),
        "closed_at": deal.closed_at.isoformat() if deal.closed_at else None,
        "lost_reason": deal.lost_reason.key if deal.lost_reason_id else None,
    }


def _load(deal_id: int) -> Deal | None:
    return (
        Deal.objects.select_related("stage", "owner", "team", "pipeline", "account", "lost_reason")
        .filter(pk=deal_id)
        .first()
    )


def _change_kind(event: StageEvent) -> str:
    """create, forward, backward, win, lose or reopen (the names of ``deals.rules.Kind``)."""
    before, after = event.from_stage, event.to_stage
    if after.kind == StageKind.WON:
        return "win"
    if after.kind == StageKind.LOST:
        return "lose"
    if before is None:
        return "create"
    if before.kind != StageKind.OPEN:
        return "reopen"
    return "forward" if after.position > before.position else "backward"


def event_data(deal: Deal, data: dict[str, Any]) -> dict[str, Any]:
    """What the event's ids stand for, as webhooks carry it: the stages of a stage
    change, the amount and date of a payment."""
    data = dict(data)
    event_id = data.get("event_id")
    if event_id:
        stage_event = (
            StageEvent.objects.select_related("from_stage", "to_stage")
            .filter(pk=event_id, deal=deal)
            .first()
        )
        if stage_event is not None:
            data["from_stage"] = stage_event.from_stage.key if stage_event.from_stage else None
            data["to_stage"] = stage_event.to_stage.key
            data["kind"] = _change_kind(stage_event)
    payment_id = data.get("payment_id")
    if payment_id:
        payment = Payment.objects.filter(pk=payment_id, deal=deal).first()
        if payment is not None:
            data["amount"] = str(payment.amount)
            data["paid_on"] = payment.paid_on.isoformat()
    return data


def event_payload(
    event: str, deal: Deal, actor_id: int | None, data: dict[str, Any], at: dt.datetime
) -> dict[str, Any]:
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    return {
        "id": str(uuid.uuid4()),
        "event": event,
        "occurred_at": at.isoformat(),
        "actor": {"id": actor.pk, "username": actor.username} if actor else None,
        "deal": deal_json(deal),
        "data": event_data(deal, data),
    }


def to_subscribers(
    event: str, deal: Deal, actor_id: int | None, data: dict[str, Any], at: dt.datetime
) -> int:
    """Queue the event for every active subscription that wants it; how many."""
    wanted = [s for s in Subscription.objects.filter(active=True) if s.wants(event)]
    if not wanted:
        return 0
    body = event_payload(event, deal, actor_id, data, at)
    message = messages.Message(kind="event", title=f"{event} {deal.name}"[:200])
    for subscription in wanted:
        delivery.queue(
            kind=MessageKind.EVENT,
            message=message,
            subscription=subscription,
            event=event,
            payload=body,
            enqueue="now",
        )
    return len(wanted)


def to_channels(kind: str, deal: Deal) -> int:
    """Queue a won or approval message to the deal's team's channels that take it."""
    if deal.team_id is None:
        return 0
    flag = {"won": "send_won", "approval": "send_approvals"}[kind]
    build = {"won": messages.won, "approval": messages.approval_request}[kind]
    count = 0
    for channel in Channel.objects.filter(team_id=deal.team_id, active=True, **{flag: True}):
        delivery.queue(
            kind=kind, message=build(deal, channel.language), channel=channel, enqueue="now"
        )
        count += 1
    return count


def _first_notice(deal: Deal) -> bool:
    """Record that the deal's wait in this stay was announced; False if it already was."""
    try:
        with transaction.atomic():
            ApprovalNotice.objects.create(
                deal=deal, stage=deal.stage, entered_at=deal.stage_entered_at
            )
    except IntegrityError:
        return False
    return True


def dispatch(
    event: str, deal_id: int, actor_id: int | None, data: dict[str, Any], at: dt.datetime | None
) -> None:
    """Turn one deal event into its deliveries."""
    at = at or timezone.now()
    deal = _load(deal_id)
    if deal is None:  # deleted since
        return
    with transaction.atomic():
        to_subscribers(event, deal, actor_id, data, at)
        if event == "deal.won" and deal.status == DealStatus.WON:
            to_channels("won", deal)
        if event == "approval.requested":  # asked for explicitly (a request service)
            if deal.status == DealStatus.OPEN and _first_notice(deal):
                to_channels("approval", deal)
        elif (
            event in MAY_AWAIT_APPROVAL
            and messages.waiting_for_approval(deal)
            and _first_notice(deal)
        ):
            # A deal that comes to wait for nothing but an approval is an approval
            # request, announced once per stay in the stage.
            to_subscribers("approval.requested", deal, actor_id, {"stage": deal.stage.key}, at)
            to_channels("approval", deal)


def listening(event: str) -> bool:
    """Is anything configured that could want ``event``? (One cheap query in the user's
    request, so that no task is queued when nothing listens.)"""
    if Subscription.objects.filter(active=True).exists():
        return True
    if event in ("deal.won", "approval.requested", *MAY_AWAIT_APPROVAL):
        return Channel.objects.filter(active=True).exists()
    return False
