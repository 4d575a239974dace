"""Users, teams and quotas: what admins (and managers, for their team's quotas) change on
the settings pages and over the API."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from loudou.core.errors import InvalidInput, NotAllowed, from_validation_error, sentences
from loudou.limits import MAX_AMOUNT

from .access import Scope
from .models import Quota, Role, Team, User


def _require_admin(actor: User) -> None:
    if not (actor.is_active and actor.is_loudou_admin):
        raise NotAllowed(_("Only an admin can manage users and teams."))


def require_admin_over(actor: User, user: User) -> None:
    """Admins manage users; a superuser's account (the Django admin's keys: its password,
    e-mail address, role, active flag) only another superuser, so that no side door (a new
    e-mail address, then a reset link sent there) gives an admin the superuser's keys."""
    _require_admin(actor)
    if user.is_superuser and not actor.is_superuser:
        raise NotAllowed(_("Only a superuser may change a superuser's account."))


def _check(obj: User | Team | Quota, exclude: list[str] | None = None) -> None:
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise from_validation_error(exc, type(obj)) from exc


@transaction.atomic
def create_user(
    *,
    actor: User,
    username: str,
    password: str,
    display_name: str = "",
    role: str = Role.REP,
    team: Team | None = None,
    email: str = "",
) -> User:
    """A new active user with a role and a team, and an e-mail address for password
    reset links if given. The password must pass the site's password rules."""
    _require_admin(actor)
    if role not in Role.values:
        raise InvalidInput({"role": _("Pick a role.")})
    user = User(
        username=username.strip(),
        display_name=display_name.strip(),
        role=role,
        team=team,
        email=User.objects.normalize_email(email.strip()),
    )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput({"password": sentences(exc.messages)}, model=User) from exc
    user.set_password(password)
    _check(user)
    user.save()
    return user


@transaction.atomic
def update_user(
    *,
    actor: User,
    user: User,
    role: str,
    team: Team | None,
    display_name: str,
    active: bool,
    email: str | None = None,
) -> User:
    """Change a user's role, team, name, e-mail address (None: as it is), or deactivate
    them (they can no longer log in, and see nothing; their deals and history stay). An
    admin cannot demote or deactivate themselves (the organisation would risk losing its
    last admin)."""
    require_admin_over(actor, user)
    if role not in Role.values:
        raise InvalidInput({"role": _("Pick a role.")})
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.pk == actor.pk and (not active or role != Role.ADMIN) and not actor.is_superuser:
        raise InvalidInput({"role": _("You cannot demote or deactivate yourself.")})
    user.role, user.team, user.display_name, user.is_active = (
        role,
        team,
        display_name.strip(),
        active,
    )
    if email is not None:
        user.email = User.objects.normalize_email(email.strip())
    _check(user, exclude=["password"])
    user.save(update_fields=["role", "team", "display_name", "is_active", "email"])
    return user


@transaction.atomic
def save_team(*, actor: User, name: str, manager: User | None, team: Team | None = None) -> Team:
    """Create a team, or rename it and change its manager (a user with the manager role)."""
    _require_admin(actor)
    if manager is not None and not manager.is_manager:
        raise InvalidInput({"manager": _("A team's manager has the manager role.")})
    team = team or Team()
    team.name, team.manager = name.strip(), manager
    _check(team)
    team.save()
    return team


@dataclass(frozen=True)
class QuotaCell:
    """One cell of the quota grid: the target of one rep (``user``) or of one team as a
    whole (``team``) for [start, end); an amount of None clears it."""

    start: dt.date
    end: dt.date
    amount: Decimal | None
    user: User | None = None
    team: Team | None = None


def quota_users(actor: User) -> list[User]:
    """The reps whose quotas ``actor`` may set: everyone active for an admin, the members
    of their teams for a manager, nobody else."""
    scope = Scope.of(actor)
    users = (
        User.objects.filter(is_active=True)
        .select_related("team")
        .order_by("team__name", "username")
    )
    if scope.everything:
        return list(users)
    if scope.may_override and scope.team_ids:
        return list(users.filter(team_id__in=sorted(scope.team_ids)))
    return []


def quota_teams(actor: User) -> list[Team]:
    """The teams whose own quotas ``actor`` may set: every team for an admin, the teams
    they manage for a manager, none for anyone else (the rule of ``quota_users``)."""
    scope = Scope.of(actor)
    teams = Team.objects.order_by("name")
    if scope.everything:
        return list(teams)
    if scope.may_override and scope.team_ids:
        return list(teams.filter(pk__in=sorted(scope.team_ids)))
    return []


@transaction.atomic
def set_quotas(*, actor: User, cells: list[QuotaCell]) -> int:
    """Write the grid's cells (a quota per rep or team and period; an empty cell removes
    it), all or nothing. Returns how many quotas were written or removed."""
    users = {u.pk for u in quota_users(actor)}
    teams = {t.pk for t in quota_teams(actor)}
    if not users and not teams:
        raise NotAllowed(_("Only admins, and managers for their teams, set quotas."))
    changed = 0
    for cell in cells:
        if (cell.user is None) == (cell.team is None):
            raise InvalidInput({"quota": _("A quota belongs to exactly one user or one team.")})
        if cell.user is not None and cell.user.pk not in users:
            raise NotAllowed(_("You may set quotas only for the reps of your teams."))
        if cell.team is not None and cell.team.pk not in teams:
            raise NotAllowed(_("You may set quotas only for your own teams."))
        if cell.end <= cell.start:
            raise InvalidInput({"period": _("The period must end after it starts.")})
        if cell.amount is not None and not Decimal(0) <= cell.amount <= MAX_AMOUNT:
            raise InvalidInput({"amount": _("A quota is an amount from 0 up to the limit.")})
        target = {"user": cell.user} if cell.user is not None else {"team": cell.team}
        existing = Quota.objects.filter(
            **target, period_start=cell.start, period_end=cell.end
        ).first()
        if cell.amount is None:
            if existing is not None:
                existing.delete()
                changed += 1
            continue
        if existing is not None and existing.amount == cell.amount:
            continue
        quota = existing or Quota(**target, period_start=cell.start, period_end=cell.end)
        quota.amount = cell.amount
        quota.save()
        changed += 1
    return changed


def require_admin(actor: User) -> None:
    """Only an administrator changes configuration (the API's admin writes)."""
    if not Scope.of(actor).may_configure:
        raise NotAllowed(_("Only an administrator may do this."))


@transaction.atomic
def save_quota(
    *,
    actor: User,
    quota: Quota | None = None,
    user: User | None = None,
    team: Team | None = None,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    amount: Decimal | None = None,
    currency: str | None = None,
) -> Quota:
    """Create a quota for one user or one team over [start, end), or change one (the
    API; the settings pages' grid writes through ``set_quotas``)."""
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
    _check(quota)
    try:
        with transaction.atomic():
            quota.save()
    except IntegrityError as exc:
        raise InvalidInput({"__all__": _("This conflicts with an existing record.")}) from exc
    return quota


@transaction.atomic
def delete_quota(*, actor: User, quota: Quota) -> None:
    require_admin(actor)
    quota.delete()
