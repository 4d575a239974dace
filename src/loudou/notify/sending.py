"""Sending messages to channels in the background: quiet hours respected (a message waits
for their end), failures retried with exponential backoff, the outcome recorded on the
``ChatMessage`` for administrators and managers. Sending never blocks a user's action."""

import datetime as dt
import logging
import urllib.error
import urllib.request
import zoneinfo

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from .models import ChatChannel, ChatMessage, SendStatus
from .platforms import Message, accepted, request

logger = logging.getLogger("loudou.notify")
MAX_ATTEMPTS = 5


def quiet_until(channel: ChatChannel, now: dt.datetime) -> dt.datetime | None:
    """The end of the channel's quiet hours if ``now`` is within them, else None."""
    if channel.quiet_start is None or channel.quiet_end is None:
        return None
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    local = now.astimezone(tz)
    start, end, clock = channel.quiet_start, channel.quiet_end, local.time()
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, end, tzinfo=tz).astimezone(dt.UTC)


def queue(channel: ChatChannel, message: Message, now: dt.datetime | None = None) -> ChatMessage:
    """Record ``message`` for ``channel`` and enqueue its sending (after quiet hours)."""
    now = now or timezone.now()
    record = ChatMessage.objects.create(
        channel=channel, kind=message.kind, title=message.title[:200], text=message.text
    )
    later = quiet_until(channel, now)
    (send.using(run_after=later) if later else send).enqueue(record.pk)
    return record


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=settings.LOUDOU_WEBHOOK_TIMEOUT_SECONDS) as answer:
            return answer.status, answer.read(65536)
    except urllib.error.HTTPError as error:
        return error.code, error.read(65536) if error.fp else b""


@task()
def send(message_id: int) -> str:
    """One attempt to send a recorded message; retried with backoff, never raises."""
    record = ChatMessage.objects.select_related("channel__team").filter(pk=message_id).first()
    if record is None or record.status != SendStatus.PENDING:
        return "skipped"
    channel = record.channel
    message = Message(record.kind, channel.team.name, channel.lang, record.title, record.text)
    url, body, headers = request(channel.platform, channel.url, channel.secret, message)
    try:
        status, answer = _post(url, body, headers)
        problem = accepted(channel.platform, status, answer)
    except Exception as exc:  # network errors and timeouts: retried
        problem = f"{type(exc).__name__}: {exc}"
    record.attempts += 1
    if problem is None:
        record.status, record.sent_at, record.last_error = SendStatus.SENT, timezone.now(), ""
    else:
        record.last_error = problem[:500]
        if record.attempts >= MAX_ATTEMPTS:
            record.status = SendStatus.FAILED
            logger.warning("Chat message %s to %s failed: %s", record.pk, channel, problem)
        else:
            delay = dt.timedelta(
                seconds=settings.LOUDOU_WEBHOOK_RETRY_SECONDS * 2 ** (record.attempts - 1)
            )
            send.using(run_after=timezone.now() + delay).enqueue(record.pk)
    record.save(update_fields=["attempts", "status", "sent_at", "last_error"])
    return record.status
