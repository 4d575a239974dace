"""Helpers the routers share: responses' error codes, lookups, keyset pagination."""

import base64
import binascii
import json
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from loudou.core.errors import InvalidInput
from loudou.people import services as people_services
from loudou.people.models import User

from .errors import ErrorOut, NotFound


def errors(*codes: int) -> dict[int, type[ErrorOut]]:
    """The error responses of an operation (401 always: every operation needs a caller)."""
    return dict.fromkeys(sorted({400, 401, *codes}), ErrorOut)


def require_admin(user: User) -> None:
    """Refuse (403) unless ``user`` is an administrator (``Scope.may_configure``)."""
    people_services.require_admin(user)


def get_or_404(queryset: QuerySet, **lookup: Any) -> Any:
    obj = queryset.filter(**lookup).first()
    if obj is None:
        raise NotFound(_("Not found."))
    return obj


def lookup(model: type[Model], field: str, label: str, **where: Any) -> Any:
    """The object whose ``where`` matches, or a 400 naming ``field`` (an input, not a path)."""
    obj = model._default_manager.filter(**where).first()
    if obj is None:
        raise InvalidInput({field: _("No such %(what)s.") % {"what": label}})
    return obj


# ---------------------------------------------------------------------------------------
# Keyset ("cursor") pagination: the cursor is the sort key and id of the last row given,
# so pages stay right while rows are added, and no page costs an OFFSET scan.


def encode_cursor(key: Any, pk: int) -> str:
    raw = json.dumps([key, pk], default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(pk, int) or isinstance(pk, bool):
            raise ValueError
        return key, pk
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInput({"cursor": _("Not a cursor from this API.")}) from exc


def keyset_page(
    queryset: QuerySet,
    *,
    field: str,
    descending: bool,
    cursor: str | None,
    limit: int,
    parse_key: Any = None,
) -> tuple[list[Any], str | None]:
    """One page of ``queryset`` ordered by ``field`` (never null) then id, after
    ``cursor``; and the cursor of the next page (None on the last one)."""
    if cursor:
        key, pk = decode_cursor(cursor)
        try:
            key = parse_key(key) if parse_key else key
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise InvalidInput({"cursor": _("Not a cursor from this API.")}) from exc
        op = "lt" if descending else "gt"
        queryset = queryset.filter(
            Q(**{f"{field}__{op}": key}) | Q(**{field: key, f"pk__{op}": pk})
        )
    sign = "-" if descending else ""
    rows = list(queryset.order_by(f"{sign}{field}", f"{sign}pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, field), last.pk)
    return rows, next_cursor
