"""Personal API tokens: create (shown once), revoke, and authenticate by digest.

A token is ``ldu_`` followed by 43 URL-safe characters (256 random bits). High-entropy
secrets need no slow hash: a SHA-256 digest is looked up directly, and a stolen database
does not give the tokens back.
"""

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from loudou.core.errors import InvalidInput, NotAllowed
from loudou.people.access import Scope
from loudou.people.models import User

from .models import ApiToken

TOKEN_PREFIX = "ldu_"
MAX_TOKENS_PER_USER = 50
# Writing last_used_at on every request would take SQLite's write lock for every read;
# once a minute says enough about when a token was last used.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _may_manage(actor: User | None, user: User) -> bool:
    # None: the command line, run by whoever runs the server.
    if actor is None:
        return True
    return actor.is_active and (actor.pk == user.pk or Scope.of(actor).may_configure)


@transaction.atomic
def create_token(*, actor: User | None, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token for ``user`` (by themselves, an admin, or the command line: ``actor``
    None): the row and the token itself, which is never stored and cannot be shown again."""
    if not _may_manage(actor, user):
        raise NotAllowed(_("Only the user or an administrator may manage their API tokens."))
    if not user.is_active:
        raise InvalidInput({"user": _("This user is inactive.")})
    name = (name or "").strip() or "api"
    if len(name) > 100:
        raise InvalidInput({"name": _("At most 100 characters.")})
    if user.api_tokens.filter(revoked_at__isnull=True).count() >= MAX_TOKENS_PER_USER:
        raise InvalidInput(
            {
                "name": _("Too many active tokens; revoke some first (at most %(n)d).")
                % {"n": MAX_TOKENS_PER_USER}
            }
        )
    secret = secrets.token_urlsafe(32)
    raw = TOKEN_PREFIX + secret
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=secret[:8],
        digest=digest(raw),
        created_at=timezone.now(),
        created_by=actor,
    )
    return token, raw


@transaction.atomic
def revoke_token(*, actor: User | None, token: ApiToken) -> ApiToken:
    """Revoke ``token`` (by its user or an admin). Revoking twice changes nothing."""
    if not _may_manage(actor, token.user):
        raise NotAllowed(_("Only the user or an administrator may manage their API tokens."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def user_for_token(raw: str) -> User | None:
    """The active user whose unrevoked token this is (recording its use), or None."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=digest(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
