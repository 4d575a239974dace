"""Deal pages: the kanban board, the deal list, a deal's page and its actions.

Views parse a form, call one service and turn a ``ServiceError`` into a message."""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_htmx.http import reswap, retarget, trigger_client_event

from loudou.accounts.models import Contact
from loudou.activities.services import log_activity
from loudou.core.errors import InvalidInput, ServiceError
from loudou.core.views import require_post
from loudou.people.access import Scope
from loudou.pipelines.models import CustomField, Pipeline, Stage, StageKind

from . import board, listing, move_dialog, rules, services
from .forms import (
    ActivityForm,
    ApprovalRequestForm,
    ApproveForm,
    AttachmentForm,
    CompleteStepForm,
    ContactForm,
    DealCreateForm,
    DealEditForm,
    LoseForm,
    MoveForm,
    NextStepForm,
    PaymentForm,
    ReopenForm,
    RescheduleForm,
    WinForm,
    custom_values,
)
from .models import Attachment, Deal, DealStatus, StageEvent


def _pipeline(request: HttpRequest) -> Pipeline:
    key = request.GET.get("pipeline")
    if key:
        return get_object_or_404(Pipeline, key=key)
    return services.default_pipeline()


def _visible_deal(request: HttpRequest, pk: int) -> Deal:
    deal = (
        services.deals_visible_to(request.user)
        .select_related("owner", "team", "stage", "pipeline", "account", "lost_reason")
        .filter(pk=pk)
        .first()
    )
    if deal is None:
        raise Http404(_("No such deal, or it is not visible to you."))
    return deal


def _report(request: HttpRequest, error: ServiceError) -> None:
    """Put a service's refusal on the page as messages a user can act on."""
    unmet = getattr(error, "unmet", None)
    if unmet:
        messages.error(request, str(error))
        for item in unmet:
            messages.warning(request, item.message)
    elif isinstance(error, InvalidInput):
        for message in error.errors.values():
            messages.error(request, str(message))
    else:
        messages.error(request, str(error))


def _form_errors(request: HttpRequest, form: Any) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


def _board_context(request: HttpRequest, pipeline: Pipeline) -> dict[str, Any]:
    """The board's columns under the filters in the query string (kept on drops too: the
    board posts to the action's address with its query string)."""
    scope = Scope.of(request.user)
    filters = board.BoardFilters.parse(request.GET, scope)
    columns = board.board_columns(request.user, pipeline, filters)
    return {
        "pipeline": pipeline,
        "pipelines": Pipeline.objects.filter(archived=False),
        "columns": columns,
        "filters": filters,
        "filter_qs": filters.querystring(),
        "total": sum((c.amount for c in columns), Decimal(0)),
        "weighted_total": sum((c.weighted for c in columns), Decimal(0)),
        "count": sum(c.count for c in columns),
    }


def _filter_choices(request: HttpRequest, pipeline: Pipeline) -> dict[str, Any]:
    scope = Scope.of(request.user)
    return {
        "owners": scope.owner_choices(),
        "teams": board.teams_for(scope),
        "sources": services.deals_visible_to(request.user)
        .filter(pipeline=pipeline)
        .exclude(source="")
        .order_by("source")
        .values_list("source", flat=True)
        .distinct()[:200],
        "periods": list(board.PERIODS.items()),
    }


@login_required
def board_view(request: HttpRequest) -> HttpResponse:
    """The kanban board: visible open deals by stage, filtered, with totals per column and
    for the pipeline, badges (stale, overdue, no next step) and lazy paging."""
    pipeline = _pipeline(request)
    context = _board_context(request, pipeline)
    if request.htmx and not request.htmx.boosted:
        return render(request, "deals/_board.html", context)
    context.update(_filter_choices(request, pipeline))
    return render(request, "deals/board.html", context)


@login_required
def board_column(request: HttpRequest, stage_id: int) -> HttpResponse:
    """More cards of one column (lazy paging), from ``offset``."""
    stage = get_object_or_404(Stage, pk=stage_id, kind=StageKind.OPEN)
    filters = board.BoardFilters.parse(request.GET, Scope.of(request.user))
    offset = request.GET.get("offset", "0")
    offset_n = min(int(offset), 1_000_000) if offset.isdigit() else 0
    now = timezone.now()
    deals = filters.apply(board.base_deals(request.user, stage.pipeline), timezone.localdate(now))
    page, more = board.cards(deals, stage, filters, now, offset_n)
    return render(
        request,
        "deals/_cards.html",
        {
            "column": board.Column(stage=stage, deals=page, more=more, offset=offset_n + len(page)),
            "filter_qs": filters.querystring(),
        },
    )


@login_required
def deal_list(request: HttpRequest) -> HttpResponse:
    """Every visible deal, filtered (owner, team, stage, status, source, close period,
    stale, no next step, text), sorted, with totals; the export links carry the filters."""
    filters = listing.ListFilters.parse(request.GET, request.user)
    deals = filters.apply(request.user)
    page = Paginator(deals.select_related("owner", "account", "stage", "pipeline"), 50).get_page(
        request.GET.get("page")
    )
    now = timezone.now()
    today = timezone.localdate(now)
    for deal in page:
        if deal.status == DealStatus.OPEN:
            board.decorate(deal, now, today)
    sorts = []
    for key, label in listing.SORTS.items():
        descending = filters.sort == key
        sorts.append(
            (
                label,
                filters.querystring(sort=("-" if descending else "") + key),
                filters.sort.removeprefix("-") == key,
                filters.sort.startswith("-"),
                key,
            )
        )
    pipeline = services.default_pipeline()
    return render(
        request,
        "deals/list.html",
        {
            "page": page,
            "filters": filters,
            "filter_qs": filters.querystring(),
            "sorts": {s[4]: s for s in sorts},
            "totals": listing.totals(deals),
            "statuses": DealStatus.choices,
            "stages": Stage.objects.filter(kind=StageKind.OPEN).select_related("pipeline"),
            **_filter_choices(request, pipeline),
        },
    )


@login_required
def deal_create(request: HttpRequest) -> HttpResponse:
    pipeline = _pipeline(request)
    form = DealCreateForm(request.POST or None, actor=request.user, pipeline=pipeline)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            deal = services.create_deal(
                actor=request.user,
                name=data["name"],
                owner=data["owner"],
                pipeline=pipeline,
                stage=data["stage"],
                amount=data["amount"],
                currency=data["currency"] or None,
                expected_close_date=data["expected_close_date"],
                account_name=data["account_name"],
                source=data["source"],
                custom={k: v for k, v in custom_values(data).items() if v not in (None, "")},
                override_reason=data.get("override_reason", ""),
            )
        except ServiceError as error:
            _report(request, error)
        else:
            messages.success(request, _("Deal created."))
            return redirect("deal_detail", pk=deal.pk)
    return render(request, "deals/create.html", {"form": form, "pipeline": pipeline})


@login_required
def deal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    deal = _visible_deal(request, pk)
    scope = Scope.of(request.user)
    can_act = scope.can_act(deal)
    is_manager = scope.may_override
    next_stage = (
        Stage.objects.filter(
            pipeline_id=deal.pipeline_id, kind=StageKind.OPEN, position__gt=deal.stage.position
        ).first()
        if deal.status == DealStatus.OPEN
        else None
    )
    won_stage = deal.pipeline.outcome(StageKind.WON)
    unmet_next = services.check_move(deal=deal, to_stage=next_stage) if next_stage else []
    unmet_win = services.check_move(deal=deal, to_stage=won_stage) if deal.status == "open" else []
    paid = deal.payments.aggregate(s=Sum("amount"))["s"] or 0
    context = {
        "deal": deal,
        "can_act": can_act,
        "is_manager": is_manager,
        "edit_form": DealEditForm(
            initial=DealEditForm.initial_for(deal), actor=request.user, auto_id="edit_%s"
        ),
        "move_form": MoveForm(
            initial={"version": deal.version, "stage": next_stage}, deal=deal, auto_id="move_%s"
        ),
        "win_form": WinForm(initial={"version": deal.version}, auto_id="win_%s"),
        "lose_form": LoseForm(initial={"version": deal.version}, auto_id="lose_%s"),
        "reopen_form": ReopenForm(
            deal=deal,
            initial={"version": deal.version, "stage": rules.closed_from(deal)[0]}
            if deal.status != DealStatus.OPEN
            else None,
            auto_id="reopen_%s",
        ),
        "approve_form": ApproveForm(auto_id="approve_%s"),
        **_daily_context(request, deal, is_manager=is_manager),
        "activity_form": ActivityForm(auto_id="activity_%s"),
        "attachment_form": AttachmentForm(auto_id="attachment_%s"),
        "payment_form": PaymentForm(
            initial={"paid_on": timezone.localdate()}, auto_id="payment_%s"
        ),
        "next_stage": next_stage,
        "unmet_next": unmet_next,
        "unmet_win": unmet_win,
        "events": StageEvent.objects.filter(deal=deal)
        .select_related("from_stage", "to_stage", "by")
        .order_by("-at", "-id"),
        "activities": deal.activities.select_related("by", "contact")[:100],
        "attachments": deal.attachments.select_related("uploaded_by"),
        # Approvals given without a request (the request's line shows the others).
        "direct_approvals": deal.approvals.filter(request__isnull=True).select_related(
            "stage", "approved_by"
        ),
        "payments": deal.payments.select_related("recorded_by"),
        "paid": paid,
        "outstanding": (deal.amount or 0) - paid if deal.status == DealStatus.WON else None,
        # (label, type, stored value): the template formats each by its type.
        "custom_fields": [
            (cf.name, cf.type, (deal.custom or {}).get(cf.key)) for cf in CustomField.objects.all()
        ],
    }
    return render(request, "deals/detail.html", context)


def _daily_context(request: HttpRequest, deal: Deal, *, is_manager: bool) -> dict[str, Any]:
    """The deal page's next steps and approval requests."""
    open_deal = deal.status == DealStatus.OPEN
    needs = open_deal and rules.needs_approval(deal.stage)
    approved = needs and services.is_approved(deal=deal)
    requests = list(
        deal.approval_requests.select_related("stage", "requested_by", "decided_by").order_by(
            "-requested_at", "-id"
        )
    )
    waiting = next(
        (r for r in requests if r.status == "pending" and r.stage_id == deal.stage_id), None
    )
    return {
        "next_steps": deal.next_steps.filter(done_at__isnull=True).select_related("assignee"),
        "next_step_form": NextStepForm(actor=request.user, auto_id="step_%s"),
        "complete_form": CompleteStepForm(),
        "reschedule_form": RescheduleForm(),
        "approval_requests": requests,
        "stage_approved": approved,
        "approval_waiting": waiting,
        "can_request_approval": needs and not approved and waiting is None,
        "approval_request_form": ApprovalRequestForm(auto_id="ask_%s"),
        "contacts": [
            (
                c,
                ContactForm(
                    initial={
                        "contact_id": c.pk,
                        **{f: getattr(c, f) for f in services.CONTACT_FIELDS},
                    },
                    auto_id=f"contact{c.pk}_%s",
                ),
            )
            for c in (deal.account.contacts.all() if deal.account_id else [])
        ],
        "contact_form": ContactForm(auto_id="newcontact_%s"),
        "may_approve": needs
        and not approved
        and ((is_manager and deal.owner_id != request.user.pk) or request.user.is_loudou_admin),
    }


def _board_response(request: HttpRequest, pipeline: Pipeline) -> HttpResponse:
    """The refreshed board (for a drop, or the dialog's last step), closing the dialog."""
    response = render(request, "deals/_board.html", _board_context(request, pipeline))
    response = retarget(response, "#board")
    response = reswap(response, "outerHTML")
    return trigger_client_event(response, "loudou:closeDialog")


def _dialog_response(
    request: HttpRequest,
    deal: Deal,
    stage: Stage | None,
    unmet: list[Any],
    *,
    submitted: bool = False,
) -> HttpResponse:
    """The "still needed" dialog of a drop on ``stage`` (None: Won); ``submitted``: drawn
    again after its form was sent, so each fix left empty says so."""
    deal.refresh_from_db()
    response = render(
        request,
        "deals/_move_dialog.html",
        {
            "deal": deal,
            "stage": stage,
            "target": stage.pk if stage is not None else "won",
            "target_name": stage.name if stage is not None else _("Won"),
            "fixes": move_dialog.fixes_for(deal, unmet),
            "submitted": submitted,
            "is_manager": Scope.of(request.user).may_override,
            "filter_qs": board.BoardFilters.parse(
                request.GET, Scope.of(request.user)
            ).querystring(),
        },
    )
    response = retarget(response, "#move-dialog")
    return reswap(response, "innerHTML")


@login_required
@require_post
def deal_move_fix(request: HttpRequest, pk: int) -> HttpResponse:
    """The dialog's form: apply the fixes given (fields, an activity, a file, an approval
    request), then try the drop's move again; the dialog stays until the rules pass."""
    deal = _visible_deal(request, pk)
    target = request.POST.get("to", "")
    stage = None
    if target != "won":
        stage = get_object_or_404(
            Stage, pk=int(target) if target.isdigit() else 0, pipeline_id=deal.pipeline_id
        )
    version = request.POST.get("version", "")
    override = request.POST.get("override_reason", "").strip()[:500]
    done: list[str] = []
    try:
        done = move_dialog.apply_fixes(
            actor=request.user,
            deal=deal,
            version=int(version) if version.isdigit() else None,
            data=request.POST,
            files=request.FILES,
        )
        for line in done:
            messages.success(request, line)
        if stage is None:
            services.win_deal(actor=request.user, deal=deal, override_reason=override)
            messages.success(request, _("Deal won. Congratulations!"))
        else:
            services.move_deal(
                actor=request.user, deal=deal, to_stage=stage, override_reason=override
            )
            messages.success(request, _("Moved to %(stage)s.") % {"stage": stage.name})
    except rules.CriteriaNotMet as error:
        # Say why the dialog came back: the same dialog without a word looked broken.
        n = len(error.unmet)
        if done:
            messages.error(
                request,
                ngettext(
                    "Not moved yet: %(n)d criterion below is still unmet.",
                    "Not moved yet: %(n)d criteria below are still unmet.",
                    n,
                )
                % {"n": n},
            )
        else:
            messages.error(
                request, _("Not moved: nothing was given for what is still needed below.")
            )
        return _dialog_response(request, deal, stage, error.unmet, submitted=True)
    except ServiceError as error:
        _report(request, error)
        unmet = services.check_move(
            deal=deal, to_stage=stage or deal.pipeline.outcome(StageKind.WON)
        )
        return _dialog_response(request, deal, stage, unmet)
    return _board_response(request, deal.pipeline)


@login_required
def lose_dialog(request: HttpRequest, pk: int) -> HttpResponse:
    """The board's Lost drop zone: ask why before closing the deal as lost."""
    deal = _visible_deal(request, pk)
    return render(
        request,
        "deals/_lose_dialog.html",
        {
            "deal": deal,
            "lose_form": LoseForm(initial={"version": deal.version}),
            "filter_qs": board.BoardFilters.parse(
                request.GET, Scope.of(request.user)
            ).querystring(),
        },
    )


def _no_kwargs(request: HttpRequest, deal: Deal) -> dict[str, Any]:
    return {}


def _deal_action(
    form_class: type,
    action: Callable[[HttpRequest, Deal, dict[str, Any]], str],
    *,
    form_kwargs: Callable[[HttpRequest, Deal], dict[str, Any]] = _no_kwargs,
) -> Callable[[HttpRequest, int], HttpResponse]:
    """Build a POST view: validate ``form_class``, run ``action`` (which calls one service
    and returns a success message), report refusals, return to the deal page."""

    @login_required
    @require_post
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        deal = _visible_deal(request, pk)
        from_board = bool(request.htmx) and request.POST.get("from") == "board"
        form = form_class(request.POST, request.FILES, **form_kwargs(request, deal))
        if not form.is_valid():
            _form_errors(request, form)
        else:
            try:
                messages.success(request, action(request, deal, form.cleaned_data))
            except rules.CriteriaNotMet as error:
                if from_board:
                    # A drop on a blocked stage: the dialog says what is missing and
                    # lets the user fix it there.
                    target = "won" if request.resolver_match.url_name == "deal_win" else ""
                    stage = None if target else form.cleaned_data.get("stage")
                    return _dialog_response(request, deal, stage, error.unmet)
                _report(request, error)
            except ServiceError as error:
                _report(request, error)
        if from_board:
            # A drag on the board: answer with the refreshed board and its messages.
            return _board_response(request, deal.pipeline)
        return redirect("deal_detail", pk=deal.pk)

    return view


def _update(request: HttpRequest, deal: Deal, data: dict[str, Any]) -> str:
    changes = {
        "name": data["name"],
        "amount": data["amount"],
        "expected_close_date": data["expected_close_date"],
        "source": data["source"],
        "forecast_category": data["forecast_category"],
        "custom": custom_values(data),
    }
    if data["currency"]:
        changes["currency"] = data["currency"]
    if data["owner"].pk != deal.owner_id:
        changes["owner"] = data["owner"]
    account_name = (data["account_name"] or "").strip()
    if account_name != (deal.account.name if deal.account else ""):
        changes["account"] = (
            services.get_or_create_account(name=account_name) if account_name else None
        )
    services.update_deal(
        actor=request.user, deal=deal, expected_version=data["version"], changes=changes
    )
    return _("Deal saved.")


def _move(request: HttpRequest, deal: Deal, data: dict[str, Any]) -> str:
    result = services.move_deal(
        actor=request.user,
        deal=deal,
        to_stage=data["stage"],
        override_reason=data["override_reason"],
        expected_version=data["version"],
    )
    if result.overridden:
        return _("Moved to %(stage)s, overriding %(n)d exit criteria.") % {
            "stage": data["stage"].name,
            "n": len(result.overridden),
        }
    return _("Moved to %(stage)s.") % {"stage": data["stage"].name}


def _win(request: HttpRequest, deal: Deal, data: dict[str, Any]) -> str:
    services.win_deal(
        actor=request.user,
        deal=deal,
        override_reason=data["override_reason"],
        expected_version=data["version"],
    )
    return _("Deal won. Congratulations!")


def _lose(request: HttpRequest, deal: Deal, data: dict[str, Any]) -> str:
    services.lose_deal(
        actor=request.user,
        deal=deal,
        reason=data["reason"],
        note=data["note"],
        expected_version=data["version"],
    )
    return _("Deal marked as lost.")


def _reopen(request: HttpRequest, deal: Deal, data: dict[str, Any]) -> str:
    services.reopen_deal(
        actor=request.user,
        deal=deal,
        to_stage=data["stage"],
        override_reason=data["override_reason"],
        expected_version=data["version"],
    )
    return _("Deal reopened.")


def _approve(request: HttpRequest, deal: Deal, data: dict[str, Any]) -> str:
    services.approve_stage_exit(actor=request.user, deal=deal, note=data["note"])
    return _("Approved leaving %(stage)s.") % {"stage": deal.stage.name}


def _activity(request: HttpRequest, deal: Deal, data: dict[str, Any]) -> str:
    at: dt.datetime | None = data["at"]
    log_activity(
        actor=request.user,
        deal=deal,
        type=data["type"],
        at=at,
        outcome=data["outcome"] or "",
        note=data["note"],
    )
    return _("Activity logged.")


def _attach(request: HttpRequest, deal: Deal, data: dict[str, Any]) -> str:
    services.attach_file(actor=request.user, deal=deal, kind=data["kind"], file=data["file"])
    return _("File attached.")


def _payment(request: HttpRequest, deal: Deal, data: dict[str, Any]) -> str:
    services.record_payment(
        actor=request.user,
        deal=deal,
        amount=data["amount"],
        paid_on=data["paid_on"],
        note=data["note"],
    )
    return _("Payment recorded.")


def _contact(request: HttpRequest, deal: Deal, data: dict[str, Any]) -> str:
    contact = None
    if data["contact_id"]:
        contact = Contact.objects.filter(pk=data["contact_id"], account_id=deal.account_id).first()
        if contact is None:
            raise InvalidInput({"contact": _("The contact must belong to the deal's account.")})
    values = {k: data[k] for k in services.CONTACT_FIELDS}
    services.save_contact(actor=request.user, deal=deal, values=values, contact=contact)
    return _("Contact saved.")


def _with_deal(request: HttpRequest, deal: Deal) -> dict[str, Any]:
    return {"deal": deal}


deal_update = _deal_action(DealEditForm, _update, form_kwargs=lambda r, d: {"actor": r.user})
deal_move = _deal_action(MoveForm, _move, form_kwargs=_with_deal)
deal_win = _deal_action(WinForm, _win)
deal_lose = _deal_action(LoseForm, _lose)
deal_reopen = _deal_action(ReopenForm, _reopen, form_kwargs=_with_deal)
deal_approve = _deal_action(ApproveForm, _approve)
deal_log_activity = _deal_action(ActivityForm, _activity)
deal_attach = _deal_action(AttachmentForm, _attach)
deal_payment = _deal_action(PaymentForm, _payment)
deal_contact = _deal_action(ContactForm, _contact)


@login_required
def attachment_download(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    deal = _visible_deal(request, pk)
    attachment = get_object_or_404(Attachment, pk=attachment_id, deal=deal)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("The file is missing from storage.")) from exc
    return FileResponse(handle, as_attachment=True, filename=attachment.name)
