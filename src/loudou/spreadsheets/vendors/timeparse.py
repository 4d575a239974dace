"""Vendors' times, column-wise: ISO with or without 'T', 'Z', fractions or an offset,
plain dates; anything else cell by cell with the import's own parser (US dates,
2024年3月5日, Excel serials …). Times without a zone are in the vendor's zone."""

import zoneinfo

import polars as pl

from loudou.limits import FIRST_DATE, LAST_DATE

from ..parsing import CellError, parse_datetime
from ..results import RowError, error

UTC_US = pl.Datetime("us", "UTC")
PLAIN_TIME = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?Z?$"


def parse_times(
    frame: pl.DataFrame,
    column: str,
    zone: str,
    *,
    file: str,
    header: str,
    errors: list[RowError],
) -> pl.Series:
    """``frame[column]`` (text) as UTC times; each unreadable cell is an error naming the
    file, row and header."""
    text = frame.get_column(column)
    if text.dtype != pl.String:
        text = text.cast(pl.String)
    plain = text.str.contains(PLAIN_TIME).fill_null(False)
    utc = text.str.ends_with("Z").fill_null(False)
    stripped = (
        text.str.replace("T", " ", literal=True).str.strip_suffix("Z").str.replace(r"\.\d+$", "")
    )
    full = stripped.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us")
    minutes = stripped.str.to_datetime("%Y-%m-%d %H:%M", strict=False, time_unit="us")
    day = stripped.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us"))
    naive = pl.select(pl.coalesce(full, minutes, day)).to_series()
    local = naive.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
    as_utc = naive.dt.replace_time_zone("UTC")
    result = (
        pl.select(pl.when(utc).then(as_utc).otherwise(local.dt.convert_time_zone("UTC")))
        .to_series()
        .cast(UTC_US)
    )
    result = pl.select(pl.when(plain).then(result).otherwise(None)).to_series()
    # Out of range (1900 to 2199): left to the cell parser below, which says so.
    day = result.dt.date()
    result = pl.select(
        pl.when((day >= FIRST_DATE) & (day <= LAST_DATE)).then(result).otherwise(None)
    ).to_series()
    # Other spellings, cell by cell.
    rest = (text.is_not_null() & (text.str.strip_chars() != "") & result.is_null()).arg_true()
    if len(rest):
        tz = zoneinfo.ZoneInfo(zone)
        rows = frame.get_column("row")
        values = result.to_list()
        for i in rest.to_list():
            cell = text[i]
            try:
                values[i] = parse_datetime(cell, tz)
            except CellError as exc:
                errors.append(error(rows[i], f"{file}: {header}", cell, exc.zh, exc.en))
        result = pl.Series(column, values, dtype=UTC_US)
    return result.alias(column)
