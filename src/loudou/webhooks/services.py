"""Subscribing URLs to events (administrators only)."""

import secrets
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from loudou.core.errors import InvalidInput
from loudou.core.events import EVENTS
from loudou.people.services import require_admin

from .models import WebhookSubscription


def _check(url: str, events: Sequence[str]) -> list[str]:
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise InvalidInput({"url": _("Give an http:// or https:// URL.")}) from exc
    if len(url) > 500:
        raise InvalidInput({"url": _("At most 500 characters.")})
    chosen = sorted(set(events))
    if not chosen or set(chosen) - set(EVENTS):
        raise InvalidInput(
            {"events": _("Choose events among: %(events)s") % {"events": ", ".join(EVENTS)}}
        )
    return chosen


@transaction.atomic
def subscribe(
    *, actor: Any, url: str, events: Sequence[str], description: str = ""
) -> WebhookSubscription:
    """A new subscription with a fresh signing secret."""
    require_admin(actor)
    return WebhookSubscription.objects.create(
        url=url.strip(),
        events=_check(url.strip(), events),
        secret="whsec_" + secrets.token_urlsafe(32),
        description=description.strip()[:200],
        created_by=actor,
    )


@transaction.atomic
def update_subscription(
    *, actor: Any, subscription: WebhookSubscription, **changes: Any
) -> WebhookSubscription:
    """Change the URL, events, description or active flag."""
    require_admin(actor)
    url = changes.get("url", subscription.url)
    events = changes.get("events", subscription.events)
    subscription.url, subscription.events = url.strip(), _check(url.strip(), events)
    if "description" in changes:
        subscription.description = changes["description"].strip()[:200]
    if "active" in changes:
        subscription.active = bool(changes["active"])
    subscription.save()
    return subscription


@transaction.atomic
def unsubscribe(*, actor: Any, subscription: WebhookSubscription) -> None:
    require_admin(actor)
    subscription.delete()
