"""The board's "what is missing" dialog: the unmet exit criteria of a drop, each with the
fix it needs in place (a field to fill, an activity to log, a file to upload, an approval
to ask for), and applying what the user gave through the services before the move is
tried again. The rules (``deals.rules``) still decide; nothing moves until they pass."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import QueryDict
from django.utils.translation import gettext as _

from loudou.activities.models import Activity, ActivityType
from loudou.activities.services import log_activity
from loudou.people.models import User
from loudou.pipelines.models import CriterionKind, CustomField, ExitCriterion, FieldCheck, FieldType

from . import services
from .criteria import UnmetCriterion
from .models import ApprovalRequest, ApprovalStatus, AttachmentKind, Deal

# Deal fields that can be typed in the dialog, and their input type.
DEAL_FIELD_INPUTS = {
    "name": "text",
    "account": "text",
    "amount": "number",
    "currency": "text",
    "expected_close_date": "date",
    "source": "text",
}


@dataclass
class Fix:
    """One unmet criterion and how the dialog lets the user meet it."""

    unmet: UnmetCriterion
    kind: str
    input_name: str = ""
    input_type: str = ""
    choice: str = ""  # the activity type, or the attachment kind
    choice_label: str = ""
    waiting: bool = False  # an approval request is already waiting
    remaining: int = 0  # activities still needed (the dialog stays open, counting down)
    must_fill: bool = False  # a field that is empty (not one with too small a value)


def fixes_for(deal: Deal, unmet: list[UnmetCriterion]) -> list[Fix]:
    """The fixes for ``unmet`` (one per criterion; a field the dialog cannot edit, such as
    the contact, links to the deal page instead)."""
    criteria = {
        c.pk: c for c in ExitCriterion.objects.filter(pk__in=[u.criterion_id for u in unmet])
    }
    customs = {cf.key: cf for cf in CustomField.objects.all()}
    waiting = ApprovalRequest.objects.filter(
        deal=deal, stage_id=deal.stage_id, status=ApprovalStatus.PENDING
    ).exists()
    fixes = []
    for item in unmet:
        criterion = criteria.get(item.criterion_id)
        fix = Fix(unmet=item, kind=item.kind)
        if criterion is None:
            fixes.append(fix)
            continue
        if item.kind == CriterionKind.FIELD:
            name = criterion.field_name
            if name.startswith("custom."):
                cf = customs.get(name.removeprefix("custom."))
                if cf is not None:
                    fix.input_name = f"field__{name}"
                    fix.input_type = {
                        FieldType.NUMBER: "number",
                        FieldType.DATE: "date",
                        FieldType.BOOLEAN: "checkbox",
                    }.get(cf.type, "text")
                    if criterion.field_check == FieldCheck.TRUE:
                        fix.input_type = "checkbox"
            elif name in DEAL_FIELD_INPUTS:
                fix.input_name = f"field__{name}"
                fix.input_type = DEAL_FIELD_INPUTS[name]
            fix.must_fill = criterion.field_check == FieldCheck.FILLED
        elif item.kind == CriterionKind.ACTIVITY:
            fix.choice = criterion.activity_type or ActivityType.CALL
            fix.choice_label = str(ActivityType(fix.choice).label)
            # Counted as the rules count them for a move or a win: since the stage entry.
            logged = Activity.objects.filter(deal=deal, at__gte=deal.stage_entered_at)
            if criterion.activity_type:
                logged = logged.filter(type=criterion.activity_type)
            fix.remaining = max(1, criterion.min_count - logged.count())
        elif item.kind == CriterionKind.ATTACHMENT:
            fix.choice = criterion.attachment_kind
            try:
                fix.choice_label = str(AttachmentKind(fix.choice).label)
            except ValueError:
                fix.choice_label = fix.choice
        elif item.kind == CriterionKind.APPROVAL:
            fix.waiting = waiting
        fixes.append(fix)
    return fixes


def apply_fixes(
    *, actor: User, deal: Deal, version: int | None, data: QueryDict, files: Any
) -> list[str]:
    """Apply what the dialog's form gives, each through its service (a ``ServiceError``
    stops at the first refusal); return what was done, for the messages."""
    done: list[str] = []
    changes: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for key, value in data.items():
        if not key.startswith("field__"):
            continue
        name = key.removeprefix("field__")
        if name.startswith("custom."):
            if value == "on":
                custom[name.removeprefix("custom.")] = True
            elif value.strip():
                custom[name.removeprefix("custom.")] = value.strip()
        elif name in DEAL_FIELD_INPUTS and value.strip():
            if name == "account":
                changes["account"] = services.get_or_create_account(name=value.strip()[:200])
            elif name == "expected_close_date":
                try:
                    changes[name] = dt.date.fromisoformat(value.strip())
                except ValueError:
                    from loudou.core.errors import InvalidInput

                    raise InvalidInput({name: _("Not a date (YYYY-MM-DD).")}) from None
            else:
                changes[name] = value.strip()[:200]
    if custom:
        changes["custom"] = custom
    if changes:
        services.update_deal(
            actor=actor,
            deal=deal,
            expected_version=deal.version if version is None else version,
            changes=changes,
        )
        done.append(_("Deal saved."))
    # One activity per type ticked: each activity criterion offers its own type.
    for activity_type in dict.fromkeys(t for t in data.getlist("log_activity") if t):
        log_activity(
            actor=actor,
            deal=deal,
            type=activity_type,
            outcome=data.get("activity_outcome", ""),
            note=data.get(f"activity_note__{activity_type}", "")[:2000],
        )
        done.append(_("Activity logged."))
    upload: UploadedFile | None = files.get("attachment") if files else None
    if upload is not None:
        services.attach_file(
            actor=actor, deal=deal, kind=data.get("attachment_kind", "other"), file=upload
        )
        done.append(_("File attached."))
    if data.get("ask_approval") == "1":
        services.request_approval(actor=actor, deal=deal, note=data.get("approval_note", "")[:500])
        done.append(_("Approval requested; your manager will see it in their queue."))
    deal.refresh_from_db()
    return done
