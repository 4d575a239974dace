"""The rules of stage changes: which transitions are legal and what each one requires.

The one place for them. The services (and through them the web pages, the API and the
commands) and the bulk import (``deals.bulk``) all ask this module; none of them decides
on its own what a deal's status, closing time or stage entry become.

METRICS.md, *Exit criteria*: a deal leaves an open stage for a later one only when the
stage's exit criteria are met, on every path:

- **create** in the first open stage: nothing is required. In a later stage: a forward
  move from the first stage, so the criteria of every earlier stage must be met by what
  is given at creation (no activity, attachment or approval can exist yet);
- **forward** to a later open stage, or **win**: the criteria of the current stage and of
  every stage skipped;
- **backward** and **lose**: nothing;
- **reopen** (won or lost back to open): into the stage it closed from or an earlier one,
  nothing; into a later stage, a forward move from the stage it closed from (activities
  and approvals of the stay that ended with the close count). A won deal with payments
  recorded stays won;
- unmet criteria may be overridden only by a manager or an administrator, with a reason;
  the event records both (a **forced move**);
- an **import** records history from another system: no criteria apply and its events are
  marked imported, but the history must be a legal one (it starts with a creation into an
  open stage, a closed deal only reopens into an open stage, times never go back) and a
  won deal with payments stays won.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import polars as pl
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from loudou.core.errors import InvalidInput, NotAllowed, ServiceError
from loudou.people.access import Scope
from loudou.pipelines.models import CriterionKind, Pipeline, Stage, StageKind

from .criteria import UnmetCriterion, unmet_criteria, unmet_of_current_stays
from .models import Deal, DealStatus, Payment, StageEvent


class CriteriaNotMet(ServiceError):
    """The deal does not meet the exit criteria of a stage it would leave."""

    code = "criteria_not_met"

    def __init__(self, unmet: list[UnmetCriterion]) -> None:
        self.unmet = unmet
        super().__init__(
            _("The deal does not meet the exit criteria of the stages it would leave.")
        )


class Kind(StrEnum):
    CREATE = "create"
    FORWARD = "forward"
    BACKWARD = "backward"
    WIN = "win"
    LOSE = "lose"
    REOPEN = "reopen"


@dataclass(frozen=True)
class Transition:
    """A stage change a deal would make, and what it requires.

    ``origin`` is the open stage the change starts from: the current stage, the one a
    closed deal closed from (reopen), the first stage (create). ``leaving`` are the stages
    whose exit criteria apply; activities and approvals count from ``since`` (None: none
    can exist yet)."""

    kind: Kind
    to_stage: Stage
    origin: Stage | None
    leaving: tuple[Stage, ...]
    since: dt.datetime | None


@dataclass(frozen=True)
class Override:
    """What a stage-change event records about unmet criteria: the reason, and which."""

    reason: str = ""
    overridden: tuple[UnmetCriterion, ...] = ()


def open_stages(pipeline_id: int) -> list[Stage]:
    """The open stages of a pipeline, in order (S1..Sn)."""
    return list(
        Stage.objects.filter(pipeline_id=pipeline_id, kind=StageKind.OPEN).order_by("position")
    )


def require_open_stage(stage: Stage, pipeline_id: int) -> None:
    if stage.pipeline_id != pipeline_id or stage.kind != StageKind.OPEN:
        raise InvalidInput({"stage": _("Pick an open stage of the deal's pipeline.")})


ARCHIVED_STAGE = _("This stage is archived: pick another stage.")
ARCHIVED_PIPELINE = _("This pipeline is archived: it takes no new deals.")
ARCHIVED_NOW = _(
    "This stage is archived: a deal's history may pass through it, but no deal may be in "
    "it now; choose another stage."
)


def require_not_archived(stage: Stage) -> None:
    """No deal enters an archived stage (deals already in it stay, and may leave)."""
    if stage.archived:
        raise InvalidInput({"stage": ARCHIVED_STAGE})


def _between(stages: list[Stage], start: Stage, end: Stage | None) -> tuple[Stage, ...]:
    """Open stages from ``start`` (included) up to ``end`` (excluded; None: to the last)."""
    return tuple(
        s
        for s in stages
        if s.position >= start.position and (end is None or s.position < end.position)
    )


def creation(*, pipeline_id: int, stage: Stage) -> Transition:
    """Creating a deal in ``stage``: a forward move from the pipeline's first stage."""
    require_open_stage(stage, pipeline_id)
    require_not_archived(stage)
    if Pipeline.objects.filter(pk=pipeline_id, archived=True).exists():
        raise InvalidInput({"pipeline": ARCHIVED_PIPELINE})
    stages = open_stages(pipeline_id)
    return Transition(Kind.CREATE, stage, stages[0], _between(stages, stages[0], stage), None)


def closed_from(deal: Deal) -> tuple[Stage | None, dt.datetime | None]:
    """The open stage a closed deal was closed from, and when it had entered that stage."""
    last_two = list(
        StageEvent.objects.filter(deal=deal).select_related("from_stage").order_by("-at", "-id")[:2]
    )
    if not last_two or last_two[0].from_stage is None:
        return None, None
    entered = last_two[1].at if len(last_two) > 1 else deal.created_at
    return last_two[0].from_stage, entered


def transition(*, deal: Deal, to_stage: Stage) -> Transition:
    """The transition taking ``deal`` (as it is now) to ``to_stage``; refuses illegal ones."""
    if to_stage.pipeline_id != deal.pipeline_id:
        raise InvalidInput({"stage": _("Pick a stage of the deal's pipeline.")})
    if to_stage.pk == deal.stage_id:
        raise InvalidInput({"stage": _("The deal is already in this stage.")})
    require_not_archived(to_stage)
    stages = open_stages(deal.pipeline_id)
    if deal.status != DealStatus.OPEN:
        if to_stage.kind != StageKind.OPEN:
            raise InvalidInput({"status": _("This deal is already closed.")})
        origin, entered = closed_from(deal)
        origin = origin if origin is not None and origin.kind == StageKind.OPEN else stages[0]
        leaving = _between(stages, origin, to_stage) if to_stage.position > origin.position else ()
        return Transition(Kind.REOPEN, to_stage, origin, leaving, entered)
    current = deal.stage
    if to_stage.kind == StageKind.WON:
        return Transition(Kind.WIN, to_stage, current, _between(stages, current, None), None)
    if to_stage.kind == StageKind.LOST:
        return Transition(Kind.LOSE, to_stage, current, (), None)
    if to_stage.position > current.position:
        return Transition(
            Kind.FORWARD, to_stage, current, _between(stages, current, to_stage), None
        )
    return Transition(Kind.BACKWARD, to_stage, current, (), None)


def unmet(change: Transition, deal: Deal) -> list[UnmetCriterion]:
    """The exit criteria ``deal`` does not meet for ``change`` (nothing is written)."""
    if not change.leaving:
        return []
    return unmet_criteria(deal, list(change.leaving), since=change.since)


def unmet_for_next_step(deals: Sequence[Deal]) -> dict[int, list[UnmetCriterion]]:
    """What each open deal lacks to go one step forward (to the next open stage, or to win
    from the last): a forward move to the very next stage leaves only the current stage, so
    its criteria, counted over the current stay, are all that apply. Many deals at once."""
    return unmet_of_current_stays([d for d in deals if d.status == DealStatus.OPEN])


def needs_approval(stage: Stage) -> bool:
    """Do the exit criteria of ``stage`` include a manager's approval?"""
    return stage.exit_criteria.filter(kind=CriterionKind.APPROVAL).exists()


def authorize(
    *,
    scope: Scope,
    unmet: list[UnmetCriterion],
    override_reason: str,
    owner_id: int | None = None,
) -> Override:
    """Allow a change with unmet criteria only as a manager's or admin's override with a
    reason; return what its event records. A manager may not override a manager's
    approval on their own deal (``owner_id``): they may not approve it either, and an
    override would be the same approval by another name; an admin may."""
    if not unmet:
        return Override()
    reason = (override_reason or "").strip()
    if not reason:
        raise CriteriaNotMet(unmet)
    if not scope.may_override:
        raise NotAllowed(_("Only a manager or an administrator may override exit criteria."))
    if (
        owner_id is not None
        and owner_id == scope.user_id
        and not scope.everything
        and any(u.kind == CriterionKind.APPROVAL for u in unmet)
    ):
        raise NotAllowed(
            _("You cannot override the approval of your own deal; ask another manager.")
        )
    return Override(reason, tuple(unmet))


def require(*, scope: Scope, change: Transition, deal: Deal, override_reason: str) -> Override:
    """Check ``change`` for ``deal``: its criteria met, or overridden by whom may."""
    return authorize(
        scope=scope,
        unmet=unmet(change, deal),
        override_reason=override_reason,
        owner_id=deal.owner_id,
    )


def check_reopen(deal: Deal) -> None:
    """A won deal with payments recorded stays won (its money is real)."""
    if deal.status == DealStatus.WON and Payment.objects.filter(deal=deal).exists():
        raise InvalidInput({"status": PAYMENTS_KEEP_WON})


PAYMENTS_KEEP_WON = _("Payments are recorded on this deal; it stays won.")


def state_after(to_stage: Stage, at: dt.datetime) -> dict[str, Any]:
    """The deal fields a stage change into ``to_stage`` at ``at`` sets."""
    closed = to_stage.kind != StageKind.OPEN
    state: dict[str, Any] = {
        "stage": to_stage,
        "stage_entered_at": at,
        "status": str(to_stage.kind) if closed else DealStatus.OPEN,
        "closed_at": at if closed else None,
    }
    if to_stage.kind != StageKind.LOST:
        state.update(lost_reason=None, lost_note="")
    return state


# ---------------------------------------------------------------------------------------
# Histories: whole event chains, as an import brings them


def chain_problem(kinds: Sequence[str], times: Sequence[dt.datetime]) -> Promise | None:
    """Why a deal's history (the kinds of the stages it entered, in order, and when) is
    not a legal one, or None. The first entry is the creation."""
    if not kinds:
        return _("A deal's history needs at least its creation.")
    if kinds[0] != StageKind.OPEN:
        return _("The first step must be an open stage (the creation).")
    for i in range(1, len(kinds)):
        if kinds[i - 1] != StageKind.OPEN and kinds[i] != StageKind.OPEN:
            return _("A closed deal can only be reopened into an open stage.")
        if times[i] < times[i - 1]:
            return _("Stage changes must be in time order.")
    return None


def archived_end(stage: Stage, *, entered: bool) -> Promise | None:
    """Why an imported history may not leave a deal in ``stage``, or None. Its past may
    pass through archived stages (that is history, and reports keep counting it), but a
    deal may not now be in an archived stage it was not in before (``entered``: the
    history's last step is new, not recorded already)."""
    if entered and stage.archived and stage.kind == StageKind.OPEN:
        return ARCHIVED_NOW
    return None


def archived_ends(events: pl.DataFrame, archived: set[int]) -> pl.Series:
    """``archived_end`` over many new histories at once: the ``deal`` keys whose last stage
    is one of the ``archived`` (open) stages. ``events``: deal, stage_id, sorted by deal
    and step."""
    last = events.group_by("deal", maintain_order=True).agg(stage_id=pl.col("stage_id").last())
    return last.filter(pl.col("stage_id").is_in(sorted(archived))).get_column("deal")


def new_deal_problem(pipeline: Pipeline) -> Promise | None:
    """Why a deal may not be created (or imported as new) in ``pipeline``, or None."""
    return ARCHIVED_PIPELINE if pipeline.archived else None


def leaves_won(kinds: Sequence[str], recorded: int) -> bool:
    """Does a history whose first ``recorded`` steps are already recorded take a deal that
    is won now out of won (a reopen, which payments forbid)?"""
    return 0 < recorded < len(kinds) and kinds[recorded - 1] == StageKind.WON


def chain_errors(events: pl.DataFrame) -> pl.Series:
    """``chain_problem`` over many histories at once: the ``deal`` keys whose history is
    not legal. ``events``: deal, kind, at, sorted by deal and step."""
    same = pl.col("deal") == pl.col("deal").shift(1)
    bad = events.select(
        "deal",
        bad=pl.when(same)
        .then(
            ((pl.col("kind") != "open") & (pl.col("kind").shift(1) != "open"))
            | (pl.col("at") < pl.col("at").shift(1))
        )
        .otherwise(pl.col("kind") != "open"),
    )
    return bad.filter("bad").get_column("deal").unique()


def final_states(events: pl.DataFrame) -> pl.DataFrame:
    """``state_after`` over many histories at once: per ``deal``, the fields its history
    sets (stage_id, stage_entered_at, status, closed_at) and created_at (its first step).
    ``events``: deal, stage_id, kind, at, sorted by deal and step."""
    return events.group_by("deal", maintain_order=True).agg(
        created_at=pl.col("at").first(),
        stage_id=pl.col("stage_id").last(),
        stage_entered_at=pl.col("at").last(),
        status=pl.col("kind").last(),
        closed_at=pl.when(pl.col("kind").last() != "open").then(pl.col("at").last()),
    )
