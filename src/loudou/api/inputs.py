"""Bounded input types for the API: every string, number, date and id has a limit
(``loudou.limits``), so bad input is a 400 and never reaches the database as a 500."""

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from loudou.limits import FIRST_DATE, LAST_DATE, MAX_AMOUNT

# Database ids are 64-bit; a larger number would overflow the driver, not just miss.
MAX_ID = 2**53


def _printable(value: str) -> str:
    # NUL is refused by PostgreSQL text columns and lone surrogates by every encoder.
    if any(ch == "\x00" or "\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError("NUL characters and lone surrogates are not allowed")
    return value


def text(max_length: int) -> type[str]:
    """A string of at most ``max_length`` characters, without NUL or lone surrogates."""
    return Annotated[  # type: ignore[return-value]
        str, StringConstraints(max_length=max_length), AfterValidator(_printable)
    ]


def _in_range(day: dt.date) -> dt.date:
    if not FIRST_DATE <= day <= LAST_DATE:
        raise ValueError("a date from 1900-01-01 to 2199-12-31")
    return day


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("give a time zone (e.g. +08:00 or Z)")
    if not FIRST_DATE <= moment.date() <= LAST_DATE:
        raise ValueError("a time from 1900 to 2199")
    return moment


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Day = Annotated[dt.date, AfterValidator(_in_range)]
Moment = Annotated[dt.datetime, AfterValidator(_aware)]
Amount = Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT, decimal_places=2, allow_inf_nan=False)]
Key = text(50)
Name = text(200)
Note = text(5000)
