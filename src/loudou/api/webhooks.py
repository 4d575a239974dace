"""Webhook subscriptions and their delivery log, for administrators."""

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from loudou.core.events import EVENTS
from loudou.webhooks import services
from loudou.webhooks.models import WebhookDelivery, WebhookSubscription

from .common import errors, get_or_404, require_admin
from .inputs import Id, text

router = Router(tags=["webhooks"])

Event = Literal[EVENTS]  # type: ignore[valid-type]


class WebhookOut(Schema):
    id: int
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: dt.datetime


class NewWebhookOut(WebhookOut):
    secret: str = Field(description="signs every delivery (X-Loudou-Signature)")


class WebhookIn(Schema):
    url: text(500)
    events: list[Event] = Field(min_length=1, max_length=len(EVENTS))
    description: text(200) = ""


class WebhookPatch(Schema):
    url: text(500) | None = None
    events: list[Event] | None = Field(None, min_length=1, max_length=len(EVENTS))
    description: text(200) | None = None
    active: bool | None = None


class AttemptOut(Schema):
    number: int
    at: dt.datetime
    status_code: int | None
    error: str
    duration_ms: int


class DeliveryOut(Schema):
    id: int
    event: str
    event_id: str
    status: str
    attempts: int
    created_at: dt.datetime
    next_attempt_at: dt.datetime | None
    attempt_log: list[AttemptOut]


def webhook_out(w: WebhookSubscription) -> dict[str, Any]:
    return {
        "id": w.pk,
        "url": w.url,
        "events": w.events,
        "description": w.description,
        "active": w.active,
        "created_at": w.created_at,
    }


@router.get("/webhooks", response={200: list[WebhookOut], **errors(403)})
def list_webhooks(request: HttpRequest) -> Any:
    """Every subscription (admins)."""
    require_admin(request.user)
    return [webhook_out(w) for w in WebhookSubscription.objects.all()]


@router.post("/webhooks", response={201: NewWebhookOut, **errors(403)})
def create_webhook(request: HttpRequest, payload: WebhookIn) -> Any:
    """Subscribe a URL to events (admins). The signing secret is in the answer."""
    hook = services.subscribe(
        actor=request.user,
        url=payload.url,
        events=payload.events,
        description=payload.description,
    )
    return Status(201, {**webhook_out(hook), "secret": hook.secret})


@router.patch("/webhooks/{webhook_id}", response={200: WebhookOut, **errors(403, 404)})
def update_webhook(request: HttpRequest, webhook_id: Id, payload: WebhookPatch) -> Any:
    require_admin(request.user)
    hook = get_or_404(WebhookSubscription.objects, pk=webhook_id)
    changes = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    return webhook_out(
        services.update_subscription(actor=request.user, subscription=hook, **changes)
    )


@router.delete("/webhooks/{webhook_id}", response={204: None, **errors(403, 404)})
def delete_webhook(request: HttpRequest, webhook_id: Id) -> Any:
    require_admin(request.user)
    hook = get_or_404(WebhookSubscription.objects, pk=webhook_id)
    services.unsubscribe(actor=request.user, subscription=hook)
    return Status(204, None)


@router.get(
    "/webhooks/{webhook_id}/deliveries", response={200: list[DeliveryOut], **errors(403, 404)}
)
def list_deliveries(request: HttpRequest, webhook_id: Id) -> Any:
    """The last 100 deliveries with every attempt (admins)."""
    require_admin(request.user)
    hook = get_or_404(WebhookSubscription.objects, pk=webhook_id)
    deliveries = WebhookDelivery.objects.filter(subscription=hook).prefetch_related("attempt_log")
    return [
        {
            "id": d.pk,
            "event": d.event,
            "event_id": d.event_id,
            "status": d.status,
            "attempts": d.attempts,
            "created_at": d.created_at,
            "next_attempt_at": d.next_attempt_at,
            "attempt_log": [
                {
                    "number": a.number,
                    "at": a.at,
                    "status_code": a.status_code,
                    "error": a.error,
                    "duration_ms": a.duration_ms,
                }
                for a in d.attempt_log.all()
            ],
        }
        for d in deliveries[:100]
    ]
