"""Formatting filters for money and rates."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def money(value: Decimal | int | float | None) -> str:
    """1234567.5 -> "1,234,567.50"; None -> "—"."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(value):,.2f}"


@register.filter
def percent(value: Decimal | float | None) -> str:
    """0.25 -> "25%"; None -> "—"."""
    if value is None:
        return "—"
    return f"{Decimal(value) * 100:.0f}%"
