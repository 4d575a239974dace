"""Sending deliveries: one background task per delivery, retried with exponential
backoff, held through a channel's quiet hours, every attempt logged.

Nothing here runs in a user's request: the request (or schedule) only writes a
``Delivery`` row and enqueues ``tasks.deliver`` after its transaction commits, so a slow
or dead endpoint costs the user nothing.
"""

import datetime as dt
import ipaddress
import logging
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
import zoneinfo
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from loudou.jobs.queue import enqueue_on_commit

from . import platforms
from .models import Attempt, Channel, Delivery, DeliveryStatus, Subscription

logger = logging.getLogger("loudou.notifications")

MAX_ATTEMPTS = 6
FIRST_RETRY_SECONDS = 30
TIMEOUT_SECONDS = 5.0


def backoff(attempt: int) -> dt.timedelta:
    """The wait after failed attempt number ``attempt`` (1, 2, …): 30 s, 2 min, 8 min,
    32 min, about 2 h; ``LOUDOU_NOTIFY_RETRY_SECONDS`` scales the first."""
    first = getattr(settings, "LOUDOU_NOTIFY_RETRY_SECONDS", FIRST_RETRY_SECONDS)
    first = min(max(first, 1), 3600)  # a bound on a setting: 1 s to 1 h
    return dt.timedelta(seconds=first * 4 ** (attempt - 1))


def prune(now: dt.datetime | None = None) -> int:
    """Delete finished deliveries (and their attempts) older than
    LOUDOU_NOTIFY_KEEP_DAYS; return how many deliveries."""
    days = min(max(settings.LOUDOU_NOTIFY_KEEP_DAYS, 1), 3660)
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    old = Delivery.objects.filter(
        created_at__lt=cutoff, status__in=[DeliveryStatus.SENT, DeliveryStatus.FAILED]
    )
    Attempt.objects.filter(delivery__in=old).delete()
    deleted, _by_model = old.delete()
    return deleted


def quiet_until(channel: Channel, now: dt.datetime) -> dt.datetime | None:
    """When the channel's quiet hours end, if ``now`` is inside them (read in the
    organisation's time zone; a window may wrap midnight, as 22:00-08:00 does)."""
    start, end = channel.quiet_start, channel.quiet_end
    if start is None or end is None or start == end:
        return None
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, end, tzinfo=zone).astimezone(dt.UTC)


def queue(
    *,
    kind: str,
    message: platforms.Message,
    channel: Channel | None = None,
    subscription: Subscription | None = None,
    event: str = "",
    payload: dict[str, Any] | None = None,
    enqueue: str = "on_commit",
) -> Delivery:
    """Write a delivery of ``message`` to one channel or subscription and enqueue its
    sending: ``on_commit`` (from a use case: after the transaction commits), ``now``
    (from a task: the queue's row joins the task's transaction, on the same database),
    or ``no`` (the caller sends it)."""
    target_kind = channel.kind if channel else "webhook"
    if payload is None:
        # "…and N more" and the button's label are in the channel's language.
        with translation.override(channel.language if channel else "en"):
            payload = platforms.payload(target_kind, message)
    delivery = Delivery.objects.create(
        channel=channel,
        subscription=subscription,
        kind=kind,
        event=event,
        title=message.title[:200],
        payload=payload,
    )
    from .tasks import deliver

    if enqueue == "on_commit":
        enqueue_on_commit(deliver, delivery.pk)
    elif enqueue == "now":
        deliver.enqueue(delivery.pk)
    return delivery


def _target(delivery: Delivery) -> tuple[str, str, str]:
    if delivery.channel is not None:
        c = delivery.channel
        return c.kind, c.address, c.secret
    s = delivery.subscription
    return "webhook", s.url, s.secret


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer (a failure), never followed: it could lead anywhere,
    including where ``private_refusal`` would not let a request go."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def private_refusal(url: str) -> str:
    """Why ``url`` may not be sent to, or "": its host is (or resolves to) this machine,
    the local network, or another non-public address, and LOUDOU_NOTIFY_PRIVATE_ADDRESSES
    is off."""
    if settings.LOUDOU_NOTIFY_PRIVATE_ADDRESSES:
        return ""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):
        return ""  # unresolvable: the attempt fails as a connection error, and is retried
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_global:
            return f"refused: {host} is a private address (LOUDOU_NOTIFY_PRIVATE_ADDRESSES)"
    return ""


def _post(req: platforms.Request) -> tuple[int | None, bytes, str]:
    """POST the request; (HTTP status, answer body, error) without raising."""
    http = urllib.request.Request(req.url, data=req.body, headers=req.headers, method="POST")
    try:
        with _OPENER.open(http, timeout=TIMEOUT_SECONDS) as answer:
            return answer.status, answer.read(64 * 1024), ""
    except urllib.error.HTTPError as error:
        return error.code, error.read(64 * 1024) if error.fp else b"", ""
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return None, b"", f"{type(error).__name__}: {reason}"[:500]


def attempt(delivery_id: int, now: dt.datetime | None = None) -> Delivery | None:
    """Try to send one delivery now: hold it through quiet hours, else POST it, log the
    attempt, and plan the next one after a failure (or give up after MAX_ATTEMPTS)."""
    now = now or timezone.now()
    delivery = (
        Delivery.objects.select_related("channel", "subscription").filter(pk=delivery_id).first()
    )
    if delivery is None or delivery.status in (DeliveryStatus.SENT, DeliveryStatus.FAILED):
        return delivery
    target_active = (delivery.channel or delivery.subscription).active
    if not target_active:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED, last_error="channel turned off"
        )
        return delivery
    from .tasks import deliver

    if delivery.channel is not None:
        until = quiet_until(delivery.channel, now)
        if until is not None:
            Delivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.HELD, next_attempt_at=until
            )
            deliver.using(run_after=until).enqueue(delivery.pk)
            return delivery
    kind, address, secret = _target(delivery)
    req = platforms.request(
        kind=kind,
        address=address,
        secret=secret,
        payload=delivery.payload,
        now=now.timestamp(),
        event=delivery.event,
    )
    started = time.monotonic()
    refused = private_refusal(req.url)
    status, body, error = (None, b"", refused) if refused else _post(req)
    took = int((time.monotonic() - started) * 1000)
    if not error:
        error = platforms.answer_error(kind, status or 0, body)
    number = delivery.attempts + 1
    with transaction.atomic():
        Attempt.objects.create(
            delivery=delivery,
            number=number,
            at=now,
            ok=not error,
            status_code=status,
            error=error,
            duration_ms=took,
        )
        fields: dict[str, Any] = {"attempts": number, "last_error": error}
        if not error:
            fields |= {"status": DeliveryStatus.SENT, "sent_at": now, "next_attempt_at": None}
        elif number >= MAX_ATTEMPTS or refused:  # a refused address: fix it, no retry
            fields |= {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
            # Reported: the log's error goes wherever the operator's logging sends errors,
            # and the channel's page lists failed deliveries.
            logger.error(
                "Delivery %s to %s failed %s times: %s",
                delivery.pk,
                _target(delivery)[0],
                number,
                error,
            )
        else:
            retry_at = now + backoff(number)
            fields |= {"status": DeliveryStatus.RETRYING, "next_attempt_at": retry_at}
            deliver.using(run_after=retry_at).enqueue(delivery.pk)
        Delivery.objects.filter(pk=delivery.pk).update(**fields)
    delivery.refresh_from_db()
    return delivery
