"""Next steps (follow-ups) and approval requests over the API: the same services as Today
and the deal page (activities.services, deals.services), the same scope."""

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status
from pydantic import Field

from loudou.activities import services as activities
from loudou.activities.models import ActivityOutcome, NextStep, NextStepType
from loudou.deals import services
from loudou.deals.models import ApprovalRequest, Deal
from loudou.people.access import Scope
from loudou.people.models import User

from .common import errors, lookup
from .deals import visible_deal
from .errors import NotFound
from .inputs import Id, Moment, Note, text

router = Router(tags=["next steps and approvals"])


class NextStepOut(Schema):
    id: int
    deal_id: int
    type: str
    due_at: dt.datetime
    note: str
    assignee: str
    overdue: bool


class NextStepIn(Schema):
    type: Literal[tuple(NextStepType.values)]  # type: ignore[valid-type]
    due_at: Moment = Field(description="with a time zone; may be in the future")
    note: Note = ""
    assignee: text(150) | None = Field(None, description="username; default: the owner")


class NextStepPatch(Schema):
    due_at: Moment
    note: Note | None = None


class CompleteIn(Schema):
    outcome: Literal[tuple(ActivityOutcome.values)] = ""  # type: ignore[valid-type]
    note: Note = ""


class CompletedOut(Schema):
    activity_id: int
    type: str
    at: dt.datetime


class RequestIn(Schema):
    note: Note = ""


class DecideIn(Schema):
    approve: bool
    note: Note = ""


class RequestOut(Schema):
    id: int
    deal_id: int
    stage: str
    status: str
    note: str
    requested_by: str
    requested_at: dt.datetime
    decided_by: str | None
    decision_note: str


def step_out(step: NextStep) -> dict[str, Any]:
    return {
        "id": step.pk,
        "deal_id": step.deal_id,
        "type": step.type,
        "due_at": step.due_at,
        "note": step.note,
        "assignee": step.assignee.username,
        "overdue": step.due_at < dt.datetime.now(dt.UTC),
    }


def request_out(request: ApprovalRequest) -> dict[str, Any]:
    return {
        "id": request.pk,
        "deal_id": request.deal_id,
        "stage": request.stage.key,
        "status": request.status,
        "note": request.note,
        "requested_by": request.requested_by.username,
        "requested_at": request.requested_at,
        "decided_by": request.decided_by.username if request.decided_by else None,
        "decision_note": request.decision_note,
    }


def _visible_step(request: HttpRequest, step_id: int) -> NextStep:
    step = (
        activities.next_steps_visible_to(request.user)
        .select_related("assignee", "deal")
        .filter(pk=step_id)
        .first()
    )
    if step is None:
        raise NotFound(_("No such next step, or it is not visible to you."))
    return step


def _steps() -> Any:
    return NextStep.objects.select_related("assignee").order_by("due_at", "id")


@router.get("/next-steps", response={200: list[NextStepOut], **errors()})
def list_next_steps(request: HttpRequest, mine: bool = False) -> Any:
    """Open next steps of the deals the caller sees (``mine``: assigned to the caller),
    soonest first; at most 500."""
    steps = activities.next_steps_visible_to(request.user).select_related("assignee")
    if mine:
        steps = steps.filter(assignee=request.user)
    return [step_out(s) for s in steps.order_by("due_at", "id")[:500]]


@router.get("/deals/{deal_id}/next-steps", response={200: list[NextStepOut], **errors(404)})
def deal_next_steps(request: HttpRequest, deal_id: Id) -> Any:
    """The deal's open next steps."""
    deal = visible_deal(request, deal_id)
    return [step_out(s) for s in _steps().filter(deal=deal, done_at__isnull=True)]


@router.post("/deals/{deal_id}/next-steps", response={201: NextStepOut, **errors(403, 404)})
def schedule_next_step(request: HttpRequest, deal_id: Id, payload: NextStepIn) -> Any:
    """Schedule a next step (call, visit, meeting, e-mail, WeChat, task) on an open deal."""
    deal = visible_deal(request, deal_id)
    assignee = (
        lookup(User, "assignee", _("user"), username=payload.assignee) if payload.assignee else None
    )
    step = activities.schedule_next_step(
        actor=request.user,
        deal=deal,
        type=payload.type,
        due_at=payload.due_at,
        note=payload.note,
        assignee=assignee,
    )
    return Status(201, step_out(_steps().get(pk=step.pk)))


@router.patch("/next-steps/{step_id}", response={200: NextStepOut, **errors(403, 404)})
def reschedule_next_step(request: HttpRequest, step_id: Id, payload: NextStepPatch) -> Any:
    """Move a next step to another time (and change its note)."""
    step = _visible_step(request, step_id)
    activities.reschedule_next_step(
        actor=request.user, step=step, due_at=payload.due_at, note=payload.note
    )
    return step_out(_steps().get(pk=step.pk))


@router.post("/next-steps/{step_id}/complete", response={201: CompletedOut, **errors(403, 404)})
def complete_next_step(request: HttpRequest, step_id: Id, payload: CompleteIn) -> Any:
    """Done: the activity is logged with its outcome and note, in one action."""
    step = _visible_step(request, step_id)
    activity = activities.complete_next_step(
        actor=request.user, step=step, outcome=payload.outcome, note=payload.note
    )
    return Status(201, {"activity_id": activity.pk, "type": activity.type, "at": activity.at})


@router.delete("/next-steps/{step_id}", response={204: None, **errors(403, 404)})
def cancel_next_step(request: HttpRequest, step_id: Id) -> Any:
    """Cancel a next step that will not happen."""
    step = _visible_step(request, step_id)
    activities.cancel_next_step(actor=request.user, step=step)
    return Status(204, None)


def _requests() -> Any:
    return ApprovalRequest.objects.select_related("stage", "requested_by", "decided_by")


@router.get("/approval-requests", response={200: list[RequestOut], **errors()})
def approval_queue(request: HttpRequest) -> Any:
    """Waiting requests the caller may decide (managers: their teams' deals, not their
    own; admins: all); empty for reps."""
    queue = services.approval_queue(request.user).values("pk")
    return [request_out(r) for r in _requests().filter(pk__in=queue).order_by("requested_at")]


@router.post("/deals/{deal_id}/approval-requests", response={201: RequestOut, **errors(403, 404)})
def request_approval(request: HttpRequest, deal_id: Id, payload: RequestIn) -> Any:
    """Ask a manager to approve the deal leaving its current stage."""
    deal = visible_deal(request, deal_id)
    asked = services.request_approval(actor=request.user, deal=deal, note=payload.note)
    return Status(201, request_out(_requests().get(pk=asked.pk)))


@router.post(
    "/approval-requests/{request_id}/decide", response={200: RequestOut, **errors(403, 404)}
)
def decide_approval(request: HttpRequest, request_id: Id, payload: DecideIn) -> Any:
    """Approve or reject a waiting request (a rejection needs a note)."""
    deals = Scope.of(request.user).filter(Deal.objects.all()).values("pk")
    asked = _requests().filter(pk=request_id, deal__in=deals).first()
    if asked is None:
        raise NotFound(_("No such approval request, or it is not visible to you."))
    decided = services.decide_approval(
        actor=request.user, request=asked, approve=payload.approve, note=payload.note
    )
    return request_out(_requests().get(pk=decided.pk))
