"""Web forms for deals. They only parse input; the services decide."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from loudou.activities.models import ActivityOutcome, ActivityType, NextStepType
from loudou.limits import FIRST_DATE, LAST_DATE, MAX_AMOUNT
from loudou.people.access import Scope
from loudou.people.models import User
from loudou.pipelines.models import CustomField, FieldType, ForecastCategory, Pipeline, Stage

from .models import AttachmentKind, Deal, LostReason
from .values import amount_too_large

NOTE_WIDGET = forms.Textarea(attrs={"rows": 2})


def amount_field(label: str, *, required: bool, minimum: Decimal = Decimal(0)) -> forms.Field:
    """An amount: two places, from ``minimum`` to ``limits.MAX_AMOUNT``."""
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=minimum,
        max_value=MAX_AMOUNT,
        decimal_places=2,
        error_messages={
            # Lazy: the message is in the language of the request that shows it.
            "max_value": lazy(amount_too_large, str)(),
            "min_value": _("The amount cannot be negative.")
            if minimum == 0
            else _("A payment must be more than zero."),
        },
    )


def date_range(value: dt.date | dt.datetime | None) -> None:
    """Dates typed in forms lie between 1900 and 2199 (``loudou.limits``)."""
    if value is None:
        return
    day = value.date() if isinstance(value, dt.datetime) else value
    if not FIRST_DATE <= day <= LAST_DATE:
        raise forms.ValidationError(_("Use a date from 1900 to 2199."))


def date_widget() -> forms.DateInput:
    """A date input whose value is always ISO (YYYY-MM-DD), as the browser's date picker
    requires: the zh-Hans format (2027/01/15) would show as empty and be saved as such."""
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


def datetime_widget() -> forms.DateTimeInput:
    """A datetime-local input with the ISO value the browser requires."""
    return forms.DateTimeInput(format="%Y-%m-%dT%H:%M", attrs={"type": "datetime-local"})


def override_field() -> forms.CharField:
    return forms.CharField(
        label=_("Override reason (managers)"),
        required=False,
        max_length=500,
        help_text=_("Managers and administrators may go past unmet exit criteria, with a reason."),
    )


def custom_form_fields() -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    for cf in CustomField.objects.all():
        name = f"custom_{cf.key}"
        if cf.type == FieldType.NUMBER:
            fields[name] = forms.DecimalField(label=cf.name, required=False)
        elif cf.type == FieldType.BOOLEAN:
            fields[name] = forms.NullBooleanField(label=cf.name, required=False)
        elif cf.type == FieldType.DATE:
            fields[name] = forms.DateField(
                label=cf.name, required=False, widget=date_widget(), validators=[date_range]
            )
        else:
            fields[name] = forms.CharField(label=cf.name, required=False, max_length=200)
    return fields


def custom_values(cleaned: dict[str, Any]) -> dict[str, Any]:
    values = {}
    for key, value in cleaned.items():
        if key.startswith("custom_"):
            if hasattr(value, "isoformat"):
                value = value.isoformat()
            elif value is not None and not isinstance(value, bool | str):
                value = str(value)
            values[key.removeprefix("custom_")] = value
    return values


class DealFieldsForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    account_name = forms.CharField(label=_("Account"), max_length=200, required=False)
    amount = amount_field(_("Amount"), required=False)
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)
    expected_close_date = forms.DateField(
        label=_("Expected close date"),
        required=False,
        widget=date_widget(),
        validators=[date_range],
    )
    source = forms.CharField(label=_("Source"), max_length=50, required=False)
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=User.objects.none(), empty_label=_("Choose an owner…")
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = Scope.of(actor).owner_choices()
        self.fields.update(custom_form_fields())


class DealCreateForm(DealFieldsForm):
    stage = forms.ModelChoiceField(
        label=_("Stage"),
        queryset=Stage.objects.none(),
        empty_label=_("Choose a stage…"),
        help_text=_(
            "A later stage than the first needs the exit criteria of the stages before it."
        ),
    )
    override_reason = override_field()

    def __init__(self, *args: Any, actor: User, pipeline: Pipeline, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        stages = Stage.objects.filter(pipeline=pipeline, kind="open", archived=False)
        self.fields["stage"].queryset = stages
        self.fields["stage"].initial = stages.first()
        self.fields["owner"].initial = actor.pk
        self.fields["currency"].initial = pipeline.currency
        if not Scope.of(actor).may_override:
            del self.fields["override_reason"]


class DealEditForm(DealFieldsForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    forecast_category = forms.ChoiceField(
        label=_("Forecast category"),
        required=False,
        choices=[("", _("Stage default"))]
        + [
            (c.value, c.label)
            for c in (
                ForecastCategory.PIPELINE,
                ForecastCategory.BEST_CASE,
                ForecastCategory.COMMIT,
                ForecastCategory.OMITTED,
            )
        ],
    )

    @classmethod
    def initial_for(cls, deal: Deal) -> dict[str, Any]:
        initial = {
            "name": deal.name,
            "account_name": deal.account.name if deal.account else "",
            "amount": deal.amount,
            "currency": deal.currency,
            "expected_close_date": deal.expected_close_date,
            "source": deal.source,
            "owner": deal.owner_id,
            "version": deal.version,
            "forecast_category": deal.forecast_category,
        }
        for key, value in (deal.custom or {}).items():
            initial[f"custom_{key}"] = value
        return initial


class MoveForm(forms.Form):
    stage = forms.ModelChoiceField(
        label=_("Move to"), queryset=Stage.objects.none(), empty_label=_("Choose a stage…")
    )
    override_reason = override_field()
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, deal: Deal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["stage"]
        # No deal enters an archived stage (deals.rules); it is not offered.
        field.queryset = Stage.objects.filter(
            pipeline_id=deal.pipeline_id, kind="open", archived=False
        ).exclude(pk=deal.stage_id)
        current = deal.stage.position
        # In the last open stage every move is a move back (going on is winning).
        self.forward = field.queryset.filter(position__gt=current).exists()
        if not self.forward:
            field.label = _("Move back to")
        # Say which way each choice goes: forward moves need the exit criteria.
        field.label_from_instance = lambda stage: (
            (_("%(stage)s (forward)") if stage.position > current else _("%(stage)s (back)"))
            % {"stage": stage.name}
        )


class WinForm(forms.Form):
    override_reason = override_field()
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class LoseForm(forms.Form):
    reason = forms.ModelChoiceField(
        label=_("Lost reason"),
        queryset=LostReason.objects.filter(active=True),
        empty_label=_("Choose a reason…"),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=NOTE_WIDGET)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ReopenForm(forms.Form):
    # No blank choice: the page chooses the stage the deal closed from (the service's
    # default when none is given).
    stage = forms.ModelChoiceField(
        label=_("Reopen into"),
        queryset=Stage.objects.none(),
        required=False,
        empty_label=None,
        help_text=_(
            "The stage it was closed from or an earlier one; a later stage needs the exit "
            "criteria of the stages in between."
        ),
    )
    override_reason = override_field()
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, deal: Deal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = Stage.objects.filter(
            pipeline_id=deal.pipeline_id, kind="open", archived=False
        )


class ApproveForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class ActivityForm(forms.Form):
    type = forms.ChoiceField(label=_("Type"), choices=ActivityType.choices)
    at = forms.DateTimeField(
        label=_("Time"), required=False, widget=datetime_widget(), validators=[date_range]
    )
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ActivityOutcome.choices, required=False)
    note = forms.CharField(label=_("Note"), required=False, widget=NOTE_WIDGET)


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=AttachmentKind.choices)
    file = forms.FileField(label=_("File"))


class PaymentForm(forms.Form):
    amount = amount_field(_("Amount"), required=True, minimum=Decimal("0.01"))
    paid_on = forms.DateField(label=_("Paid on"), widget=date_widget(), validators=[date_range])
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


class NextStepForm(forms.Form):
    type = forms.ChoiceField(label=_("Type"), choices=NextStepType.choices)
    due_at = forms.DateTimeField(label=_("Due"), widget=datetime_widget(), validators=[date_range])
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=User.objects.none(), required=False
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Who may be chosen is the actor's owner choices; the service checks the deal.
        self.fields["assignee"].queryset = Scope.of(actor).owner_choices()
        self.fields["assignee"].empty_label = _("The deal's owner")


class CompleteStepForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ActivityOutcome.choices, required=False)
    note = forms.CharField(label=_("What happened"), required=False, max_length=2000)


class RescheduleForm(forms.Form):
    due_at = forms.DateTimeField(
        label=_("New time"), widget=datetime_widget(), validators=[date_range]
    )


class ApprovalRequestForm(forms.Form):
    note = forms.CharField(label=_("Note for the manager"), required=False, max_length=500)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("Approve")), ("reject", _("Reject"))]
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class ContactForm(forms.Form):
    contact_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), max_length=100)
    title = forms.CharField(label=_("Title"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    wechat = forms.CharField(label=_("WeChat"), max_length=100, required=False)
    is_decision_maker = forms.BooleanField(label=_("Decision maker"), required=False)
