"""The settings pages. Thin: read the form, call the app's service, say what happened.

Admins configure everything; managers set their teams' quotas; everyone else gets 403.
"""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from loudou.activities.models import ActivityType
from loudou.core import passwords
from loudou.core.errors import ServiceError
from loudou.core.templatetags.loudou_format import number
from loudou.core.views import require_post
from loudou.deals.criteria import CRITERION_FIELDS, NUMBER_FIELDS, rule_words
from loudou.deals.models import AttachmentKind, Deal, LostReason
from loudou.deals.services import save_lost_reason
from loudou.people import services as people
from loudou.people.models import Quota, Role, Team, User
from loudou.pipelines import services as pipeline_services
from loudou.pipelines.models import (
    CriterionKind,
    CustomField,
    ExitCriterion,
    FieldCheck,
    FieldType,
    ForecastCategory,
    Pipeline,
    Stage,
    StageKind,
)
from loudou.spreadsheets.parsing import CellError, parse_amount

View = Callable[..., HttpResponse]


def admin_only(view: View) -> View:
    @wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_loudou_admin:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _attempt(request: HttpRequest, action: Callable[[], Any], done: str) -> bool:
    """Run a service call; its refusal becomes the page's message, success ``done``."""
    try:
        action()
    except ServiceError as exc:
        messages.error(request, str(exc))
        return False
    messages.success(request, done)
    return True


def _cell_error(request: HttpRequest, exc: CellError) -> str:
    return exc.zh if request.LANGUAGE_CODE.startswith("zh") else exc.en


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_loudou_admin and not (people.quota_users(user) or people.quota_teams(user)):
        raise PermissionDenied
    return render(request, "configure/index.html", {"is_admin": user.is_loudou_admin})


# -- pipelines and stages ---------------------------------------------------------------------


@admin_only
def pipelines(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        created: list[Pipeline] = []
        if _attempt(
            request,
            lambda: created.append(
                pipeline_services.create_pipeline(
                    actor=request.user,
                    key=request.POST.get("key", ""),
                    name_zh=request.POST.get("name_zh", ""),
                    name_en=request.POST.get("name_en", ""),
                )
            ),
            _("Pipeline created."),
        ):
            return redirect("settings_pipeline", pk=created[0].pk)
    return render(
        request,
        "configure/pipelines.html",
        {"pipelines": Pipeline.objects.all(), "values": request.POST},
    )


@admin_only
def pipeline_detail(request: HttpRequest, pk: int) -> HttpResponse:
    pipeline = get_object_or_404(Pipeline, pk=pk)
    if request.method == "POST":
        if request.POST.get("action") == "rename":
            _attempt(
                request,
                lambda: pipeline_services.rename_pipeline(
                    actor=request.user,
                    pipeline=pipeline,
                    name_zh=request.POST.get("name_zh", ""),
                    name_en=request.POST.get("name_en", ""),
                ),
                _("Saved."),
            )
        elif request.POST.get("action") in ("archive", "restore"):
            archived = request.POST["action"] == "archive"
            _attempt(
                request,
                lambda: pipeline_services.archive_pipeline(
                    actor=request.user, pipeline=pipeline, archived=archived
                ),
                _("Pipeline archived: it takes no new deals; its deals and reports stay.")
                if archived
                else _("Pipeline restored."),
            )
        elif request.POST.get("action") == "add_stage":
            _attempt(
                request,
                lambda: pipeline_services.add_stage(
                    actor=request.user,
                    pipeline=pipeline,
                    key=request.POST.get("key", ""),
                    name_zh=request.POST.get("name_zh", ""),
                    name_en=request.POST.get("name_en", ""),
                    probability_percent=request.POST.get("probability", ""),
                    rot_days=_int(request.POST.get("rot_days"), 14),
                ),
                _("Stage added."),
            )
        return redirect("settings_pipeline", pk=pipeline.pk)
    stages = list(pipeline.stages.all())
    criteria = ExitCriterion.objects.filter(stage__pipeline=pipeline).select_related("stage")
    by_stage: dict[int, list[dict[str, Any]]] = {}
    custom = {cf.key: cf for cf in CustomField.objects.all()}
    for criterion in criteria:
        by_stage.setdefault(criterion.stage_id, []).append(
            {
                "criterion": criterion,
                "words": rule_words(criterion, custom),
                "min_value": _plain(criterion.min_value),
            }
        )
    open_stages = [
        {"stage": s, "percent": _plain(s.probability * 100), "criteria": by_stage.get(s.pk, [])}
        for s in stages
        if s.kind == StageKind.OPEN
    ]
    return render(
        request,
        "configure/pipeline.html",
        {
            "pipeline": pipeline,
            "open_stages": open_stages,
            "outcomes": [s for s in stages if s.kind != StageKind.OPEN],
            "categories": ForecastCategory.choices,
            "pickers": _criterion_pickers(),
        },
    )


def _criterion_pickers() -> dict[str, Any]:
    """The choices of the exit-criterion form: deal fields and custom fields (whether
    each holds a number: the page offers "at least" for those only), checks (whether each
    needs a number), activity types, attachment kinds."""
    fields = [
        (name, str(Deal._meta.get_field(name).verbose_name), name in NUMBER_FIELDS)
        for name in CRITERION_FIELDS
    ]
    fields += [
        (f"custom.{cf.key}", cf.name, cf.type == FieldType.NUMBER)
        for cf in CustomField.objects.all()
    ]
    checks = [(k, label, k == FieldCheck.AT_LEAST) for k, label in FieldCheck.choices]
    return {
        "kinds": CriterionKind.choices,
        "fields": fields,
        "checks": checks,
        "activity_types": ActivityType.choices,
        "attachment_kinds": AttachmentKind.choices,
    }


@admin_only
@require_post
def stage_update(request: HttpRequest, pk: int) -> HttpResponse:
    stage = get_object_or_404(Stage, pk=pk)
    _attempt(
        request,
        lambda: pipeline_services.update_stage(
            actor=request.user,
            stage=stage,
            name_zh=request.POST.get("name_zh", ""),
            name_en=request.POST.get("name_en", ""),
            probability_percent=request.POST.get("probability", ""),
            rot_days=_int(request.POST.get("rot_days"), 0),
            forecast_category=request.POST.get("forecast_category") or None,
        ),
        _("Saved."),
    )
    return redirect("settings_pipeline", pk=stage.pipeline_id)


@admin_only
@require_post
def stage_order(request: HttpRequest, pk: int) -> HttpResponse:
    """The open stages in a new order (the drag and drop, or the arrows)."""
    pipeline = get_object_or_404(Pipeline, pk=pk)
    ids = [_int(v, -1) for v in request.POST.get("order", "").split(",") if v.strip()]
    ok = _attempt(
        request,
        lambda: pipeline_services.reorder_stages(
            actor=request.user, pipeline=pipeline, stage_ids=ids
        ),
        _("The stages are in their new order."),
    )
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"ok": ok}, status=200 if ok else 400)
    return redirect("settings_pipeline", pk=pipeline.pk)


@admin_only
@require_post
def stage_archive(request: HttpRequest, pk: int) -> HttpResponse:
    stage = get_object_or_404(Stage, pk=pk)
    outcome: list[str] = []
    try:
        outcome.append(pipeline_services.archive_stage(actor=request.user, stage=stage))
    except ServiceError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Stage archived: its deals and history stay; no deal can enter it.")
            if outcome[0] == "archived"
            else _("Stage deleted: no deal had ever been in it."),
        )
    return redirect("settings_pipeline", pk=stage.pipeline_id)


@admin_only
@require_post
def stage_restore(request: HttpRequest, pk: int) -> HttpResponse:
    stage = get_object_or_404(Stage, pk=pk)
    _attempt(
        request,
        lambda: pipeline_services.restore_stage(actor=request.user, stage=stage),
        _("Stage restored."),
    )
    return redirect("settings_pipeline", pk=stage.pipeline_id)


def _criterion_input(request: HttpRequest) -> dict[str, Any] | None:
    """The exit-criterion form's values for ``pipeline_services.add_criterion`` or
    ``update_criterion``; None (with the page's message) when the minimum is no amount."""
    post = request.POST
    minimum: Decimal | None = None
    if post.get("min_value", "").strip():
        try:
            minimum = parse_amount(post["min_value"])
        except CellError as exc:
            messages.error(request, _cell_error(request, exc))
            return None
    return {
        "kind": post.get("kind", ""),
        "field_name": post.get("field_name", ""),
        "field_check": post.get("field_check", ""),
        "min_value": minimum,
        "activity_type": post.get("activity_type", ""),
        "min_count": _int(post.get("min_count"), 1),
        "attachment_kind": post.get("attachment_kind", ""),
        "description_zh": post.get("description_zh", ""),
        "description_en": post.get("description_en", ""),
    }


def _rule_read(request: HttpRequest, criterion: ExitCriterion) -> None:
    """Say the saved rule in the words reps will read when a deal does not meet it."""
    messages.info(request, _("Reps will read: %(words)s") % {"words": rule_words(criterion)})


@admin_only
@require_post
def criterion_add(request: HttpRequest, pk: int) -> HttpResponse:
    stage = get_object_or_404(Stage, pk=pk)
    values = _criterion_input(request)
    created: list[ExitCriterion] = []
    if values is not None and _attempt(
        request,
        lambda: created.append(
            pipeline_services.add_criterion(actor=request.user, stage=stage, **values)
        ),
        _("Exit criterion added."),
    ):
        _rule_read(request, created[0])
    return redirect("settings_pipeline", pk=stage.pipeline_id)


@admin_only
@require_post
def criterion_update(request: HttpRequest, pk: int) -> HttpResponse:
    criterion = get_object_or_404(ExitCriterion.objects.select_related("stage"), pk=pk)
    values = _criterion_input(request)
    saved: list[ExitCriterion] = []
    if values is not None and _attempt(
        request,
        lambda: saved.append(
            pipeline_services.update_criterion(actor=request.user, criterion=criterion, **values)
        ),
        _("Exit criterion saved: it holds for moves from now on; past moves keep their record."),
    ):
        _rule_read(request, saved[0])
    return redirect("settings_pipeline", pk=criterion.stage.pipeline_id)


@admin_only
@require_post
def criterion_delete(request: HttpRequest, pk: int) -> HttpResponse:
    criterion = get_object_or_404(ExitCriterion.objects.select_related("stage"), pk=pk)
    pipeline_id = criterion.stage.pipeline_id
    _attempt(
        request,
        lambda: pipeline_services.delete_criterion(actor=request.user, criterion=criterion),
        _("Exit criterion removed."),
    )
    return redirect("settings_pipeline", pk=pipeline_id)


# -- custom fields, lost reasons ----------------------------------------------------------------


@admin_only
def custom_fields(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        post = request.POST
        field = CustomField.objects.filter(pk=_int(post.get("id"), -1)).first()
        if field is not None:
            action = lambda: pipeline_services.rename_custom_field(  # noqa: E731
                actor=request.user,
                field=field,
                name_zh=post.get("name_zh", ""),
                name_en=post.get("name_en", ""),
            )
        else:
            action = lambda: pipeline_services.create_custom_field(  # noqa: E731
                actor=request.user,
                key=post.get("key", ""),
                name_zh=post.get("name_zh", ""),
                name_en=post.get("name_en", ""),
                type=post.get("type", ""),
            )
        if _attempt(request, action, _("Saved.")):
            return redirect("settings_fields")
    return render(
        request,
        "configure/fields.html",
        {"fields": CustomField.objects.all(), "types": FieldType.choices, "values": request.POST},
    )


@admin_only
def lost_reasons(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        post = request.POST
        reason = LostReason.objects.filter(pk=_int(post.get("id"), -1)).first()
        if _attempt(
            request,
            lambda: save_lost_reason(
                actor=request.user,
                key=post.get("key", ""),
                name_zh=post.get("name_zh", ""),
                name_en=post.get("name_en", ""),
                active=post.get("active") == "1",
                reason=reason,
            ),
            _("Saved."),
        ):
            return redirect("settings_lost_reasons")
    return render(
        request,
        "configure/lost_reasons.html",
        {"reasons": LostReason.objects.all(), "values": request.POST},
    )


# -- users, teams, quotas -----------------------------------------------------------------------


@admin_only
def users(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        post = request.POST
        team = Team.objects.filter(pk=_int(post.get("team"), -1)).first()
        if _attempt(
            request,
            lambda: people.create_user(
                actor=request.user,
                username=post.get("username", ""),
                password=post.get("password", ""),
                display_name=post.get("display_name", ""),
                role=post.get("role", ""),
                team=team,
                email=post.get("email", ""),
            ),
            _("User created."),
        ):
            return redirect("settings_users")
    return render(
        request,
        "configure/users.html",
        {
            "users": User.objects.select_related("team").order_by("-is_active", "username"),
            "teams": Team.objects.select_related("manager"),
            "managers": User.objects.filter(role=Role.MANAGER, is_active=True),
            "roles": Role.choices,
            "values": request.POST,
        },
    )


@admin_only
@require_post
def user_update(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    post = request.POST
    _attempt(
        request,
        lambda: people.update_user(
            actor=request.user,
            user=user,
            role=post.get("role", ""),
            team=Team.objects.filter(pk=_int(post.get("team"), -1)).first(),
            display_name=post.get("display_name", ""),
            active=post.get("active") == "1",
            email=post.get("email"),
        ),
        _("Saved."),
    )
    return redirect("settings_users")


@admin_only
@require_post
def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    """Give a user a new password, to pass on to them (they forgot theirs, have no e-mail
    address, or were locked out)."""
    user = get_object_or_404(User, pk=pk)
    changed: list[User] = []
    if (
        _attempt(
            request,
            lambda: changed.append(
                passwords.admin_set_password(
                    actor=request.user, user=user, password=request.POST.get("password", "")
                )
            ),
            _("New password set for %(user)s: pass it on to them. Their account is unlocked.")
            % {"user": user},
        )
        and changed[0].pk == request.user.pk
    ):
        update_session_auth_hash(request, changed[0])  # one's own: stay logged in here
    return redirect("settings_users")


@admin_only
@require_post
def user_reset_link(request: HttpRequest, pk: int) -> HttpResponse:
    """E-mail a user a link to choose a new password themselves."""
    user = get_object_or_404(User, pk=pk)
    _attempt(
        request,
        lambda: passwords.admin_send_reset_link(
            actor=request.user,
            user=user,
            site=passwords.LinkSite.of(request),
            # The recipient's language is not known: the organisation's (LOUDOU_LANGUAGE).
            language=settings.LANGUAGE_CODE,
        ),
        _("A link to choose a new password is on its way to %(email)s.") % {"email": user.email},
    )
    return redirect("settings_users")


@admin_only
@require_post
def team_save(request: HttpRequest) -> HttpResponse:
    post = request.POST
    _attempt(
        request,
        lambda: people.save_team(
            actor=request.user,
            name=post.get("name", ""),
            manager=User.objects.filter(pk=_int(post.get("manager"), -1)).first(),
            team=Team.objects.filter(pk=_int(post.get("id"), -1)).first(),
        ),
        _("Saved."),
    )
    return redirect("settings_users")


def _quarters(year: int) -> list[tuple[str, dt.date, dt.date]]:
    starts = [dt.date(year, m, 1) for m in (1, 4, 7, 10)] + [dt.date(year + 1, 1, 1)]
    return [(f"Q{i + 1}", starts[i], starts[i + 1]) for i in range(4)]


@login_required
def quotas(request: HttpRequest) -> HttpResponse:
    """Two grids of quotas, one column per quarter of the chosen year: one row per rep, and
    one per team (the team's own target; under each cell, the sum of its reps' quotas).
    Cells take amounts as people write them; pasting a block copied from Excel fills a
    grid (settings.js); an emptied cell removes the quota. Both grids save at once."""
    reps = people.quota_users(request.user)
    teams = people.quota_teams(request.user)
    if not reps and not teams:
        raise PermissionDenied
    year = _int(request.GET.get("year") or request.POST.get("year"), timezone.localdate().year)
    if not 2000 <= year <= 2100:
        year = timezone.localdate().year
    periods = _quarters(year)
    # (prefix, target): "q" cells are a rep's quota, "t" cells a team's.
    targets = [("q", rep) for rep in reps] + [("t", team) for team in teams]
    if request.method == "POST":
        cells: list[people.QuotaCell] = []
        errors = []
        for prefix, target in targets:
            for label, start, end in periods:
                text = request.POST.get(f"{prefix}-{target.pk}-{start.isoformat()}")
                if text is None:
                    continue
                amount = None
                if text.strip():
                    try:
                        amount = parse_amount(text)
                    except CellError as exc:
                        errors.append(f"{target} {label}: {_cell_error(request, exc)}")
                        continue
                who = {"user": target} if prefix == "q" else {"team": target}
                cells.append(people.QuotaCell(start=start, end=end, amount=amount, **who))
        if errors:
            for error in errors[:20]:
                messages.error(request, error)
        elif _attempt(
            request,
            lambda: people.set_quotas(actor=request.user, cells=cells),
            _("Quotas saved."),
        ):
            return redirect(f"{reverse('settings_quotas')}?year={year}")
    existing: dict[tuple[str, int, dt.date], Decimal] = {}
    for q in Quota.objects.filter(
        Q(user__in=reps) | Q(team__in=teams),
        period_start__gte=periods[0][1],
        period_end__lte=periods[-1][2],
    ):
        key = ("q", q.user_id) if q.user_id is not None else ("t", q.team_id)
        existing[(*key, q.period_start)] = q.amount
    # What a team's empty cell stands for (the team's digest counts it then): the sum of
    # the quotas of its reps in the grid above.
    members: dict[tuple[int, dt.date], Decimal] = {}
    for rep in reps:
        for _label, start, _end in periods:
            amount = existing.get(("q", rep.pk, start))
            if rep.team_id is not None and amount is not None:
                members[(rep.team_id, start)] = members.get((rep.team_id, start), 0) + amount

    def cells_of(prefix: str, target: User | Team) -> list[dict[str, Any]]:
        row = []
        for label, start, _end in periods:
            name = f"{prefix}-{target.pk}-{start.isoformat()}"
            value = (
                request.POST.get(name)
                if request.method == "POST"
                else _grouped(existing.get((prefix, target.pk, start)))
            )
            reps_total = members.get((target.pk, start)) if prefix == "t" else None
            row.append(
                {
                    "name": name,
                    "label": f"{year} {label}",
                    "value": value,
                    "reps_total": _grouped(reps_total),
                }
            )
        return row

    return render(
        request,
        "configure/quotas.html",
        {
            "rows": [{"rep": rep, "cells": cells_of("q", rep)} for rep in reps],
            "team_rows": [{"team": team, "cells": cells_of("t", team)} for team in teams],
            "periods": periods,
            "year": year,
            "years": range(year - 2, year + 3),
        },
    )


def _grouped(amount: Decimal | None) -> str:
    """An amount as the quota grid shows it, grouped as its help text writes amounts
    (1,200,000), in both languages: Django's zh-Hans formats group no digits. The grid
    reads it back as it is."""
    return "" if amount is None else number(amount)


def _plain(amount: Decimal | None) -> str:
    if amount is None:
        return ""
    text = format(amount, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
