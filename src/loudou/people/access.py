"""Who may see and change which deals: one scope per user, for every path.

- a rep: their own deals;
- a manager: their own deals and every deal of the teams they manage;
- an admin (role admin, or a Django superuser): every deal;
- an inactive or anonymous user: none.

Seeing and changing follow the same rule. The services, the web pages, the import, the
exports and the reports all ask the user's ``Scope``; nothing else decides it. A deal
outside a user's scope does not exist for them: pages and the API answer "not found", the
import refuses a row without saying what it matched.
"""

from dataclasses import dataclass
from typing import Any, Protocol

from django.db.models import Q, QuerySet

from loudou.analytics.params import Visibility

from .models import Team, User


class Owned(Protocol):
    """Anything with an owner and a team (a deal)."""

    owner_id: int | None
    team_id: int | None


@dataclass(frozen=True)
class Scope:
    """The deals one user may see and change, and what else their role allows."""

    user_id: int | None
    everything: bool
    team_ids: frozenset[int]
    # Managers and admins may move a deal past unmet exit criteria (with a reason) and
    # give deals to other owners.
    may_override: bool

    @classmethod
    def of(cls, user: Any) -> "Scope":
        """The scope of ``user``, cached on the user object while their role, team and
        active flag stay as they are (a request asks many times)."""
        key = (
            getattr(user, "pk", None),
            getattr(user, "is_active", False),
            getattr(user, "role", None),
            getattr(user, "is_superuser", False),
        )
        cached = getattr(user, "_loudou_scope", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            scope = cls(user_id=None, everything=False, team_ids=frozenset(), may_override=False)
        elif user.is_loudou_admin:
            scope = cls(user_id=user.pk, everything=True, team_ids=frozenset(), may_override=True)
        else:
            teams = (
                frozenset(Team.objects.filter(manager=user).values_list("id", flat=True))
                if user.is_manager
                else frozenset()
            )
            scope = cls(
                user_id=user.pk, everything=False, team_ids=teams, may_override=user.is_manager
            )
        user._loudou_scope = (key, scope)
        return scope

    @classmethod
    def unrestricted(cls) -> "Scope":
        """The command line's view when no --user is given: everything."""
        return cls(user_id=None, everything=True, team_ids=frozenset(), may_override=False)

    # -- seeing and changing deals ---------------------------------------------------------

    @property
    def nothing(self) -> bool:
        return not self.everything and self.user_id is None

    def deals_q(self) -> Q:
        """The filter for a queryset of deals (fields ``owner`` and ``team``)."""
        if self.everything:
            return Q()
        if self.user_id is None:
            return Q(pk__in=[])
        allowed = Q(owner_id=self.user_id)
        if self.team_ids:
            allowed |= Q(team_id__in=sorted(self.team_ids))
        return allowed

    def filter(self, deals: QuerySet) -> QuerySet:
        """``deals`` narrowed to those this user may see."""
        if self.nothing:
            return deals.none()
        return deals.filter(self.deals_q())

    def can_act(self, deal: Owned) -> bool:
        """May this user see and change ``deal``?"""
        return self.allows(owner_id=deal.owner_id, team_id=deal.team_id)

    def allows(self, *, owner_id: int | None, team_id: int | None) -> bool:
        if self.everything:
            return True
        if self.user_id is None:
            return False
        return owner_id == self.user_id or (team_id is not None and team_id in self.team_ids)

    def visibility(self) -> Visibility:
        """The same rule as data, for the reports' Polars filter."""
        if self.everything:
            return Visibility(all=True)
        return Visibility(all=False, user_id=self.user_id, team_ids=self.team_ids)

    # -- what the role allows ----------------------------------------------------------------

    @property
    def may_configure(self) -> bool:
        """Administrators change configuration: pipelines and exit criteria, teams, roles,
        quotas, webhooks, anyone's API tokens."""
        return self.everything and self.user_id is not None

    def manages(self, team_id: int | None) -> bool:
        """Administrators and the team's manager (its chat channels, for one)."""
        if self.user_id is None:
            return False
        return self.everything or (team_id is not None and team_id in self.team_ids)

    @property
    def may_reassign(self) -> bool:
        """Managers and admins may give a deal to another owner."""
        return self.may_override

    def can_own(self, owner: User) -> bool:
        """May this user make ``owner`` the owner of a deal?"""
        if self.everything:
            return True
        if self.user_id is None:
            return False
        return owner.pk == self.user_id or (
            owner.team_id is not None and owner.team_id in self.team_ids
        )

    def may_manage_team(self, team: Team) -> bool:
        """May this user configure ``team``'s settings (its chat channels)? Admins, and
        the team's own manager."""
        return self.everything or team.pk in self.team_ids

    def can_place(self, *, owner: User, team: Team | None) -> bool:
        """May a deal of ``owner`` be put in ``team``? A deal belongs to its owner's team;
        only an admin may file it elsewhere."""
        return team is None or team.pk == owner.team_id or self.everything

    def owner_choices(self) -> QuerySet[User]:
        """The active users this user may assign deals to, for forms."""
        users = User.objects.filter(is_active=True).order_by("team__name", "username")
        if self.everything:
            return users
        if self.user_id is None:
            return users.none()
        return users.filter(Q(pk=self.user_id) | Q(team_id__in=sorted(self.team_ids)))
