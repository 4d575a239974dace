"""A user's "Today" (今日待办): what needs doing now, for the rep's home and the manager's
team, read in a bounded number of queries whatever the number of deals.

Sections, each ranked by urgency (days overdue, days over the limit) then weighted amount:
next steps overdue or due today; stale deals, with the reason in words; deals past their
expected close date; deals one exit criterion away from the next stage; deals closing this
month. Plus open deals with nothing scheduled, the approvals a manager may decide, and the
answers to the user's own approval requests.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from loudou.activities.models import NextStep
from loudou.limits import TODAY_MAX_DEALS
from loudou.people.access import Scope
from loudou.people.models import User
from loudou.pipelines.models import Stage, StageKind

from . import rules
from .criteria import UnmetCriterion
from .models import ApprovalRequest, ApprovalStatus, Deal, DealStatus
from .queries import days_since, is_stale, step_due, with_last_touch, with_next_step
from .services import approval_queue

# How long a decided approval request stays on its requester's Today.
ANSWERS_SHOWN_DAYS = 7
# Lines shown per section: one's own, and each rep's on a manager's Today.
SHOWN_MINE = 30
SHOWN_PER_REP = 5


def days_text(n: int) -> str:
    return ngettext("%(n)d day", "%(n)d days", n) % {"n": n}


def weighted(deal: Deal) -> Decimal:
    """The deal's amount times its stage's win probability."""
    return (deal.amount or Decimal(0)) * deal.stage.probability


@dataclass
class Item:
    """One line of Today: a deal (and its next step, for those), why it is there, and how
    urgent it is (higher first)."""

    deal: Deal
    reason: str
    urgency: int = 0
    step: NextStep | None = None

    @property
    def weighted(self) -> Decimal:
        return weighted(self.deal)


@dataclass
class Agenda:
    """The sections of one person's Today."""

    steps: list[Item] = field(default_factory=list)
    stale: list[Item] = field(default_factory=list)
    past_close: list[Item] = field(default_factory=list)
    one_away: list[Item] = field(default_factory=list)
    closing: list[Item] = field(default_factory=list)
    unscheduled: list[Item] = field(default_factory=list)
    owner_id: int | None = None
    # Items per section before ``rank`` kept the first ones.
    total: dict[str, int] = field(default_factory=dict)

    def sections(self) -> list[tuple[str, str, list[Item], int, str]]:
        """(key, title, items shown, how many more, the deal list showing them all)."""
        sections = [
            ("steps", _("Next steps due"), self.steps, ""),
            ("stale", _("Stale deals"), self.stale, "stale=1"),
            ("past_close", _("Past their expected close date"), self.past_close, "period=overdue"),
            ("one_away", _("One criterion from the next stage"), self.one_away, ""),
            ("closing", _("Closing this month"), self.closing, "period=this_month"),
            ("unscheduled", _("No next step scheduled"), self.unscheduled, "no_next_step=1"),
        ]
        return [
            (
                key,
                title,
                items,
                self.total.get(key, len(items)) - len(items),
                f"status=open&owner={self.owner_id}&{query}" if query else "",
            )
            for key, title, items, query in sections
        ]

    def rank(self, limit: int) -> None:
        """Most urgent first, then the largest weighted amount; keep ``limit`` per section
        (the page stays short and fast; the rest are a click away in the deal list)."""
        for key, _title, items, _more, _link in self.sections():
            items.sort(key=lambda i: (-i.urgency, -i.weighted, i.deal.pk))
            self.total[key] = len(items)
            del items[limit:]


@dataclass
class Today:
    user: User
    mine: Agenda
    team: list[tuple[User, Agenda]]
    approvals_waiting: list[ApprovalRequest]
    answers: list[ApprovalRequest]
    truncated: bool


def _stale_reason(days: int, limit: int) -> str:
    return _("untouched for %(days)s; this stage's limit is %(limit)s") % {
        "days": days_text(days),
        "limit": days_text(limit),
    }


def _fill(
    agenda: Agenda,
    deal: Deal,
    *,
    now: dt.datetime,
    today: dt.date,
    next_name: str,
    unmet: list[UnmetCriterion],
) -> None:
    """Put ``deal`` in every section of ``agenda`` it belongs to."""
    untouched = days_since(deal.last_touch, now)
    if is_stale(deal, now):  # the board's and the reports' rule
        agenda.stale.append(
            Item(
                deal, _stale_reason(untouched, deal.stage.rot_days), untouched - deal.stage.rot_days
            )
        )
    close = deal.expected_close_date
    if close is not None and close < today:
        late = (today - close).days
        agenda.past_close.append(
            Item(
                deal,
                ngettext(
                    "expected to close %(n)d day ago", "expected to close %(n)d days ago", late
                )
                % {"n": late},
                late,
            )
        )
    elif close is not None and (close.year, close.month) == (today.year, today.month):
        agenda.closing.append(Item(deal, _("expected to close on %(date)s") % {"date": close}))
    if len(unmet) == 1:
        agenda.one_away.append(
            Item(
                deal,
                _("to reach %(stage)s: %(missing)s")
                % {"stage": next_name, "missing": unmet[0].message},
            )
        )
    if deal.next_step_due is None:
        agenda.unscheduled.append(Item(deal, _("nothing scheduled")))


def build_today(user: User, *, now: dt.datetime | None = None) -> Today:
    """``user``'s Today: their own deals and next steps; a manager also gets each rep of
    the teams they manage, and the approval requests waiting for them. Deals come from the
    user's ``Scope`` only."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    end_of_today = timezone.make_aware(
        dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min)
    )
    scope = Scope.of(user)
    # Mine, plus the teams a manager manages (an admin's Today is their own deals).
    whose = Q(owner_id=user.pk)
    if scope.team_ids:
        whose |= Q(team_id__in=sorted(scope.team_ids))
    deals = list(
        with_next_step(with_last_touch(scope.filter(Deal.objects.filter(status=DealStatus.OPEN))))
        .filter(whose)
        .select_related("stage", "owner", "account")
        .order_by("-amount", "id")[: TODAY_MAX_DEALS + 1]
    )
    truncated = len(deals) > TODAY_MAX_DEALS
    deals = deals[:TODAY_MAX_DEALS]
    steps = list(
        NextStep.objects.filter(
            done_at__isnull=True,
            due_at__lt=end_of_today,
            deal__status=DealStatus.OPEN,
            deal__in=scope.filter(Deal.objects.all()).filter(whose).values("pk"),
        )
        .filter(Q(assignee_id=user.pk) | ~Q(deal__owner_id=user.pk))
        .select_related("deal__stage", "deal__account", "deal__owner", "assignee")
        .order_by("due_at", "id")
    )
    unmet = rules.unmet_for_next_step(deals)
    following = _next_stage_names({d.pipeline_id for d in deals})

    mine = Agenda(owner_id=user.pk)
    team: dict[int, Agenda] = {}
    people: dict[int, User] = {}

    def agenda_of(owner: User) -> Agenda:
        if owner.pk == user.pk:
            return mine
        people[owner.pk] = owner
        return team.setdefault(owner.pk, Agenda(owner_id=owner.pk))

    for deal in deals:
        _fill(
            agenda_of(deal.owner),
            deal,
            now=now,
            today=today,
            next_name=following.get(deal.stage_id, ""),
            unmet=unmet.get(deal.pk, []),
        )
    for step in steps:
        due = step_due(step.due_at, now)
        agenda_of(step.assignee).steps.append(Item(step.deal, due.words, due.days_overdue, step))
    mine.rank(SHOWN_MINE)
    for agenda in team.values():
        agenda.rank(SHOWN_PER_REP)
    waiting = list(
        approval_queue(user)
        .select_related("deal__owner", "deal__stage", "stage", "requested_by")
        .order_by("requested_at", "id")
    )
    answers = list(
        ApprovalRequest.objects.filter(
            deal__owner_id=user.pk,
            deal__status=DealStatus.OPEN,
            decided_at__gte=now - dt.timedelta(days=ANSWERS_SHOWN_DAYS),
        )
        .exclude(status=ApprovalStatus.PENDING)
        .select_related("deal", "stage", "decided_by")
        .order_by("-decided_at", "-id")
    )
    reps = sorted(people.values(), key=lambda u: str(u))
    return Today(
        user=user,
        mine=mine,
        team=[(rep, team[rep.pk]) for rep in reps],
        approvals_waiting=waiting,
        answers=answers,
        truncated=truncated,
    )


def _next_stage_names(pipeline_ids: set[int]) -> dict[int, str]:
    """Per open stage id, the name of the step after it (the next open stage, or Won)."""
    names: dict[int, str] = {}
    by_pipeline: dict[int, list[Stage]] = defaultdict(list)
    for stage in Stage.objects.filter(pipeline_id__in=pipeline_ids).order_by("position"):
        by_pipeline[stage.pipeline_id].append(stage)
    for stages in by_pipeline.values():
        open_ = [s for s in stages if s.kind == StageKind.OPEN]
        won = next((s for s in stages if s.kind == StageKind.WON), None)
        for current, after in zip(open_, [*open_[1:], won], strict=True):
            names[current.pk] = after.name if after is not None else ""
    return names
