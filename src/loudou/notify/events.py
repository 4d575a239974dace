"""Won deals and approval requests, to the channels of the deal's team (after commit)."""

from typing import Any

from loudou.deals.models import Deal

from . import messages
from .models import MessageKind
from .sending import queue
from .services import channels_for

KINDS = {"deal.won": MessageKind.WON, "approval.requested": MessageKind.APPROVALS}


def on_event(name: str, data: dict[str, Any]) -> None:
    kind = KINDS.get(name)
    if kind is None or not data.get("deal_id"):
        return
    deal = (
        Deal.objects.select_related("owner", "team", "stage", "account")
        .filter(pk=data["deal_id"])
        .first()
    )
    if deal is None or deal.team is None:
        return
    for channel in channels_for(deal.team, kind):
        if kind == MessageKind.WON:
            message = messages.won(deal, channel.lang)
        else:
            message = messages.approval_request(deal, channel.lang, data)
        queue(channel, message)
