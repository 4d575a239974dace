"""Formatting filters for money, rates and custom field values."""

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils import formats
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def money(value: Decimal | int | float | None) -> str:
    """1234567.5 -> "1,234,567.50"; None -> "—"."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value):,.2f}"


@register.filter
def money_in(value: Decimal | int | float | None, currency: str) -> str:
    """1234567.5, "CNY" -> "1,234,567.50 CNY"; a missing amount is "—", with no
    currency: "— CNY" reads as if an amount were known."""
    if value is None or value == "":
        return "—"
    return f"{money(value)} {currency}"


@register.filter
def percent(value: Decimal | float | None) -> str:
    """0.25 -> "25%"; None -> "—"."""
    if value is None:
        return "—"
    return f"{Decimal(value) * 100:.0f}%"


def number(value: Any) -> str:
    """A custom number grouped like amounts: 1234567 -> "1,234,567"; 1234.5 -> "1,234.50"
    (fractions get at least the two places amounts have, and keep any more they have)."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not amount.is_finite():
        return str(value)
    if amount == amount.to_integral_value():
        return f"{amount.to_integral_value():,f}"
    places = max(2, -amount.normalize().as_tuple().exponent)
    return f"{amount:,.{places}f}"


@register.filter
def custom_value(value: Any, field_type: str) -> str:
    """A custom field's stored value as the page shows it, by the field's type: numbers
    grouped, dates in the language's DATE_FORMAT, yes/no as words; none is "—"."""
    if value is None or value == "":
        return "—"
    if field_type == "number" and not isinstance(value, bool):
        return number(value)
    if field_type == "boolean" and isinstance(value, bool):
        return _("Yes") if value else _("No")
    if field_type == "date":
        try:
            return formats.date_format(dt.date.fromisoformat(str(value)), "DATE_FORMAT")
        except ValueError:
            return str(value)
    return str(value)
