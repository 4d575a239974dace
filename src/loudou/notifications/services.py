"""Configuring a team's channels: admins and the team's manager (``Scope.may_manage_team``).
Secrets and keys are written, never read back: left blank on an edit, they stay as they
were."""

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from loudou.core.errors import InvalidInput, NotAllowed
from loudou.people.access import Scope
from loudou.people.models import Team, User

from . import delivery, messages, platforms
from .models import Channel, ChannelKind, Delivery, Language, MessageKind

MAX_CHANNELS_PER_TEAM = 20


def require_team_manager(actor: User, team: Team) -> None:
    if not Scope.of(actor).may_manage_team(team):
        raise NotAllowed(_("Only an administrator or the team's manager may do this."))


@transaction.atomic
def save_channel(
    *,
    actor: User,
    team: Team,
    channel: Channel | None = None,
    name: str,
    kind: str,
    address: str = "",
    secret: str = "",
    language: str = Language.ZH,
    quiet_start: dt.time | None = None,
    quiet_end: dt.time | None = None,
    send_digest: bool = True,
    send_weekly: bool = True,
    send_approvals: bool = True,
    send_won: bool = True,
    active: bool = True,
) -> Channel:
    """Create a channel for ``team`` or change ``channel`` (of that team). A blank
    ``address`` or ``secret`` keeps the stored one."""
    require_team_manager(actor, team)
    if channel is not None and channel.team_id != team.pk:
        raise NotAllowed(_("Only an administrator or the team's manager may do this."))
    errors: dict[str, object] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("A channel needs a name.")
    if kind not in ChannelKind.values:
        errors["kind"] = _("Not a platform.")
    if language not in Language.values:
        errors["language"] = _("Not a language.")
    address = (address or "").strip() or (channel.address if channel else "")
    secret = (secret or "").strip() or (channel.secret if channel else "")
    if not address:
        errors["address"] = _("Give the robot's webhook key, token or URL.")
    elif kind in ChannelKind.values and not platforms.valid_address(kind, address):
        errors["address"] = (
            _("Give the webhook's full URL (https://…).")
            if kind == ChannelKind.WEBHOOK
            else _("Give the key or token (letters, digits, - and _), or the full URL.")
        )
    elif (
        kind in ChannelKind.values
        and address.startswith(("http://", "https://"))
        and delivery.private_refusal(address)
    ):
        errors["address"] = _(
            "Loudou does not send to this machine or the local network (an administrator "
            "may allow it with LOUDOU_NOTIFY_PRIVATE_ADDRESSES)."
        )
    if kind == ChannelKind.WEBHOOK and not secret:
        errors["secret"] = _("A webhook needs a secret to sign its messages.")
    if (quiet_start is None) != (quiet_end is None):
        errors["quiet_end"] = _("Give both ends of the quiet hours, or neither.")
    if channel is None and Channel.objects.filter(team=team).count() >= MAX_CHANNELS_PER_TEAM:
        errors["name"] = _("A team has at most %(n)s channels.") % {"n": MAX_CHANNELS_PER_TEAM}
    if errors:
        raise InvalidInput(errors)
    channel = channel or Channel(team=team)
    for key, value in {
        "name": name[:100],
        "kind": kind,
        "address": address[:500],
        "secret": secret[:200],
        "language": language,
        "quiet_start": quiet_start,
        "quiet_end": quiet_end,
        "send_digest": send_digest,
        "send_weekly": send_weekly,
        "send_approvals": send_approvals,
        "send_won": send_won,
        "active": active,
    }.items():
        setattr(channel, key, value)
    channel.save()
    return channel


@transaction.atomic
def delete_channel(*, actor: User, channel: Channel) -> None:
    """Remove a channel and its delivery log."""
    require_team_manager(actor, channel.team)
    channel.delete()


@transaction.atomic
def send_test(*, actor: User, channel: Channel) -> Delivery:
    """Queue a short test message to ``channel`` (sent in the background)."""
    require_team_manager(actor, channel.team)
    return delivery.queue(
        kind=MessageKind.TEST,
        message=messages.test_message(channel.team, channel.language),
        channel=channel,
    )
