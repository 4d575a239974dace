"""Exit criteria (阶段升迁标志): evaluate which criteria a deal does not meet.

Pure read-side logic: ``deals.rules`` decides which stages' criteria a transition must
meet and calls this to find the unmet ones; the UI calls it to show what is missing.
"""

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Count, F
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from loudou.pipelines.models import (
    CriterionKind,
    CustomField,
    ExitCriterion,
    FieldCheck,
    FieldType,
    Stage,
)

from .models import Attachment, AttachmentKind, Deal, StageApproval

# Deal fields an exit criterion may name (custom fields are "custom.<key>").
CRITERION_FIELDS = (
    "name",
    "account",
    "contact",
    "amount",
    "currency",
    "expected_close_date",
    "source",
)
# Deal fields holding a number, which an "at least" criterion can weigh.
NUMBER_FIELDS = ("amount",)


@dataclass(frozen=True)
class UnmetCriterion:
    """One exit criterion a deal does not meet, explained in both languages."""

    criterion_id: int
    stage_key: str
    kind: str
    message_zh: str
    message_en: str

    @property
    def message(self) -> str:
        lang = (translation.get_language() or "zh-hans").lower()
        return self.message_zh if lang.startswith("zh") else self.message_en

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def field_exists(field_name: str) -> bool:
    """True if ``field_name`` is a deal field or a defined custom field."""
    if field_name.startswith("custom."):
        return CustomField.objects.filter(key=field_name.removeprefix("custom.")).exists()
    return field_name in CRITERION_FIELDS


def holds_number(field_name: str) -> bool:
    """True if ``field_name`` holds a number an "at least" criterion can weigh: the
    amount or a number custom field (a name or a date is no number to compare)."""
    if field_name.startswith("custom."):
        key = field_name.removeprefix("custom.")
        return CustomField.objects.filter(key=key, type=FieldType.NUMBER).exists()
    return field_name in NUMBER_FIELDS


def field_label(field_name: str) -> str:
    """The name a person reads for a criterion's field (the active language)."""
    return _field_label(field_name, {cf.key: cf for cf in CustomField.objects.all()})


def _field_value(deal: Deal, field_name: str) -> Any:
    if field_name.startswith("custom."):
        return (deal.custom or {}).get(field_name.removeprefix("custom."))
    if field_name in ("account", "contact"):
        return getattr(deal, f"{field_name}_id")
    return getattr(deal, field_name, None)


def _field_label(field_name: str, custom_fields: dict[str, CustomField]) -> str:
    if field_name.startswith("custom."):
        cf = custom_fields.get(field_name.removeprefix("custom."))
        return cf.name if cf else field_name
    try:
        return capfirst(str(Deal._meta.get_field(field_name).verbose_name))
    except Exception:  # an unknown name configured by hand: show it as it is
        return field_name


def plain_number(value: Decimal) -> str:
    """1000.00 -> "1000", 0.50 -> "0.5": no exponent, no trailing zeros."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _is_filled(value: Any) -> bool:
    return value not in (None, "", [], {})


def _as_decimal(value: Any) -> Decimal | None:
    """The finite number ``value`` is, else None. A NaN does not compare (it raises), and
    neither it nor an infinity is an amount that meets a minimum: a criterion stored on a
    text field (a deal named "NaN") or a value stored by hand must read as unmet."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


@dataclass
class _Facts:
    activity_counts: Counter
    attachment_kinds: set[str]
    approved_stage_ids: set[int]
    custom_fields: dict[str, CustomField]


def _gather(deal: Deal, since: dt.datetime | None) -> _Facts:
    """Load, in a few queries, what criteria look at: activities and approvals since
    ``since`` (the start of the stay being left), attachments of any time. A deal not yet
    saved (being created) has none of them."""
    from loudou.activities.models import Activity

    custom_fields = {cf.key: cf for cf in CustomField.objects.all()}
    if deal.pk is None:
        return _Facts(Counter(), set(), set(), custom_fields)
    since = since or deal.stage_entered_at
    counts = Counter(
        Activity.objects.filter(deal=deal, at__gte=since).values_list("type", flat=True)
    )
    kinds = set(Attachment.objects.filter(deal=deal).values_list("kind", flat=True))
    approved = set(
        StageApproval.objects.filter(deal=deal, at__gte=since).values_list("stage_id", flat=True)
    )
    return _Facts(counts, kinds, approved, custom_fields)


def _activity_type_label(criterion: ExitCriterion) -> str:
    """The activity type an activity criterion counts, in the active language."""
    from loudou.activities.models import ActivityType

    if criterion.activity_type:
        return str(ActivityType(criterion.activity_type).label)
    return _("any type")


def _describe(criterion: ExitCriterion, deal: Deal, facts: _Facts) -> str | None:
    """The message (active language) if ``criterion`` is unmet, else None."""
    stage = criterion.stage.name
    if criterion.kind == CriterionKind.FIELD:
        value = _field_value(deal, criterion.field_name)
        label = _field_label(criterion.field_name, facts.custom_fields)
        if criterion.field_check == FieldCheck.FILLED and not _is_filled(value):
            return _("%(stage)s: “%(field)s” must be filled in.") % {
                "stage": stage,
                "field": label,
            }
        if criterion.field_check == FieldCheck.TRUE and value is not True:
            return _("%(stage)s: “%(field)s” must be yes.") % {"stage": stage, "field": label}
        if criterion.field_check == FieldCheck.AT_LEAST:
            number = _as_decimal(value)
            if number is None or number < criterion.min_value:
                return _("%(stage)s: “%(field)s” must be at least %(min)s.") % {
                    "stage": stage,
                    "field": label,
                    "min": plain_number(criterion.min_value),
                }
        return None
    if criterion.kind == CriterionKind.ACTIVITY:
        if criterion.activity_type:
            have = facts.activity_counts.get(criterion.activity_type, 0)
        else:
            have = sum(facts.activity_counts.values())
        if have >= criterion.min_count:
            return None
        type_label = _activity_type_label(criterion)
        return ngettext(
            "%(stage)s: at least %(n)d activity (%(type)s) is needed since entering the "
            "current stage; there are %(have)d.",
            "%(stage)s: at least %(n)d activities (%(type)s) are needed since entering "
            "the current stage; there are %(have)d.",
            criterion.min_count,
        ) % {"stage": stage, "n": criterion.min_count, "type": type_label, "have": have}
    if criterion.kind == CriterionKind.ATTACHMENT:
        if criterion.attachment_kind in facts.attachment_kinds:
            return None
        try:
            kind_label = str(AttachmentKind(criterion.attachment_kind).label)
        except ValueError:
            kind_label = criterion.attachment_kind
        return _("%(stage)s: an attachment of kind “%(kind)s” is required.") % {
            "stage": stage,
            "kind": kind_label,
        }
    if criterion.kind == CriterionKind.APPROVAL:
        if criterion.stage_id in facts.approved_stage_ids:
            return None
        return _("%(stage)s: a manager must approve leaving this stage.") % {"stage": stage}
    return None


def _custom_description(criterion: ExitCriterion) -> str:
    lang = (translation.get_language() or "zh-hans").lower()
    text = criterion.description_zh if lang.startswith("zh") else criterion.description_en
    # The stage and its colon as the generated words have them (a full-width one in zh).
    return _("%(stage)s: %(rule)s") % {"stage": criterion.stage.name, "rule": text} if text else ""


def unmet_criteria(
    deal: Deal, stages: list[Stage], since: dt.datetime | None = None
) -> list[UnmetCriterion]:
    """Every exit criterion of ``stages`` that ``deal`` does not meet now, in stage order.

    Activities and approvals count from ``since`` (default: when the deal entered its
    current stage); ``deals.rules`` says which stages and from when for each transition."""
    criteria = list(
        ExitCriterion.objects.filter(stage__in=stages)
        .select_related("stage")
        .order_by("stage__position", "id")
    )
    if not criteria:
        return []
    facts = _gather(deal, since)
    unmet: list[UnmetCriterion] = []
    for criterion in criteria:
        messages: dict[str, str] = {}
        for lang in ("zh-hans", "en"):
            with translation.override(lang):
                msg = _describe(criterion, deal, facts)
                if msg is not None:
                    messages[lang] = _custom_description(criterion) or msg
        if messages:
            unmet.append(
                UnmetCriterion(
                    criterion_id=criterion.pk,
                    stage_key=criterion.stage.key,
                    kind=criterion.kind,
                    message_zh=messages["zh-hans"],
                    message_en=messages["en"],
                )
            )
    return unmet


def rule_words(
    criterion: ExitCriterion, custom_fields: dict[str, CustomField] | None = None
) -> str:
    """The criterion in the words a rep reads when a deal does not meet it (the active
    language), less what only a deal has (how many activities so far): what the
    settings pages show next to each rule. Pass ``custom_fields`` (by key) when
    describing many criteria."""
    if custom_fields is None:
        custom_fields = {cf.key: cf for cf in CustomField.objects.all()}
    if custom := _custom_description(criterion):
        return custom
    if criterion.kind == CriterionKind.ACTIVITY:
        # What a deal has so far ("there are 0") belongs to a deal, not to the rule.
        return ngettext(
            "%(stage)s: at least %(n)d activity (%(type)s) after entering this stage.",
            "%(stage)s: at least %(n)d activities (%(type)s) after entering this stage.",
            criterion.min_count,
        ) % {
            "stage": criterion.stage.name,
            "n": criterion.min_count,
            "type": _activity_type_label(criterion),
        }
    facts = _Facts(Counter(), set(), set(), custom_fields)
    blank = Deal(custom={})  # meets nothing: every rule says what it asks for
    return _describe(criterion, blank, facts) or ""


def unmet_of_current_stays(deals: Sequence[Deal]) -> dict[int, list[UnmetCriterion]]:
    """For many open deals at once, the exit criteria of each one's current stage it does
    not meet (activities and approvals counted since it entered the stage), in a few
    queries whatever their number: the same evaluation as ``unmet_criteria``, for pages
    that list many deals (Today). ``deals.rules`` says when this is what a move needs."""
    from loudou.activities.models import Activity

    result: dict[int, list[UnmetCriterion]] = {d.pk: [] for d in deals}
    criteria = list(
        ExitCriterion.objects.filter(stage_id__in={d.stage_id for d in deals})
        .select_related("stage")
        .order_by("stage__position", "id")
    )
    if not criteria:
        return result
    by_stage: dict[int, list[ExitCriterion]] = defaultdict(list)
    for criterion in criteria:
        by_stage[criterion.stage_id].append(criterion)
    ids = [d.pk for d in deals if d.stage_id in by_stage]
    custom_fields = {cf.key: cf for cf in CustomField.objects.all()}
    counts: dict[int, Counter] = defaultdict(Counter)
    for deal_id, kind, n in (
        Activity.objects.filter(deal_id__in=ids, at__gte=F("deal__stage_entered_at"))
        .order_by()
        .values("deal_id", "type")
        .annotate(n=Count("id"))
        .values_list("deal_id", "type", "n")
    ):
        counts[deal_id][kind] = n
    kinds: dict[int, set[str]] = defaultdict(set)
    for deal_id, kind in (
        Attachment.objects.filter(deal_id__in=ids).order_by().values_list("deal_id", "kind")
    ):
        kinds[deal_id].add(kind)
    approved: dict[int, set[int]] = defaultdict(set)
    for deal_id, stage_id in (
        StageApproval.objects.filter(deal_id__in=ids, at__gte=F("deal__stage_entered_at"))
        .order_by()
        .values_list("deal_id", "stage_id")
    ):
        approved[deal_id].add(stage_id)
    for deal in deals:
        facts = _Facts(counts[deal.pk], kinds[deal.pk], approved[deal.pk], custom_fields)
        for criterion in by_stage.get(deal.stage_id, ()):
            # Met or not does not depend on the language: word it only when unmet.
            if _describe(criterion, deal, facts) is None:
                continue
            messages: dict[str, str] = {}
            for lang in ("zh-hans", "en"):
                with translation.override(lang):
                    msg = _describe(criterion, deal, facts)
                    if msg is not None:
                        messages[lang] = _custom_description(criterion) or msg
            if messages:
                result[deal.pk].append(
                    UnmetCriterion(
                        criterion_id=criterion.pk,
                        stage_key=criterion.stage.key,
                        kind=criterion.kind,
                        message_zh=messages["zh-hans"],
                        message_en=messages["en"],
                    )
                )
    return result
