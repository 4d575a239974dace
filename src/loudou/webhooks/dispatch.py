"""From a domain event to signed HTTP deliveries, outside the user's request.

``on_event`` runs after the transaction that caused the event commits: it snapshots the
event's payload (so that every retry sends the same body) and enqueues one task; if no
active webhook wants the event it does nothing but one query. The task records one
delivery per subscription and sends each in its own task; a failed attempt is retried
with exponential backoff, and every attempt is recorded."""

import datetime as dt
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from loudou.deals.models import Deal, Payment, StageEvent
from loudou.jobs.queue import enqueue_on_commit
from loudou.people.models import User

from .models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription
from .signing import HEADER, sign

logger = logging.getLogger("loudou.webhooks")

MAX_ATTEMPTS = 6


def retry_delay(attempts: int) -> dt.timedelta:
    """After the ``attempts``-th failure: base × 2^(attempts-1) (30 s, 1, 2, 4, 8 min)."""
    return dt.timedelta(seconds=settings.LOUDOU_WEBHOOK_RETRY_SECONDS * 2 ** (attempts - 1))


def subscribed(name: str) -> list[WebhookSubscription]:
    # JSON "contains" is not on every database: the list is short, filter it here.
    return [s for s in WebhookSubscription.objects.filter(active=True) if name in s.events]


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def deal_summary(deal: Deal) -> dict[str, Any]:
    return {
        "id": deal.pk,
        "name": deal.name,
        "version": deal.version,
        "pipeline": deal.pipeline.key,
        "stage": deal.stage.key,
        "status": deal.status,
        "owner": deal.owner.username,
        "team": deal.team.name if deal.team else None,
        "account": deal.account.name if deal.account else None,
        "amount": _money(deal.amount),
        "currency": deal.currency,
        "expected_close_date": deal.expected_close_date.isoformat()
        if deal.expected_close_date
        else None,
        "lost_reason": deal.lost_reason.key if deal.lost_reason else None,
        "closed_at": deal.closed_at.isoformat() if deal.closed_at else None,
    }


def payload(name: str, data: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of event ``name`` (what the deal is now, who did it, what changed)."""
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "event": name,
        "occurred_at": timezone.now().isoformat(),
        "data": {},
    }
    out = body["data"]
    if data.get("deal_id"):
        deal = (
            Deal.objects.select_related(
                "owner", "team", "stage", "pipeline", "account", "lost_reason"
            )
            .filter(pk=data["deal_id"])
            .first()
        )
        out["deal"] = deal_summary(deal) if deal else {"id": data["deal_id"]}
    if data.get("actor_id"):
        actor = User.objects.filter(pk=data["actor_id"]).first()
        out["actor"] = actor.username if actor else None
    if data.get("event_id"):
        event = StageEvent.objects.select_related("from_stage", "to_stage").get(pk=data["event_id"])
        out["stage_change"] = {
            "from_stage": event.from_stage.key if event.from_stage else None,
            "to_stage": event.to_stage.key,
            "at": event.at.isoformat(),
            "override_reason": event.override_reason,
            "note": event.note,
        }
    if data.get("payment_id"):
        payment = Payment.objects.get(pk=data["payment_id"])
        out["payment"] = {
            "id": payment.pk,
            "amount": _money(payment.amount),
            "paid_on": payment.paid_on.isoformat(),
        }
    for key in ("fields", "approval"):
        if key in data:
            out[key] = data[key]
    return body


def on_event(name: str, data: dict[str, Any]) -> None:
    """The domain event handler (``core.events``): snapshot and enqueue, nothing slow."""
    if not subscribed(name):
        return
    body = json.dumps(payload(name, data), ensure_ascii=False, separators=(",", ":"))
    enqueue_on_commit(fan_out, name, body)


@task()
def fan_out(name: str, body: str) -> int:
    """One delivery per active subscription to ``name``, each sent by its own task."""
    event_id = json.loads(body)["id"]
    count = 0
    for subscription in subscribed(name):
        delivery = WebhookDelivery.objects.create(
            subscription=subscription, event=name, event_id=event_id, body=body
        )
        # Same transaction as the delivery row: both become visible together.
        deliver.enqueue(delivery.pk)
        count += 1
    return count


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A receiver answers itself; following a redirect would send the body elsewhere.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST ``body``; the status code (an HTTP error's too). Raises on network errors."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=settings.LOUDOU_WEBHOOK_TIMEOUT_SECONDS) as response:
            response.read(65536)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@task()
def deliver(delivery_id: int) -> str:
    """One attempt at a delivery; on failure, the next one is scheduled (backoff) until
    MAX_ATTEMPTS. Never raises: the outcome is in the attempt log."""
    delivery = WebhookDelivery.objects.select_related("subscription").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return "skipped"
    subscription = delivery.subscription
    body = delivery.body.encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Loudou-Webhooks/1",
        "X-Loudou-Event": delivery.event,
        "X-Loudou-Delivery": delivery.event_id,
        HEADER: sign(subscription.secret, body, timestamp),
    }
    started = time.monotonic()
    status_code, error = None, ""
    try:
        status_code = post(subscription.url, body, headers)
    except Exception as exc:  # network errors, timeouts, bad TLS: all retried
        error = f"{type(exc).__name__}: {exc}"[:500]
    duration = int((time.monotonic() - started) * 1000)
    number = delivery.attempts + 1
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=number,
        at=timezone.now(),
        status_code=status_code,
        error=error,
        duration_ms=duration,
    )
    delivery.attempts = number
    if status_code is not None and 200 <= status_code < 300:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.DELIVERED, None
    elif number >= MAX_ATTEMPTS:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        logger.warning(
            "Webhook delivery %s to %s failed %d times", delivery.pk, subscription.url, number
        )
    else:
        delivery.next_attempt_at = timezone.now() + retry_delay(number)
        deliver.using(run_after=delivery.next_attempt_at).enqueue(delivery.pk)
    delivery.save(update_fields=["attempts", "status", "next_attempt_at"])
    return delivery.status
