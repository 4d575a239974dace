"""Sending deliveries: one background task per delivery, retried with exponential
backoff, held through a channel's quiet hours, every attempt logged.

Nothing here runs in a user's request: the request (or schedule) only writes a
``Delivery`` row and enqueues ``tasks.deliver`` after its transaction commits, so a slow
or dead endpoint costs the user nothing.
"""

import datetime as dt
import http.client
import ipaddress
import logging
import socket
import ssl
import time
import urllib.parse
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


ANSWER_BYTES = 4096  # what is kept of an answer (enough for the platforms' error JSON)


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def private_refusal(url: str) -> str:
    """Why ``url`` may not be sent to, or "": its host is (or resolves to) this machine,
    the local network, or another non-public address, and LOUDOU_NOTIFY_PRIVATE_ADDRESSES
    is off. (Checked when a channel is saved; ``_post`` checks the very addresses it
    connects to again.)"""
    if settings.LOUDOU_NOTIFY_PRIVATE_ADDRESSES:
        return ""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = _addresses(host, parts.port or 443)
    except (OSError, UnicodeError, ValueError):
        return ""  # unresolvable now: sending fails as a connection error, and is retried
    if any(not a.is_global for a in addresses):
        return f"refused: {host} is a private address (LOUDOU_NOTIFY_PRIVATE_ADDRESSES)"
    return ""


class _Pinned:
    """Connect to the address that was checked, not to whatever a second DNS lookup
    answers (a name could resolve to a public address for the check, then to 127.0.0.1);
    TLS still verifies the host name, and the Host header carries it."""

    address = ""

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        if isinstance(self, http.client.HTTPSConnection):
            self.sock = self._context.wrap_socket(self.sock, server_hostname=self.host)


class _PinnedHTTP(_Pinned, http.client.HTTPConnection):
    pass


class _PinnedHTTPS(_Pinned, http.client.HTTPSConnection):
    pass


def _post(req: platforms.Request) -> tuple[int | None, bytes, str]:
    """POST the request; (HTTP status, the first bytes of the answer, error) without
    raising. Redirects are answers (never followed: they could lead anywhere), and the
    whole exchange has one deadline, however slowly a receiver drips its answer."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    parts = urllib.parse.urlsplit(req.url)
    secure = parts.scheme == "https"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None, b"", "ValueError: not an http(s) address"
    port = parts.port or (443 if secure else 80)
    try:
        addresses = _addresses(parts.hostname, port)
    except (OSError, UnicodeError, ValueError) as error:
        return None, b"", f"cannot resolve {parts.hostname}: {error}"[:500]
    if not settings.LOUDOU_NOTIFY_PRIVATE_ADDRESSES and any(not a.is_global for a in addresses):
        return None, b"", f"refused: {parts.hostname} is a private address"
    cls = _PinnedHTTPS if secure else _PinnedHTTP
    kwargs: dict[str, Any] = {"context": ssl.create_default_context()} if secure else {}
    connection = cls(parts.hostname, port, timeout=TIMEOUT_SECONDS, **kwargs)
    connection.address = str(addresses[0])
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=req.body, headers=req.headers)
        sock = connection.sock  # getresponse() lets go of it when the answer closes it
        answer = connection.getresponse()
        body = b""
        while len(body) < ANSWER_BYTES:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the answer took too long")
            sock.settimeout(left)
            chunk = answer.read1(ANSWER_BYTES - len(body))
            if not chunk:
                break
            body += chunk
        return answer.status, body, ""
    except (OSError, http.client.HTTPException, ValueError) as error:
        return None, b"", f"{type(error).__name__}: {error}"[:500]
    finally:
        connection.close()


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
