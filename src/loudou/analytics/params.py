"""Report parameters and results: plain data, shared by every report."""

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import polars as pl

from loudou.limits import FIRST_DATE, LAST_DATE, MAX_AMOUNT, MAX_AMOUNT_TEXT

GROUPINGS = ("owner", "team", "source")
BY_DEAL = "deal"  # collection only: one row per deal
PROBABILITY_SOURCES = ("configured", "historical")


@dataclass(frozen=True)
class Visibility:
    """Which deals the asking user may count: all, or owned by ``user_id``, or in a team
    of ``team_ids`` (a manager's teams). Made by ``people.access.Scope.visibility``: the
    same rule as the deal pages, as data."""

    all: bool = True
    user_id: int | None = None
    team_ids: frozenset[int] = frozenset()

    def allows(self, user: str = "owner_id", team: str = "team_id") -> pl.Expr:
        """The rows whose ``user`` column is the user or whose ``team`` column is one of
        their teams (every row when ``all``)."""
        if self.all:
            return pl.lit(True)
        allowed = pl.col(user) == (self.user_id if self.user_id is not None else -1)
        if self.team_ids:
            allowed = allowed | pl.col(team).is_in(sorted(self.team_ids))
        return allowed


class ParamError(ValueError):
    """A report parameter is wrong; the message says which and why, in both languages.

    With ``option`` (its name in the API and the query string: "target", "from"), ``en``
    and ``zh`` say only why, and each surface names the option its own way: the API as
    ``target: why``, the command line as ``--target: why``, a web form by the field's
    label (reports/options.py). ``form`` is why in a form's words, when the command's
    words would not do there: (en, zh)."""

    def __init__(
        self,
        en: str,
        zh: str | None = None,
        *,
        option: str | None = None,
        form: tuple[str, str] | None = None,
    ) -> None:
        self.option = option
        self.why_en, self.why_zh = en, zh or en
        self.form = form
        self.en = f"{option}: {en}" if option else en
        self.zh = f"{option}：{self.why_zh}" if option else self.why_zh
        super().__init__(self.en)

    def message(self, lang: str, *, name: str | None = None, form: bool = False) -> str:
        """The message in ``lang``, the option called ``name`` if given; with ``form``,
        why in a form's words."""
        zh = lang.lower().startswith("zh")
        if self.option is None:
            return self.zh if zh else self.en
        en_why, zh_why = self.form if form and self.form else (self.why_en, self.why_zh)
        called = name or self.option
        return f"{called}：{zh_why}" if zh else f"{called}: {en_why}"


@dataclass(frozen=True)
class ReportParams:
    """Options every report accepts (METRICS.md, *Output conventions*).

    ``date_from``/``date_to`` are dates in ``time_zone``, half-open [from, to).
    """

    now: dt.datetime
    time_zone: str = "Asia/Shanghai"
    pipeline: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    by: str | None = None
    owner: str | None = None
    team: str | None = None
    source: str | None = None
    as_of: dt.date | None = None
    grain: str = "month"
    lang: str = "zh-hans"
    visibility: Visibility = field(default_factory=Visibility)
    # The management reports (issue 5): see docs/reports.md.
    target: Decimal | None = None
    simulate: bool = False
    seed: int = 1
    runs: int = 10_000
    probabilities: str | None = None  # configured | historical (default: per report)
    window_days: int = 365
    sort: str | None = None

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ParamError("give a time zone", "请带上时区", option="now")
        if not FIRST_DATE <= self.now.date() <= LAST_DATE:
            raise ParamError(
                "a time from 1900 to 2199", "时间应在 1900 年到 2199 年之间", option="now"
            )
        # Frames hold UTC times; Polars compares only like time zones.
        object.__setattr__(self, "now", self.now.astimezone(dt.UTC))
        if self.by is not None and self.by not in (*GROUPINGS, BY_DEAL):
            raise ParamError(
                f"one of {', '.join(GROUPINGS)}", f"只能是 {'、'.join(GROUPINGS)} 之一", option="by"
            )
        if self.target is not None and (not self.target.is_finite() or self.target < 0):
            raise ParamError("must not be negative", "目标金额不能为负数", option="target")
        if self.probabilities is not None and self.probabilities not in PROBABILITY_SOURCES:
            raise ParamError(
                "configured or historical",
                "只能是 configured（配置）或 historical（历史）",
                option="probabilities",
            )
        if not 100 <= self.runs <= 1_000_000:
            raise ParamError(
                "from 100 to 1,000,000", "模拟次数应在 100 到 1,000,000 之间", option="runs"
            )
        if not 1 <= self.window_days <= 3660:
            raise ParamError(
                "from 1 to 3,660 days", "回看窗口应在 1 到 3660 天之间", option="window"
            )
        if self.grain not in ("month", "quarter"):
            raise ParamError("month or quarter", "只能是 month 或 quarter", option="grain")
        for name, day in (("from", self.date_from), ("to", self.date_to), ("as_of", self.as_of)):
            if day is not None and not FIRST_DATE <= day <= LAST_DATE:
                raise ParamError(
                    "a date from 1900 to 2199", "日期应在 1900 年到 2199 年之间", option=name
                )
        if self.target is not None and self.target > MAX_AMOUNT:
            raise ParamError(
                f"at most {MAX_AMOUNT_TEXT}", f"目标金额最多 {MAX_AMOUNT_TEXT}", option="target"
            )
        if not -(2**63) <= self.seed < 2**63:
            raise ParamError("a whole number of at most 19 digits", "最多 19 位整数", option="seed")
        if self.date_from and self.date_to and self.date_to <= self.date_from:
            raise ParamError(
                "must be after from (the period is [from, to))",
                "结束日期必须晚于开始日期（期间为 [开始, 结束)）",
                option="to",
                form=("must be after the start date", "必须晚于开始日期"),
            )
        try:
            zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ParamError(
                f"time zone: unknown {self.time_zone!r}", f"未知时区 {self.time_zone!r}"
            ) from exc

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def today(self) -> dt.date:
        return self.now.astimezone(self.tz).date()

    def period(self, default_days: int = 365) -> tuple[dt.date, dt.date]:
        """[from, to) as local dates; by default the last ``default_days`` days to today."""
        date_to = self.date_to or (self.today() + dt.timedelta(days=1))
        date_from = self.date_from or (date_to - dt.timedelta(days=default_days))
        if date_to <= date_from:
            raise ParamError(
                "must be before to (the period is [from, to))",
                "开始日期必须早于结束日期（期间为 [开始, 结束)）",
                option="from",
                form=("must be before the end date", "必须早于结束日期"),
            )
        return date_from, date_to

    def instant(self, day: dt.date) -> dt.datetime:
        """Local midnight at the start of ``day``, in UTC."""
        local = dt.datetime.combine(day, dt.time(), tzinfo=self.tz)
        return local.astimezone(dt.UTC)

    def echo(self, **extra: Any) -> dict[str, Any]:
        """The parameters as they are echoed in a report's output."""
        echoed = {
            "pipeline": self.pipeline,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "by": self.by,
            "owner": self.owner,
            "team": self.team,
            "source": self.source,
            "now": self.now.astimezone(self.tz).isoformat(),
            "time_zone": self.time_zone,
        }
        echoed.update(extra)
        return echoed


@dataclass
class ReportResult:
    """METRICS.md's output shape: report, params, rows, totals. Money is ``Decimal``."""

    report: str
    params: dict[str, Any]
    rows: list[dict[str, Any]]
    totals: dict[str, Any]
    columns: list[str] = field(default_factory=list)


def money(cents: int | float | None) -> Decimal:
    """Integer cents -> Decimal with two places (None and NaN count as zero)."""
    if cents is None or cents != cents:
        return Decimal("0.00")
    return Decimal(int(cents)).scaleb(-2)


def weighted_money(cents_x_bp: int | None) -> Decimal:
    """Σ cents × probability in basis points -> currency units, rounded half up to cents."""
    return money((int(cents_x_bp or 0) + 5_000) // 10_000)


def ratio(numerator: int, denominator: int) -> float | None:
    """numerator / denominator, or None (never 0) when the denominator is 0."""
    return numerator / denominator if denominator else None
