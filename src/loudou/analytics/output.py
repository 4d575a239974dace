"""Rendering a ``ReportResult``: JSON (METRICS.md's convention), CSV, or a text table."""

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .params import ReportResult

# column -> (zh-Hans, English) header
HEADERS: dict[str, tuple[str, str]] = {
    "deals": ("商机数", "Deals"),
    "events": ("阶段变更数", "Stage changes"),
    "owner": ("负责人", "Owner"),
    "owner_name": ("负责人", "Owner"),
    "team": ("团队", "Team"),
    "source": ("来源", "Source"),
    "stage": ("阶段标识", "Stage key"),
    "stage_name": ("阶段", "Stage"),
    "count": ("数量", "Count"),
    "amount": ("金额", "Amount"),
    "weighted_amount": ("加权金额", "Weighted amount"),
    "stale": ("跟进不及时", "Stale"),
    "reached": ("到达", "Reached"),
    "conversion": ("转化率", "Conversion"),
    "win_rate_from": ("此后赢单率", "Win rate from here"),
    "open": ("进行中", "Open"),
    "lost_at": ("在此输单", "Lost here"),
    "entered": ("进入", "Entered"),
    "advanced": ("推进", "Advanced"),
    "lost": ("输单", "Lost"),
    "still_open": ("仍进行中", "Still open"),
    "flow_conversion": ("流转率", "Flow conversion"),
    "mean_days": ("平均天数", "Mean days"),
    "median_days": ("中位天数", "Median days"),
    "p90_days": ("P90 天数", "P90 days"),
    "open_count": ("进行中数量", "Open deals"),
    "open_median_age_days": ("进行中停留中位天数", "Open median age (days)"),
    "outcome": ("结果", "Outcome"),
    "won": ("赢单", "Won"),
    "win_rate": ("赢单率", "Win rate"),
    "won_amount": ("赢单金额", "Won amount"),
    "lost_amount": ("输单金额", "Lost amount"),
    "period": ("期间", "Period"),
    "commit": ("承诺", "Commit"),
    "best_case": ("最佳情况", "Best case"),
    "pipeline": ("管道", "Pipeline"),
    "omitted": ("排除", "Omitted"),
    "already_won": ("已赢单", "Already won"),
    "simulated_mean": ("模拟均值", "Simulated mean"),
    "simulated_p10": ("模拟 P10", "Simulated P10"),
    "simulated_p50": ("模拟 P50", "Simulated P50"),
    "simulated_p90": ("模拟 P90", "Simulated P90"),
    "probability_of_target": ("达成目标概率", "Chance of reaching the target"),
    "sample": ("样本数", "Sample"),
    "historical_probability": ("历史赢单率", "Historical win rate"),
    "ci_low": ("95% 区间下限", "95% CI low"),
    "ci_high": ("95% 区间上限", "95% CI high"),
    "configured_probability": ("配置赢单率", "Configured probability"),
    "flagged": ("需调整", "Flagged"),
    "closed": ("已关闭", "Closed"),
    "probability": ("赢单率", "Probability"),
    "probability_source": ("赢单率来源", "Probability from"),
    "needed": ("需要", "Needed"),
    "have": ("现有", "Have"),
    "gap": ("缺口", "Gap"),
    "share": ("目标占比", "Share"),
    "owner_target": ("个人目标", "Rep's target"),
    "owner_remaining": ("个人剩余目标", "Rep's remaining"),
    "target": ("目标", "Target"),
    "remaining_target": ("剩余目标", "Remaining target"),
    "open_amount": ("进行中金额", "Open amount"),
    "coverage": ("覆盖倍数", "Coverage (×)"),
    "average_won_amount": ("平均赢单金额", "Average won amount"),
    "won_deals_used": ("计入的赢单数", "Won deals used"),
    "share_basis": ("分配依据", "Split by"),
    "target_source": ("目标来源", "Target from"),
    "severity": ("严重程度", "Severity"),
    "code": ("类型", "Finding"),
    "message": ("说明", "What it means"),
    "findings": ("发现", "Findings"),
    "thin_top": ("线索不足", "Thin top"),
    "bottleneck": ("转化瓶颈", "Bottleneck"),
    "stuck": ("积压", "Stuck"),
    "rep_outlier": ("个人偏低", "Rep outlier"),
    "scope": ("范围", "Scope"),
    "open_deals": ("进行中商机", "Open deals"),
    "stale_pct": ("跟进不及时占比", "Stale %"),
    "overdue": ("逾期", "Overdue"),
    "overdue_pct": ("逾期占比", "Overdue %"),
    "forced_moves": ("强制推进", "Forced moves"),
    "bounces": ("反复", "Bounces"),
    "median_days_since_touch": ("距上次跟进中位天数", "Median days since touch"),
    "deal_id": ("商机编号", "Deal"),
    "won_on": ("赢单日期", "Won on"),
    "paid": ("已回款", "Paid"),
    "outstanding": ("未回款", "Outstanding"),
    "collected": ("回款率", "Collected"),
    "stays": ("停留次数", "Stays"),
    "type": ("活动类型", "Activity type"),
    "activities": ("活动数", "Activities"),
    "per_stay": ("每次停留平均", "Per stay"),
    "share_with": ("有此活动的占比", "Share with one"),
}
RATES = {
    "conversion",
    "win_rate_from",
    "flow_conversion",
    "win_rate",
    "historical_probability",
    "ci_low",
    "ci_high",
    "configured_probability",
    "probability",
    "probability_of_target",
    "share",
    "stale_pct",
    "overdue_pct",
    "collected",
    "share_with",
}
OUTCOMES = {"won": ("赢单", "Won"), "lost": ("输单", "Lost"), "advanced": ("推进", "Advanced")}
# Codes as a reader says them (a table cell, a chart's category).
WORDS = {
    "high": ("高", "High"),
    "medium": ("中", "Medium"),
    "low": ("低", "Low"),
    "rep": ("个人", "Rep"),
    "team": ("团队", "Team"),
    "historical": ("历史", "Historical"),
    "configured": ("配置", "Configured"),
    "quota": ("按配额", "Quotas"),
    "even": ("平均分配", "Even split"),
    "quotas": ("本期配额", "The period's quotas"),
    "given": ("填写的目标", "The target entered"),
    **{code: HEADERS[code] for code in ("thin_top", "bottleneck", "stuck", "rep_outlier", "stale")},
}
# Machine fields a table leaves to JSON and CSV (the table shows names and messages).
HIDDEN = {"stage", "message_zh", "message_en", "numbers"}
WORD_COLUMNS = {
    "severity",
    "scope",
    "probability_source",
    "code",
    "share_basis",
    "target_source",
}
TOTAL = ("合计", "Total")
ACTIVITY_TYPES = {
    "call": ("电话", "Call"),
    "visit": ("拜访", "Visit"),
    "meeting": ("会议", "Meeting"),
    "email": ("邮件", "E-mail"),
    "wechat": ("微信", "WeChat"),
    "note": ("备注", "Note"),
}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def to_data(result: ReportResult) -> dict[str, Any]:
    """``{"report", "params", "rows", "totals"}``; money as decimal strings."""
    return _plain(
        {
            "report": result.report,
            "params": result.params,
            "rows": result.rows,
            "totals": result.totals,
        }
    )


def to_json(result: ReportResult) -> str:
    return json.dumps(to_data(result), ensure_ascii=False, indent=2)


# Text that is a plain number ("-12.50"): no formula, left as it is (spreadsheets.quoting
# reads the pattern too).
PLAIN_NUMBER = re.compile(r"^[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$")


def neutralise(value: Any) -> Any:
    """Keep spreadsheet programs from running a text cell as a formula (CSV/formula
    injection): text starting with =, +, -, @, tab or CR gets a leading quote. Numbers,
    and text that is a plain number ("-12.50"), stay as they are. Every CSV or XLSX the
    app writes passes its cells through here."""
    risky = isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r")
    return "'" + value if risky and not PLAIN_NUMBER.match(value) else value


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return neutralise(json.dumps(_plain(value), ensure_ascii=False))
    return neutralise(_plain(value))


def to_csv(result: ReportResult) -> str:
    """One row per report row, columns as in JSON (machine-readable: no translation)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=result.columns, extrasaction="ignore", lineterminator="\n"
    )
    writer.writerow({c: neutralise(c) for c in result.columns})
    for row in result.rows:
        writer.writerow({k: _csv_value(v) for k, v in row.items()})
    return buffer.getvalue()


def _cell(column: str, value: Any, zh: bool) -> str:
    if value is None:
        return "—"
    if column in RATES:
        return f"{value * 100:.1f}%"
    if column == "outcome":
        return OUTCOMES[value][0 if zh else 1]
    if column in WORD_COLUMNS and value in WORDS:
        return WORDS[value][0 if zh else 1]
    if column == "type" and value in ACTIVITY_TYPES:
        return ACTIVITY_TYPES[value][0 if zh else 1]
    if isinstance(value, bool):
        return ("是" if value else "否") if zh else ("Yes" if value else "No")
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def cell_text(column: str, value: Any, lang: str) -> str:
    """One value as a table shows it (words, percentages) in ``lang``: charts label
    their axes and hover texts with the same words as the table beside them."""
    return _cell(column, value, lang.lower().startswith("zh"))


def _width(text: str) -> int:
    # CJK characters take two columns on a terminal.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    space = " " * (width - _width(text))
    return space + text if right else text + space


@dataclass
class Grid:
    """A report as display strings: headers, rows, which columns are numeric, totals line."""

    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    totals: str
    keys: list[str] = field(default_factory=list)  # the result's column of each cell


def to_grid(result: ReportResult, lang: str = "zh-hans") -> Grid:
    zh = lang.startswith("zh")
    hidden = HIDDEN | ({"owner"} if "owner_name" in result.columns else set())
    # People by their display names: the username stays in JSON and CSV.
    columns = [c for c in result.columns if c not in hidden]
    headers = [HEADERS.get(c, (c, c))[0 if zh else 1] for c in columns]
    body = [[_cell(c, row.get(c), zh) for c in columns] for row in result.rows]
    numeric = [
        c != "stage_name"
        and all(
            row.get(c) is None or isinstance(row.get(c), int | float | Decimal)
            for row in result.rows
        )
        for c in columns
    ]
    parts = []
    for key, value in result.totals.items():
        name = HEADERS.get(key, OUTCOMES.get(key, (key, key)))[0 if zh else 1]
        if isinstance(value, dict):
            inner = ", ".join(
                f"{HEADERS.get(k, (k, k))[0 if zh else 1]} {_cell(k, v, zh)}"
                for k, v in value.items()
            )
            parts.append(f"{name}: {inner}")
        else:
            parts.append(f"{name} {_cell(key, value, zh)}")
    totals = f"{TOTAL[0 if zh else 1]}: " + "; ".join(parts) if parts else ""
    return Grid(headers, body, numeric, totals, columns)


def to_table(result: ReportResult, lang: str = "zh-hans") -> str:
    """A readable text table with headers in zh-Hans or English, then the totals."""
    grid = to_grid(result, lang)
    widths = [
        max([_width(h)] + [_width(r[i]) for r in grid.rows]) for i, h in enumerate(grid.headers)
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(_pad(c, w, n) for c, w, n in zip(cells, widths, grid.numeric, strict=True))

    lines = [line(grid.headers), "  ".join("-" * w for w in widths)]
    lines += [line(r) for r in grid.rows]
    if grid.totals:
        lines += ["", grid.totals]
    return "\n".join(lines)


def to_xlsx(sheets: list[tuple[str, ReportResult]]) -> bytes:
    """A workbook with one sheet per (name, result): the CSV's columns and values, money
    and rates as numbers, every text cell through ``neutralise``."""
    from openpyxl import Workbook  # only the downloads need it

    book = Workbook(write_only=True)
    for name, result in sheets:
        sheet = book.create_sheet(title=name[:31])
        sheet.append([neutralise(c) for c in result.columns])
        for row in result.rows:
            sheet.append([_xlsx_value(row.get(c)) for c in result.columns])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xlsx_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)  # a number in the sheet; the CSV keeps the exact decimal
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict | list):
        return neutralise(json.dumps(_plain(value), ensure_ascii=False))
    return neutralise(str(_plain(value)))
