"""Teams, users' roles and teams, quotas: configuration only administrators change."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from loudou.core.errors import InvalidInput, NotAllowed, from_validation_error
from loudou.limits import MAX_AMOUNT

from .access import Scope
from .models import Quota, Role, Team, User


def require_admin(actor: Any) -> None:
    """Only an administrator (their scope is everything) changes configuration."""
    if not Scope.of(actor).may_configure:
        raise NotAllowed(_("Only an administrator may do this."))


def _save(obj: Any) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise from_validation_error(exc) from exc
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise InvalidInput({"__all__": _("This conflicts with an existing record.")}) from exc


@transaction.atomic
def save_team(
    *, actor: Any, team: Team | None = None, name: str | None = None, manager: Any = ...
) -> Team:
    """Create a team or rename it / change its manager (a user with the manager role)."""
    require_admin(actor)
    team = team or Team()
    if name is not None:
        team.name = name.strip()
    if manager is not ...:
        if manager is not None and manager.role != Role.MANAGER:
            raise InvalidInput({"manager": _("The manager must have the manager role.")})
        team.manager = manager
    _save(team)
    return team


@transaction.atomic
def update_user(
    *,
    actor: Any,
    user: User,
    role: str | None = None,
    team: Any = ...,
    is_active: bool | None = None,
    display_name: str | None = None,
) -> User:
    """Change a user's role, team, active flag or display name. Admins may not demote or
    deactivate themselves (someone must stay able to undo it)."""
    require_admin(actor)
    if user.pk == actor.pk and (
        (role is not None and role != Role.ADMIN and not actor.is_superuser) or is_active is False
    ):
        raise InvalidInput({"role": _("You cannot demote or deactivate yourself.")})
    if role is not None:
        if role not in Role.values:
            raise InvalidInput({"role": _("Not a role.")})
        user.role = role
    if team is not ...:
        user.team = team
    if is_active is not None:
        user.is_active = is_active
    if display_name is not None:
        user.display_name = display_name.strip()
    fields = ["role", "team", "is_active", "display_name"]
    try:
        user.full_clean(exclude=[f.name for f in User._meta.fields if f.name not in fields])
    except ValidationError as exc:
        raise from_validation_error(exc) from exc
    user.save(update_fields=fields)
    return user


@transaction.atomic
def save_quota(
    *,
    actor: Any,
    quota: Quota | None = None,
    user: User | None = None,
    team: Team | None = None,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    amount: Decimal | None = None,
    currency: str | None = None,
) -> Quota:
    """Create a quota for one user or one team over [start, end), or change one."""
    require_admin(actor)
    quota = quota or Quota()
    if quota.pk is None:
        quota.user, quota.team = user, team
    for key, value in (
        ("period_start", period_start),
        ("period_end", period_end),
        ("amount", amount),
        ("currency", currency),
    ):
        if value is not None:
            setattr(quota, key, value)
    if quota.amount is not None and not Decimal(0) <= quota.amount <= MAX_AMOUNT:
        raise InvalidInput({"amount": _("Out of range.")})
    if quota.currency:
        quota.currency = quota.currency.strip().upper()
    _save(quota)
    return quota


@transaction.atomic
def delete_quota(*, actor: Any, quota: Quota) -> None:
    require_admin(actor)
    quota.delete()
