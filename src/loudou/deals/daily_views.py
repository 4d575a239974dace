"""The daily loop's pages: Today, next steps (schedule, complete, reschedule) and approval
requests (ask, the manager's queue, decide). Thin: a form, one service, a message."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from loudou.activities.models import NextStep
from loudou.activities.services import (
    cancel_next_step,
    complete_next_step,
    reschedule_next_step,
    schedule_next_step,
)
from loudou.core.errors import ServiceError
from loudou.core.views import require_post

from . import services
from .forms import (
    ApprovalRequestForm,
    CompleteStepForm,
    DecisionForm,
    NextStepForm,
    RescheduleForm,
)
from .models import ApprovalRequest
from .today import build_today
from .views import _form_errors, _report, _visible_deal


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    """Return to the page the form was on (``next``), if it is ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


def _run(request: HttpRequest, form: Any, action: Callable[[dict[str, Any]], str]) -> bool:
    """Validate ``form``, run ``action(data)`` (one service; returns the success message);
    put the outcome in the messages. True if it was done."""
    if not form.is_valid():
        _form_errors(request, form)
        return False
    try:
        messages.success(request, action(form.cleaned_data))
    except ServiceError as error:
        _report(request, error)
        return False
    return True


@login_required
def today(request: HttpRequest) -> HttpResponse:
    """The rep's home: what to do today; a manager also sees each rep of their teams and
    the approvals waiting for them."""
    return render(
        request,
        "deals/today.html",
        {
            "today": build_today(request.user),
            "complete_form": CompleteStepForm(),
            "reschedule_form": RescheduleForm(),
        },
    )


@login_required
@require_post
def step_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _visible_deal(request, pk)
    form = NextStepForm(request.POST, actor=request.user)

    def action(data: dict[str, Any]) -> str:
        schedule_next_step(
            actor=request.user,
            deal=deal,
            type=data["type"],
            due_at=data["due_at"],
            note=data["note"],
            assignee=data["assignee"],
        )
        return _("Next step scheduled.")

    _run(request, form, action)
    return _back(request, reverse("deal_detail", args=[deal.pk]))


def _visible_step(request: HttpRequest, step_id: int) -> NextStep:
    deals = services.deals_visible_to(request.user).values("pk")
    step = (
        NextStep.objects.filter(pk=step_id, deal__in=deals)
        .select_related("deal__stage", "deal__account", "deal__owner", "assignee")
        .first()
    )
    if step is None:
        raise Http404(_("No such next step, or it is not visible to you."))
    return step


def _step_answer(request: HttpRequest, step: NextStep) -> HttpResponse:
    if request.htmx:
        # On Today: the step's line, redrawn in place with the outcome's message.
        step.refresh_from_db()
        return render(
            request,
            "deals/_step.html",
            {
                "step": step,
                "complete_form": CompleteStepForm(),
                "reschedule_form": RescheduleForm(),
                "inline_messages": True,
            },
        )
    return _back(request, reverse("deal_detail", args=[step.deal_id]))


@login_required
@require_post
def step_complete(request: HttpRequest, step_id: int) -> HttpResponse:
    step = _visible_step(request, step_id)

    def action(data: dict[str, Any]) -> str:
        complete_next_step(
            actor=request.user, step=step, outcome=data["outcome"] or "", note=data["note"]
        )
        return _("Done; the activity is logged.")

    _run(request, CompleteStepForm(request.POST), action)
    return _step_answer(request, step)


@login_required
@require_post
def step_reschedule(request: HttpRequest, step_id: int) -> HttpResponse:
    step = _visible_step(request, step_id)

    def action(data: dict[str, Any]) -> str:
        reschedule_next_step(actor=request.user, step=step, due_at=data["due_at"])
        return _("Rescheduled.")

    _run(request, RescheduleForm(request.POST), action)
    return _step_answer(request, step)


@login_required
@require_post
def step_cancel(request: HttpRequest, step_id: int) -> HttpResponse:
    step = _visible_step(request, step_id)
    try:
        cancel_next_step(actor=request.user, step=step)
    except ServiceError as error:
        _report(request, error)
        return _step_answer(request, step)
    messages.success(request, _("Next step cancelled."))
    if request.htmx:
        # The line goes; the message replaces it.
        return render(request, "core/_messages.html")
    return _back(request, reverse("deal_detail", args=[step.deal_id]))


@login_required
@require_post
def approval_request(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _visible_deal(request, pk)

    def action(data: dict[str, Any]) -> str:
        services.request_approval(actor=request.user, deal=deal, note=data["note"])
        return _("Approval requested; your manager will see it in their queue.")

    _run(request, ApprovalRequestForm(request.POST), action)
    return _back(request, reverse("deal_detail", args=[deal.pk]))


@login_required
def approval_queue(request: HttpRequest) -> HttpResponse:
    """The approval requests waiting for this manager (or admin), oldest first."""
    waiting = (
        services.approval_queue(request.user)
        .select_related("deal__owner", "deal__stage", "deal__account", "stage", "requested_by")
        .order_by("requested_at", "id")
    )
    return render(
        request, "deals/approvals.html", {"waiting": waiting, "decision_form": DecisionForm()}
    )


@login_required
@require_post
def approval_decide(request: HttpRequest, request_id: int) -> HttpResponse:
    deals = services.deals_visible_to(request.user).values("pk")
    found = ApprovalRequest.objects.filter(pk=request_id, deal__in=deals).first()
    if found is None:
        raise Http404(_("No such approval request, or it is not visible to you."))

    def decide(data: dict[str, Any]) -> str:
        approve = data["decision"] == "approve"
        services.decide_approval(
            actor=request.user, request=found, approve=approve, note=data["note"]
        )
        return _("Approved.") if approve else _("Rejected.")

    _run(request, DecisionForm(request.POST), decide)
    return _back(request, "approval_queue")
