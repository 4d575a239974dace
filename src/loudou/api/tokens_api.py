"""Personal API tokens over the API: yours (an admin: anyone's)."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from loudou.people.access import Scope
from loudou.people.models import User

from .common import errors, get_or_404, lookup, require_admin
from .inputs import Id, text
from .models import ApiToken
from .tokens import create_token, revoke_token

router = Router(tags=["tokens"])


class TokenOut(Schema):
    id: int
    user: str
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="the token itself: shown this once, never again")


class TokenIn(Schema):
    name: text(100) = ""
    user: text(150) | None = Field(None, description="username (admins only; default: you)")


class TokenFilter(Schema):
    user: text(150) | None = Field(None, description="username (admins only)")


def token_out(t: ApiToken) -> dict[str, Any]:
    return {
        "id": t.pk,
        "user": t.user.username,
        "name": t.name,
        "prefix": f"ldu_{t.prefix}",
        "created_at": t.created_at,
        "last_used_at": t.last_used_at,
        "revoked_at": t.revoked_at,
    }


def _tokens(request: HttpRequest) -> Any:
    tokens = ApiToken.objects.select_related("user")
    if Scope.of(request.user).may_configure:
        return tokens
    return tokens.filter(user=request.user)


@router.get("/tokens", response={200: list[TokenOut], **errors(403)})
def list_tokens(request: HttpRequest, filters: Query[TokenFilter]) -> Any:
    """Your tokens (an admin: everyone's, or one user's). Never the secrets."""
    tokens = _tokens(request)
    if filters.user:
        if filters.user != request.user.username:
            require_admin(request.user)
        tokens = tokens.filter(user__username=filters.user)
    return [token_out(t) for t in tokens.order_by("-id")[:500]]


@router.post("/tokens", response={201: NewTokenOut, **errors(403)})
def new_token(request: HttpRequest, payload: TokenIn) -> Any:
    """A new token for you (an admin: for anyone). The response is the only time the
    token is shown."""
    user = request.user
    if payload.user and payload.user != user.username:
        require_admin(request.user)
        user = lookup(User, "user", _("user"), username=payload.user)
    token, raw = create_token(actor=request.user, user=user, name=payload.name)
    return Status(201, {**token_out(token), "token": raw})


@router.delete("/tokens/{token_id}", response={200: TokenOut, **errors(403, 404)})
def delete_token(request: HttpRequest, token_id: Id) -> Any:
    """Revoke a token (yours; an admin: anyone's). It stays listed as revoked."""
    token = get_or_404(_tokens(request), pk=token_id)
    return token_out(revoke_token(actor=request.user, token=token))
