"""Channels of a team: set by administrators and the team's manager (their Scope)."""

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from loudou.core.errors import InvalidInput, NotAllowed
from loudou.people.access import Scope
from loudou.people.models import Team

from . import messages
from .models import ChatChannel, ChatMessage, MessageKind, Platform
from .sending import queue


def may_manage(actor: Any, team: Team) -> bool:
    return Scope.of(actor).manages(team.pk)


@transaction.atomic
def save_channel(
    *,
    actor: Any,
    team: Team,
    name: str,
    platform: str,
    url: str,
    secret: str = "",
    lang: str = "zh-hans",
    kinds: Sequence[str] = (),
    quiet_start: dt.time | None = None,
    quiet_end: dt.time | None = None,
    channel: ChatChannel | None = None,
) -> ChatChannel:
    """Create or change a channel of ``team``."""
    if not may_manage(actor, team):
        raise NotAllowed(_("Only an administrator or the team's manager may do this."))
    if platform not in Platform.values:
        raise InvalidInput({"platform": _("Not a chat platform.")})
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise InvalidInput({"url": _("Give an http:// or https:// URL.")}) from exc
    if set(kinds) - set(MessageKind.values) or not kinds:
        raise InvalidInput(
            {
                "kinds": _("Choose the messages among: %(kinds)s")
                % {"kinds": ", ".join(MessageKind.values)}
            }
        )
    if lang not in ("zh-hans", "en"):
        raise InvalidInput({"lang": _("zh-hans or en.")})
    if (quiet_start is None) != (quiet_end is None):
        raise InvalidInput({"quiet_end": _("Give both ends of the quiet hours, or neither.")})
    channel = channel or ChatChannel(team=team, created_by=actor)
    channel.name, channel.platform, channel.url = name.strip()[:100], platform, url.strip()
    channel.secret, channel.lang, channel.kinds = secret.strip()[:200], lang, sorted(set(kinds))
    channel.quiet_start, channel.quiet_end = quiet_start, quiet_end
    channel.save()
    return channel


def channels_for(team: Team, kind: str) -> list[ChatChannel]:
    return [c for c in ChatChannel.objects.filter(team=team, active=True) if kind in c.kinds]


def compose(team: Team, kind: str, lang: str, now: dt.datetime | None = None) -> Any:
    """The message of ``kind`` (digest or weekly) for ``team`` in ``lang``."""
    return messages.BUILDERS[kind](team, lang, now or timezone.now())


def send_now(team: Team, kind: str, now: dt.datetime | None = None) -> list[ChatMessage]:
    """Queue ``kind`` for every channel of ``team`` that takes it (each in its language)."""
    return [queue(c, compose(team, kind, c.lang, now), now) for c in channels_for(team, kind)]
