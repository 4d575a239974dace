"""Parsing spreadsheet cells: dates, times and amounts as people and other CRMs write them.

Each parser returns a value or raises ``CellError`` with a message in both languages.
"""

import datetime as dt
import re
import zoneinfo
from decimal import Decimal, InvalidOperation

from loudou.limits import FIRST_DATE, LAST_DATE, MAX_AMOUNT, MAX_AMOUNT_TEXT

EXCEL_EPOCH = dt.datetime(1899, 12, 30)  # Excel's day 0 (with its 1900 leap-year quirk)


class CellError(ValueError):
    """A cell's value cannot be read; ``zh`` and ``en`` say why."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en


_ISO = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_SLASH_YMD = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_SLASH_MDY = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$"
)
_CHINESE = re.compile(
    r"^(\d{4})年(\d{1,2})月(\d{1,2})日(?:\s*(\d{1,2})[:时](\d{2})分?(?::(\d{2}))?)?$"
)
_SERIAL = re.compile(r"^\d{4,6}(?:\.\d+)?$")


def _bad_date(text: str) -> CellError:
    return CellError(
        f"无法识别的日期“{text}”（可用 2024-03-05、2024/3/5、2024年3月5日 或 Excel 日期）",
        f"not a date: “{text}” (use 2024-03-05, 2024/3/5, 2024年3月5日 or an Excel date)",
    )


def parse_datetime(value: object, tz: zoneinfo.ZoneInfo) -> dt.datetime | None:
    """A point in time (aware), from 1900 to 2199. Naive values are in ``tz``; a bare date
    is its start."""
    moment = _parse_datetime(value, tz)
    if moment is not None and not FIRST_DATE <= moment.date() <= LAST_DATE:
        raise CellError(
            f"日期超出范围：“{value}”（应在 1900 年到 2199 年之间）",
            f"the date is out of range: “{value}” (use a date from 1900 to 2199)",
        )
    return moment


def _parse_datetime(value: object, tz: zoneinfo.ZoneInfo) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), tzinfo=tz)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_serial(float(value), tz)
    text = str(value).strip()
    if not text:
        return None
    if len(text) >= 16 and text[4] == "-" and text[10] in "T ":
        try:  # fast path: full ISO date-times, as exports write them
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=tz)
        except ValueError:
            pass
    try:
        if m := _ISO.match(text):
            y, mo, d, h, mi, s, frac, zone = m.groups()
            moment = dt.datetime(
                int(y),
                int(mo),
                int(d),
                int(h or 0),
                int(mi or 0),
                int(s or 0),
                int((frac or "0").ljust(6, "0")),
            )
            if zone:
                return dt.datetime.fromisoformat(
                    moment.isoformat() + ("+00:00" if zone == "Z" else _colon(zone))
                )
            return moment.replace(tzinfo=tz)
        if m := _SLASH_YMD.match(text) or _CHINESE.match(text):
            y, mo, d, h, mi, s = m.groups()
            return dt.datetime(
                int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), tzinfo=tz
            )
        if m := _SLASH_MDY.match(text):  # US exports (Salesforce, HubSpot): month first
            mo, d, y, h, mi, s, ampm = m.groups()
            hour = int(h or 0)
            if ampm:
                hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
            return dt.datetime(int(y), int(mo), int(d), hour, int(mi or 0), int(s or 0), tzinfo=tz)
        if _SERIAL.match(text):
            return _from_serial(float(text), tz)
    except ValueError as exc:  # e.g. 2024-02-30
        raise _bad_date(text) from exc
    raise _bad_date(text)


def parse_date(value: object, tz: zoneinfo.ZoneInfo) -> dt.date | None:
    moment = parse_datetime(value, tz)
    return None if moment is None else moment.astimezone(tz).date()


def _colon(zone: str) -> str:
    return zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"


def _from_serial(serial: float, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    if not 1 <= serial < 2_958_466:  # Excel's range: 1900-01-01 .. 9999-12-31
        raise _bad_date(str(serial))
    naive = EXCEL_EPOCH + dt.timedelta(days=serial)
    return naive.replace(microsecond=0, tzinfo=tz)


_AMOUNT_NOISE = re.compile(r"[\s,，¥￥$€]|^(?:RMB|CNY|USD)|(?:RMB|CNY|USD|元)$", re.IGNORECASE)


def parse_amount(value: object) -> Decimal | None:
    """1,234.50 · ¥1,234 · $1,234 · 12万 · 1.5万元 -> Decimal (two places)."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        amount = Decimal(str(value))
    else:
        text = str(value).strip()
        if not text:
            return None
        cleaned = _AMOUNT_NOISE.sub("", text)
        factor = Decimal(1)
        if cleaned.endswith("万"):
            cleaned, factor = cleaned[:-1], Decimal(10_000)
        try:
            amount = Decimal(cleaned) * factor
        except InvalidOperation as exc:
            raise CellError(f"无法识别的金额“{text}”", f"not an amount: “{text}”") from exc
        except ArithmeticError as exc:
            # 1e1000000 parses, then overflows the decimal context when multiplied.
            raise CellError(
                f"金额过大：“{text}”（最多 {MAX_AMOUNT_TEXT}）",
                f"the amount is too large: “{text}” (at most {MAX_AMOUNT_TEXT})",
            ) from exc
    if not amount.is_finite():
        raise CellError(f"无法识别的金额“{value}”", f"not an amount: “{value}”")
    if amount < 0:
        raise CellError(f"金额不能为负数：“{value}”", f"an amount cannot be negative: “{value}”")
    if amount > MAX_AMOUNT:
        raise CellError(
            f"金额过大：“{value}”（最多 {MAX_AMOUNT_TEXT}）",
            f"the amount is too large: “{value}” (at most {MAX_AMOUNT_TEXT})",
        )
    return amount.quantize(Decimal("0.01"))
