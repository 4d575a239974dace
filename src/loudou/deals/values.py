"""Deal field values as users give them, checked: amounts and custom fields."""

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_lazy as _

from loudou.core.errors import InvalidInput
from loudou.limits import MAX_AMOUNT, MAX_AMOUNT_TEXT
from loudou.pipelines.models import CustomField, FieldType


def parse_amount(value: Any, field: str = "amount") -> Decimal | None:
    """An amount of money with two places, from 0 to ``limits.MAX_AMOUNT``; None if empty."""
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput({field: _("Not a number.")}) from exc
    if not amount.is_finite():
        raise InvalidInput({field: _("Not a number.")})
    if amount < 0:
        raise InvalidInput({field: _("The amount cannot be negative.")})
    if amount > MAX_AMOUNT:
        raise InvalidInput({field: amount_too_large()})
    return amount.quantize(Decimal("0.01"))


def amount_too_large() -> str:
    return _("The amount is too large: at most %(max)s.") % {"max": MAX_AMOUNT_TEXT}


def clean_custom(values: Mapping[str, Any]) -> dict[str, Any]:
    """Validate custom field values against their definitions; None removes a value."""
    defs = {cf.key: cf for cf in CustomField.objects.filter(key__in=list(values))}
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        cf = defs.get(key)
        if cf is None:
            raise InvalidInput({f"custom.{key}": _("No such custom field.")})
        if value is None or value == "":
            cleaned[key] = None
            continue
        if cf.type == FieldType.NUMBER:
            cleaned[key] = _custom_number(cf, value)
        elif cf.type == FieldType.BOOLEAN:
            if not isinstance(value, bool):
                raise InvalidInput({f"custom.{key}": _("Must be yes or no.")})
            cleaned[key] = value
        elif cf.type == FieldType.DATE:
            try:
                cleaned[key] = dt.date.fromisoformat(str(value)).isoformat()
            except ValueError as exc:
                raise InvalidInput({f"custom.{key}": _("Not a date (YYYY-MM-DD).")}) from exc
        else:
            cleaned[key] = str(value)
    return cleaned


def _custom_number(cf: CustomField, value: Any) -> int | float:
    """A number custom field's value as JSON keeps it: an integer, else a float. Only a
    finite number within an amount's bounds: an infinity or a NaN has no JSON form (the
    column refuses it), a huge exponent becomes an integer of a million digits no one can
    write out, and a float keeps 15 significant digits, as an amount does on SQLite."""
    field = f"custom.{cf.key}"
    try:
        number = None if isinstance(value, bool) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite():
        raise InvalidInput({field: _("“%(field)s” is not a number.") % {"field": cf.name}})
    # copy_abs, not abs(): no rounding context, so no overflow on a huge exponent.
    if number.copy_abs() > MAX_AMOUNT:
        raise InvalidInput(
            {
                field: _("“%(field)s” is too large: at most %(max)s.")
                % {"field": cf.name, "max": MAX_AMOUNT_TEXT}
            }
        )
    return int(number) if number == number.to_integral_value() else float(number)


def merge_custom(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(current or {})
    for key, value in clean_custom(changes).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
