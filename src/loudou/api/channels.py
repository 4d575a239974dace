"""A team's chat channels and the messages sent to them: administrators and the team's
manager (``notify.services.may_manage``)."""

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from loudou.core.errors import NotAllowed
from loudou.notify import services
from loudou.notify.models import ChatChannel, ChatMessage, MessageKind, Platform
from loudou.people.models import Team

from .common import errors, get_or_404
from .inputs import Id, text

router = Router(tags=["notifications"])

Kind = Literal[tuple(MessageKind.values)]  # type: ignore[valid-type]


class ChannelOut(Schema):
    id: int
    team: str
    name: str
    platform: str
    lang: str
    kinds: list[str]
    quiet_start: dt.time | None
    quiet_end: dt.time | None
    active: bool


class ChannelIn(Schema):
    name: text(100)
    platform: Literal[tuple(Platform.values)]  # type: ignore[valid-type]
    url: text(500) = Field(description="the robot's webhook address, with its key or token")
    secret: text(200) = Field("", description="钉钉 加签 / 飞书 签名校验 / webhook secret")
    lang: Literal["zh-hans", "en"] = "zh-hans"
    kinds: list[Kind] = Field(min_length=1, max_length=len(MessageKind.values))
    quiet_start: dt.time | None = None
    quiet_end: dt.time | None = None


class MessageOut(Schema):
    id: int
    kind: str
    title: str
    status: str
    attempts: int
    last_error: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


def channel_out(c: ChatChannel) -> dict[str, Any]:
    return {
        "id": c.pk,
        "team": c.team.name,
        "name": c.name,
        "platform": c.platform,
        "lang": c.lang,
        "kinds": c.kinds,
        "quiet_start": c.quiet_start,
        "quiet_end": c.quiet_end,
        "active": c.active,
    }


def _team(request: HttpRequest, team_id: int) -> Team:
    team = get_or_404(Team.objects, pk=team_id)
    if not services.may_manage(request.user, team):
        raise NotAllowed()
    return team


def _channel(request: HttpRequest, channel_id: int) -> ChatChannel:
    channel = get_or_404(ChatChannel.objects.select_related("team"), pk=channel_id)
    if not services.may_manage(request.user, channel.team):
        raise NotAllowed()
    return channel


@router.get("/teams/{team_id}/channels", response={200: list[ChannelOut], **errors(403, 404)})
def list_channels(request: HttpRequest, team_id: Id) -> Any:
    """The team's channels (never their URLs or secrets)."""
    team = _team(request, team_id)
    return [channel_out(c) for c in ChatChannel.objects.filter(team=team).select_related("team")]


@router.post("/teams/{team_id}/channels", response={201: ChannelOut, **errors(403, 404)})
def create_channel(request: HttpRequest, team_id: Id, payload: ChannelIn) -> Any:
    team = _team(request, team_id)
    channel = services.save_channel(actor=request.user, team=team, **payload.model_dump())
    return Status(201, channel_out(channel))


@router.delete("/channels/{channel_id}", response={204: None, **errors(403, 404)})
def delete_channel(request: HttpRequest, channel_id: Id) -> Any:
    _channel(request, channel_id).delete()
    return Status(204, None)


@router.get("/channels/{channel_id}/messages", response={200: list[MessageOut], **errors(403, 404)})
def list_messages(request: HttpRequest, channel_id: Id) -> Any:
    """The last 100 messages and how sending them went."""
    channel = _channel(request, channel_id)
    return list(
        ChatMessage.objects.filter(channel=channel).values(
            "id", "kind", "title", "status", "attempts", "last_error", "created_at", "sent_at"
        )[:100]
    )
