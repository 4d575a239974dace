"""Users, teams and quotas: everyone reads users and teams, quotas as far as they see the
deals they are for; administrators change them (through ``people.services``)."""

import datetime as dt
from typing import Any, Literal

from django.db.models import Q
from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from loudou.people import services
from loudou.people.access import Scope
from loudou.people.models import Quota, Team, User

from .common import errors, get_or_404, lookup
from .inputs import Amount, Day, Id, text

router = Router(tags=["people"])


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    email: str | None = Field(description="shown to admins and to the user themself")
    role: str
    team: str | None
    is_active: bool


class TeamOut(Schema):
    id: int
    name: str
    manager: str | None
    members: list[str]


class QuotaOut(Schema):
    id: int
    user: str | None
    team: str | None
    period_start: dt.date
    period_end: dt.date
    amount: str
    currency: str


def user_out(u: User, viewer: User) -> dict[str, Any]:
    """A user as ``viewer`` may see them: e-mail addresses for admins and oneself only."""
    return {
        "id": u.pk,
        "username": u.username,
        "display_name": str(u),
        "email": u.email if viewer.is_loudou_admin or viewer.pk == u.pk else None,
        "role": "admin" if u.is_loudou_admin else u.role,
        "team": u.team.name if u.team else None,
        "is_active": u.is_active,
    }


def team_out(t: Team) -> dict[str, Any]:
    return {
        "id": t.pk,
        "name": t.name,
        "manager": t.manager.username if t.manager else None,
        "members": sorted(m.username for m in t.members.all()),
    }


def quota_out(q: Quota) -> dict[str, Any]:
    return {
        "id": q.pk,
        "user": q.user.username if q.user else None,
        "team": q.team.name if q.team else None,
        "period_start": q.period_start,
        "period_end": q.period_end,
        "amount": f"{q.amount:.2f}",
        "currency": q.currency,
    }


@router.get("/users/me", response={200: UserOut, **errors()})
def me(request: HttpRequest) -> Any:
    """Who you are to the API."""
    return user_out(request.user, request.user)


@router.get("/users", response={200: list[UserOut], **errors()})
def list_users(request: HttpRequest) -> Any:
    """Every user (names and roles: owners are chosen among them)."""
    return [
        user_out(u, request.user) for u in User.objects.select_related("team").order_by("username")
    ]


class UserPatch(Schema):
    role: Literal["rep", "manager", "admin"] | None = None
    team: text(100) | None = Field(None, description="team name; empty string: no team")
    is_active: bool | None = None
    display_name: text(100) | None = None
    email: text(254) | None = Field(None, description="work e-mail (password reset links)")


@router.patch("/users/{user_id}", response={200: UserOut, **errors(403, 404)})
def update_user(request: HttpRequest, user_id: Id, payload: UserPatch) -> Any:
    """Change a user's role, team, active flag, display name or e-mail address (admins)."""
    user = get_or_404(User.objects.select_related("team"), pk=user_id)
    given = payload.model_dump(exclude_unset=True)
    team = user.team
    if "team" in given:
        team = lookup(Team, "team", "team", name=given["team"]) if given["team"] else None
    # What the request leaves out stays as it is (one update_user for pages and API).
    changed = services.update_user(
        actor=request.user,
        user=user,
        role=given.get("role") or user.role,
        team=team,
        display_name=user.display_name
        if given.get("display_name") is None
        else given["display_name"],
        active=user.is_active if given.get("is_active") is None else given["is_active"],
        email=given.get("email"),
    )
    return user_out(changed, request.user)


def _teams() -> Any:
    return Team.objects.select_related("manager").prefetch_related("members")


@router.get("/teams", response={200: list[TeamOut], **errors()})
def list_teams(request: HttpRequest) -> Any:
    return [team_out(t) for t in _teams()]


class TeamIn(Schema):
    name: text(100)
    manager: text(150) | None = Field(None, description="username of a manager")


class TeamPatch(Schema):
    name: text(100) | None = None
    manager: text(150) | None = Field(None, description="username; empty string: none")


def _manager(username: str | None) -> User | None:
    return lookup(User, "manager", "user", username=username) if username else None


@router.post("/teams", response={201: TeamOut, **errors(403)})
def create_team(request: HttpRequest, payload: TeamIn) -> Any:
    """A new team (admins)."""
    team = services.save_team(
        actor=request.user, name=payload.name, manager=_manager(payload.manager)
    )
    return Status(201, team_out(_teams().get(pk=team.pk)))


@router.patch("/teams/{team_id}", response={200: TeamOut, **errors(403, 404)})
def update_team(request: HttpRequest, team_id: Id, payload: TeamPatch) -> Any:
    """Rename a team or change its manager (admins)."""
    team = get_or_404(Team.objects, pk=team_id)
    given = payload.model_dump(exclude_unset=True)
    services.save_team(
        actor=request.user,
        team=team,
        name=team.name if given.get("name") is None else given["name"],
        manager=_manager(given["manager"]) if "manager" in given else team.manager,
    )
    return team_out(_teams().get(pk=team.pk))


def visible_quotas(user: User) -> Any:
    """Quotas of the people and teams whose deals ``user`` sees (their ``Scope``), and
    their own team's."""
    quotas = Quota.objects.select_related("user", "team")
    scope = Scope.of(user)
    if scope.may_configure:
        return quotas
    teams = set(scope.team_ids) | ({user.team_id} if user.team_id else set())
    return quotas.filter(
        Q(user=user) | Q(team_id__in=sorted(teams)) | Q(user__team_id__in=sorted(scope.team_ids))
    )


@router.get("/quotas", response={200: list[QuotaOut], **errors()})
def list_quotas(request: HttpRequest) -> Any:
    """The quotas you may see: yours and your team's (managers: their teams' and
    members'; admins: all)."""
    return [quota_out(q) for q in visible_quotas(request.user)]


class QuotaIn(Schema):
    user: text(150) | None = Field(None, description="username (or give team)")
    team: text(100) | None = Field(None, description="team name (or give user)")
    period_start: Day
    period_end: Day = Field(description="exclusive")
    amount: Amount
    currency: text(3) = "CNY"


class QuotaPatch(Schema):
    period_start: Day | None = None
    period_end: Day | None = None
    amount: Amount | None = None
    currency: text(3) | None = None


@router.post("/quotas", response={201: QuotaOut, **errors(403)})
def create_quota(request: HttpRequest, payload: QuotaIn) -> Any:
    """A quota for one user or one team over [start, end) (admins)."""
    quota = services.save_quota(
        actor=request.user,
        user=lookup(User, "user", "user", username=payload.user) if payload.user else None,
        team=lookup(Team, "team", "team", name=payload.team) if payload.team else None,
        period_start=payload.period_start,
        period_end=payload.period_end,
        amount=payload.amount,
        currency=payload.currency,
    )
    return Status(201, quota_out(quota))


@router.patch("/quotas/{quota_id}", response={200: QuotaOut, **errors(403, 404)})
def update_quota(request: HttpRequest, quota_id: Id, payload: QuotaPatch) -> Any:
    quota = get_or_404(visible_quotas(request.user), pk=quota_id)
    changes = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    return quota_out(services.save_quota(actor=request.user, quota=quota, **changes))


@router.delete("/quotas/{quota_id}", response={204: None, **errors(403, 404)})
def delete_quota(request: HttpRequest, quota_id: Id) -> Any:
    quota = get_or_404(visible_quotas(request.user), pk=quota_id)
    services.delete_quota(actor=request.user, quota=quota)
    return Status(204, None)
