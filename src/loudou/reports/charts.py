"""Plotly figures (plain JSON-able dicts) drawn from report results.

Every number in a figure is read from a ``ReportResult`` made by ``run_report``: the
charts never compute a metric of their own, so a chart and its table (and `loudou
report`) always agree. Figures are rendered in the browser by ``loudou/charts.js`` from
``<script type="application/json">`` blocks (the Content-Security-Policy allows no inline
script); labels follow the active language.
"""

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from loudou.analytics.output import HEADERS, cell_text
from loudou.analytics.params import ReportResult

Figure = dict[str, Any]

BLUE, GREEN, RED, AMBER, GREY, VIOLET = (
    "#2563eb",
    "#16a34a",
    "#dc2626",
    "#d97706",
    "#9ca3af",
    "#7c3aed",
)
FONT = '-apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif'


def _num(value: Any) -> float | None:
    """A JSON number for plotly (money is Decimal in results)."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    return value


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _money(value: Any) -> str:
    return "—" if value is None else f"{Decimal(value):,.0f}"


def axis(title: str, standoff: int | None = None, **extra: Any) -> dict[str, Any]:
    """An axis with its title; its labels get the room they need (long stage names)."""
    text: dict[str, Any] = {"text": title}
    if standoff is not None:
        text["standoff"] = standoff  # the title's distance from the labels, in pixels
    return {"title": text, "automargin": True, **extra}


def rate_axis(title: str) -> dict[str, Any]:
    """A 0–100 % axis: ticks and hover texts as percentages, never 0.25."""
    return axis(title, tickformat=".0%", hoverformat=".1%", range=[0, 1])


def _word(column: str, value: Any) -> str:
    """A code (a finding, an activity type) as the table beside the chart words it."""
    return cell_text(column, value, get_language() or "zh-hans")


def _header(column: str) -> str:
    zh = (get_language() or "zh-hans").lower().startswith("zh")
    return HEADERS.get(column, (column, column))[0 if zh else 1]


def layout(title: str = "", **extra: Any) -> dict[str, Any]:
    """The common look: small margins, the app's font, a legend at the bottom of the
    figure (placed in the whole figure, not the plot: below the axis title, never on it)."""
    base: dict[str, Any] = {
        "title": {"text": title, "font": {"size": 14}},
        "font": {"family": FONT, "size": 12},
        "margin": {"l": 60, "r": 20, "t": 40 if title else 20, "b": 10},
        "legend": {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom"},
        "paper_bgcolor": "#fff",
        "plot_bgcolor": "#fff",
        "height": 340,
    }
    base.update(extra)
    return base


def funnel(result: ReportResult, flow: ReportResult | None = None) -> Figure:
    """The cohort funnel: deals reaching each stage, with amounts and stage-to-stage
    conversion; with ``flow``, a second view (stage flow of the period) and buttons to
    switch between the two."""
    rows = result.rows
    names = [r["stage_name"] for r in rows]
    text = [
        f"{r['reached']} · {_money(r['amount'])}"
        + (f" · → {_pct(r['conversion'])}" if r["conversion"] is not None else "")
        for r in rows
    ]
    traces = [
        {
            "type": "funnel",
            "name": _("Cohort"),
            "y": names,
            "x": [r["reached"] for r in rows],
            "text": text,
            "textinfo": "text",
            "cliponaxis": False,
            "customdata": [[_num(r["amount"]), r["conversion"]] for r in rows],
            "hovertemplate": "%{y}: %{x}<br>%{text}<extra></extra>",
            "marker": {"color": BLUE},
            "connector": {"line": {"color": GREY}},
        }
    ]
    menus = []
    if flow is not None:
        traces.append(
            {
                "type": "funnel",
                "name": _("Flow"),
                "visible": False,
                "y": [r["stage_name"] for r in flow.rows],
                "x": [r["entered"] for r in flow.rows],
                "text": [f"{r['entered']} · → {_pct(r['flow_conversion'])}" for r in flow.rows],
                "textinfo": "text",
                "cliponaxis": False,
                "hovertemplate": "%{y}: %{x}<br>%{text}<extra></extra>",
                "marker": {"color": VIOLET},
            }
        )
        menus = [
            {
                "type": "buttons",
                "direction": "right",
                "x": 0,
                "y": 1.15,
                "xanchor": "left",
                "showactive": True,
                "buttons": [
                    {"label": _("Cohort"), "method": "restyle", "args": ["visible", [True, False]]},
                    {"label": _("Flow"), "method": "restyle", "args": ["visible", [False, True]]},
                ],
            }
        ]
    return {
        "data": traces,
        "layout": layout(
            "",
            updatemenus=menus,
            margin={"l": 20, "r": 110, "t": 50, "b": 20},
            showlegend=False,
            # plotly.js hides a funnel's axes unless asked: the stage names are the point.
            yaxis=axis(_("Stage"), visible=True, showgrid=False, standoff=10),
            # The counts are written on the bars.
            xaxis={"visible": False},
        ),
    }


def conversion_heatmap(
    by_owner: ReportResult, team: ReportResult, outliers: Sequence[dict[str, Any]] = ()
) -> Figure:
    """Conversion per rep (rows) and stage (columns) from the funnel by owner, with the
    team's line (the ungrouped funnel) on top and the diagnosis's significant outliers
    (two-proportion z-test) ringed."""
    stages = [(r["stage"], r["stage_name"]) for r in team.rows if r["conversion"] is not None]
    keys = [k for k, _n in stages]
    owners = sorted({r["owner"] for r in by_owner.rows}, key=lambda o: (o is None, o or ""))
    names_of = {r["owner"]: r.get("owner_name") or r["owner"] for r in by_owner.rows}
    cell = {(r["owner"], r["stage"]): r for r in by_owner.rows}
    team_label = _("Team")
    # Rows by username (the reports' order), labelled with display names.
    y = [team_label, *[names_of[o] or "—" for o in owners]]
    z = [[r["conversion"] for r in team.rows if r["conversion"] is not None]]
    counts = [[r["reached"] for r in team.rows if r["conversion"] is not None]]
    for owner in owners:
        z.append([(cell.get((owner, k)) or {}).get("conversion") for k in keys])
        counts.append([(cell.get((owner, k)) or {}).get("reached", 0) for k in keys])
    names = [n for _k, n in stages]
    # Drawn as squares of a scatter, not a plotly heatmap: a heatmap paints a data: image
    # and sets style attributes, both of which the Content-Security-Policy refuses.
    xs, ys, values, labels, reached = [], [], [], [], []
    for label, row_z, row_n in zip(y, z, counts, strict=True):
        for name, value, n in zip(names, row_z, row_n, strict=True):
            xs.append(name)
            ys.append(label)
            values.append(value)
            labels.append(_pct(value))
            reached.append(n)
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "markers+text",
            "name": _("Conversion"),
            "x": xs,
            "y": ys,
            "text": labels,
            "textfont": {"size": 11},
            "customdata": reached,
            "hovertemplate": "%{y} · %{x}: %{text} ("
            + _("reached")
            + " %{customdata})<extra></extra>",
            "marker": {
                "symbol": "square",
                "size": 44,
                "color": [-1 if v is None else v for v in values],
                "colorscale": [
                    [0, "#e5e7eb"],
                    [0.001, "#fde2e2"],
                    [0.5, "#fef3c7"],
                    [1, "#bbf7d0"],
                ],
                "cmin": -0.001,
                "cmax": 1,
                "showscale": False,
            },
        }
    ]
    marked = [o for o in outliers if o.get("stage") in keys and o.get("owner") in owners]
    if marked:
        by_key = dict(stages)
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": _("Significantly below the team"),
                "x": [by_key[o["stage"]] for o in marked],
                "y": [names_of[o["owner"]] for o in marked],
                "text": [o["message"] for o in marked],
                "hovertemplate": "%{text}<extra></extra>",
                "marker": {
                    "symbol": "circle-open",
                    "size": 28,
                    "line": {"width": 3, "color": "#111827"},
                },
            }
        )
    return {
        "data": traces,
        "layout": layout(
            "",
            height=max(260, 80 + 48 * len(y)),
            yaxis=axis(_("Rep"), autorange="reversed", showgrid=False),
            xaxis=axis(_("Stage"), side="top", showgrid=False),
            margin={"l": 90, "r": 20, "t": 40, "b": 20},
            showlegend=bool(marked),
        ),
    }


def time_in_stage(result: ReportResult, cycle: ReportResult | None = None) -> Figure:
    """Median and p90 days per stage (completed stays), and the sales cycle per outcome."""
    names = [r["stage_name"] for r in result.rows]
    traces = [
        {
            "type": "bar",
            "name": _("Median days"),
            "x": names,
            "y": [r["median_days"] for r in result.rows],
            "marker": {"color": BLUE},
        },
        {
            "type": "bar",
            "name": _("P90 days"),
            "x": names,
            "y": [r["p90_days"] for r in result.rows],
            "marker": {"color": "#93c5fd"},
        },
    ]
    if cycle is not None:
        labels = {"won": _("Cycle (won)"), "lost": _("Cycle (lost)")}
        cycles = [r for r in cycle.rows if r["outcome"] in labels]
        traces += [
            {
                "type": "bar",
                "name": _("Cycle, median"),
                "x": [labels[r["outcome"]] for r in cycles],
                "y": [r["median_days"] for r in cycles],
                "marker": {"color": GREEN},
            },
            {
                "type": "bar",
                "name": _("Cycle, P90"),
                "x": [labels[r["outcome"]] for r in cycles],
                "y": [r["p90_days"] for r in cycles],
                "marker": {"color": "#86efac"},
            },
        ]
    return {
        "data": traces,
        "layout": layout(
            "",
            barmode="group",
            xaxis=axis(_("Stage or cycle") if cycle is not None else _("Stage")),
            yaxis=axis(_("Days"), rangemode="tozero"),
        ),
    }


def forecast(result: ReportResult) -> Figure:
    """Per close period, then for the whole period: already won, commit, best case and
    pipeline stacked, the weighted amount as a line; with a simulation, the P10–P90 band
    over the whole period's column (what is won already plus the simulated wins); the
    target as a line, the chance of reaching it in the title."""
    rows = [r for r in result.rows if "owner" not in r or r.get("owner") is None]
    totals = result.totals
    whole = _("Whole period")
    x = [r["period"] for r in rows] + [whole]

    def series(column: str) -> list[float | None]:
        return [_num(r[column]) for r in rows] + [_num(totals.get(column))]

    traces: list[dict[str, Any]] = [
        {
            "type": "bar",
            "name": _("Already won"),
            "x": x,
            "y": series("already_won"),
            "marker": {"color": GREEN},
        },
        {
            "type": "bar",
            "name": _("Commit"),
            "x": x,
            "y": series("commit"),
            "marker": {"color": BLUE},
        },
        {
            "type": "bar",
            "name": _("Best case"),
            "x": x,
            "y": series("best_case"),
            "marker": {"color": "#93c5fd"},
        },
        {
            "type": "bar",
            "name": pgettext("forecast category", "Pipeline"),
            "x": x,
            "y": series("pipeline"),
            "marker": {"color": "#dbeafe"},
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": _("Weighted"),
            "x": x,
            "y": series("weighted_amount"),
            "line": {"color": AMBER, "width": 3},
        },
    ]
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    title = ""
    if "simulated_p10" in totals:
        won = _num(totals["already_won"]) or 0.0
        low, high = won + _num(totals["simulated_p10"]), won + _num(totals["simulated_p90"])
        column = len(rows)  # the whole period's category
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "x0": column - 0.45,
                "x1": column + 0.45,
                "yref": "y",
                "y0": low,
                "y1": high,
                "fillcolor": "rgba(124,58,237,0.25)",
                "line": {"color": VIOLET, "width": 2},
            }
        )
        annotations.append(
            {
                "xref": "x",
                "x": column,
                "yref": "y",
                "y": high,
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"color": VIOLET},
                "text": _("P10–P90: %(low)s – %(high)s")
                % {"low": _money(low), "high": _money(high)},
            }
        )
    target = totals.get("target") or result.params.get("target")
    if target is not None:
        level = _num(Decimal(target))
        shapes.append(
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": level,
                "y1": level,
                "line": {"color": RED, "dash": "dash", "width": 2},
            }
        )
        annotations.append(
            {
                "xref": "paper",
                "x": 0,
                "xanchor": "left",
                "yref": "y",
                "y": level,
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"color": RED},
                "text": _("Target %(amount)s") % {"amount": _money(target)},
            }
        )
        if totals.get("probability_of_target") is not None:
            title = _("Chance of reaching the target: %(p)s") % {
                "p": _pct(totals["probability_of_target"])
            }
    return {
        "data": traces,
        "layout": layout(
            title,
            barmode="stack",
            shapes=shapes,
            annotations=annotations,
            xaxis=axis(_("Expected close"), type="category"),
            yaxis=axis(_("Amount"), rangemode="tozero"),
        ),
    }


def plan(result: ReportResult) -> Figure:
    """Deals needed, had and missing per stage for the period's target; per rep as groups
    when the plan is by owner."""
    rows = result.rows
    if rows and "owner" in rows[0]:
        owners = sorted({r["owner"] for r in rows if r.get("owner")})
        names_of = {r["owner"]: r.get("owner_name") or r["owner"] for r in rows}
        stages = list(dict.fromkeys(r["stage_name"] for r in rows))
        traces = [
            {
                "type": "bar",
                "name": names_of[owner],
                "x": stages,
                "y": [r["gap"] for r in rows if r.get("owner") == owner],
            }
            for owner in owners
        ]
        return {
            "data": traces,
            "layout": layout(
                _("Gap per rep (deals)"),
                barmode="group",
                xaxis=axis(_("Stage")),
                yaxis=axis(_("Deals")),
            ),
        }
    names = [r["stage_name"] for r in rows]
    traces = [
        {"type": "bar", "name": _("Needed"), "x": names, "y": [r["needed"] for r in rows]},
        {"type": "bar", "name": _("Have"), "x": names, "y": [r["have"] for r in rows]},
        {
            "type": "bar",
            "name": _("Gap"),
            "x": names,
            "y": [r["gap"] for r in rows],
            "marker": {"color": RED},
        },
    ]
    return {
        "data": traces,
        "layout": layout("", barmode="group", xaxis=axis(_("Stage")), yaxis=axis(_("Deals"))),
    }


def probabilities_over_time(slices: Sequence[tuple[str, ReportResult]]) -> Figure:
    """The win rate and each stage's learned win rate per period (stage_probability over
    that period), against the configured probability (dashed)."""
    periods = [label for label, _r in slices]
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": _("Win rate"),
            "x": periods,
            "y": [r.totals.get("win_rate") for _l, r in slices],
            "line": {"color": "#111827", "width": 4},
        }
    ]
    palette = [BLUE, GREEN, AMBER, VIOLET, RED, "#0891b2", "#be185d"]
    stages = list(slices[-1][1].rows) if slices else []
    for i, stage in enumerate(stages):
        color = palette[i % len(palette)]
        learned = []
        for _label, result in slices:
            row = next((r for r in result.rows if r["stage"] == stage["stage"]), None)
            learned.append(row["historical_probability"] if row else None)
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": _("%(stage)s, learned") % {"stage": stage["stage_name"]},
                "x": periods,
                "y": learned,
                "line": {"color": color},
            }
        )
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": _("%(stage)s, configured") % {"stage": stage["stage_name"]},
                "x": periods,
                "y": [stage["configured_probability"]] * len(periods),
                "line": {"color": color, "dash": "dot"},
            }
        )
    return {
        "data": traces,
        "layout": layout(
            "",
            xaxis=axis(_("Quarter"), type="category"),
            yaxis=rate_axis(_("Win rate")),
            height=380,
        ),
    }


def collection(result: ReportResult) -> Figure:
    """Won amount, paid and outstanding per period of the win."""
    rows = result.rows
    key = next((k for k in ("period", "owner", "team", "source") if rows and k in rows[0]), None)
    if key is None or (rows and "deal_id" in rows[0]):
        return {}
    if key == "period" and not result.params.get("by"):
        rows = _every_period(result, rows)
    x = [_group_label(r, key) for r in rows]
    return {
        "data": [
            {
                "type": "bar",
                "name": _("Paid"),
                "x": x,
                "y": [_num(r["paid"]) for r in rows],
                "marker": {"color": GREEN},
            },
            {
                "type": "bar",
                "name": _("Outstanding"),
                "x": x,
                "y": [_num(r["outstanding"]) for r in rows],
                "marker": {"color": AMBER},
            },
        ],
        "layout": layout(
            "",
            barmode="stack",
            xaxis=axis(_("Won in") if key == "period" else _header(key), type="category"),
            yaxis=axis(_("Amount")),
        ),
    }


def _every_period(result: ReportResult, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The report's rows with a zero bar for each month or quarter of the period without a
    win, so the time axis has no silent holes (a manager reads a gap as a missing month)."""
    try:
        start = dt.date.fromisoformat(result.params["from"])
        end = dt.date.fromisoformat(result.params["to"])
    except (KeyError, TypeError, ValueError):
        return rows
    quarters = result.params.get("grain") == "quarter"
    step = 3 if quarters else 1
    month = (start.month - 1) // step * step + 1
    year, labels = start.year, []
    while dt.date(year, month, 1) < end and len(labels) < 400:
        labels.append(f"{year}-Q{(month - 1) // 3 + 1}" if quarters else f"{year}-{month:02d}")
        month += step
        if month > 12:
            year, month = year + 1, month - 12
    found = {r["period"]: r for r in rows}
    if not labels or not set(found) <= set(labels):
        return rows  # a layout this does not know: draw what the report gave
    empty = {"paid": 0, "outstanding": 0}
    return [found.get(label, {"period": label, **empty}) for label in labels]


def snapshot(result: ReportResult) -> Figure:
    rows = result.rows
    names = [r["stage_name"] for r in rows]
    return {
        "data": [
            {
                "type": "bar",
                "name": _("Amount"),
                "x": names,
                "y": [_num(r["amount"]) for r in rows],
                "marker": {"color": "#93c5fd"},
            },
            {
                "type": "bar",
                "name": _("Weighted"),
                "x": names,
                "y": [_num(r["weighted_amount"]) for r in rows],
                "marker": {"color": BLUE},
            },
        ],
        "layout": layout("", barmode="group", xaxis=axis(_("Stage")), yaxis=axis(_("Amount"))),
    }


def win_rate(result: ReportResult) -> Figure:
    rows = result.rows
    key = next((k for k in ("owner", "team", "source") if rows and k in rows[0]), None)
    x = [_group_label(r, key) if key else _("All") for r in rows]
    return {
        "data": [
            {
                "type": "bar",
                "name": _("Win rate"),
                "x": x,
                "y": [r["win_rate"] for r in rows],
                "text": [_pct(r["win_rate"]) for r in rows],
                "textposition": "auto",
                "marker": {"color": GREEN},
            }
        ],
        "layout": layout(
            "",
            xaxis=axis(_header(key) if key else _("Deals"), type="category"),
            yaxis=rate_axis(_("Win rate")),
        ),
    }


def stage_probability(result: ReportResult) -> Figure:
    rows = result.rows
    names = [r["stage_name"] for r in rows]
    return {
        "data": [
            {
                "type": "bar",
                "name": _("Learned"),
                "x": names,
                "y": [r["historical_probability"] for r in rows],
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": [
                        None if r["ci_high"] is None else r["ci_high"] - r["historical_probability"]
                        for r in rows
                    ],
                    "arrayminus": [
                        None if r["ci_low"] is None else r["historical_probability"] - r["ci_low"]
                        for r in rows
                    ],
                },
                "marker": {"color": BLUE},
            },
            {
                "type": "scatter",
                "mode": "markers",
                "name": _("Configured"),
                "x": names,
                "y": [r["configured_probability"] for r in rows],
                "marker": {"symbol": "line-ew-open", "size": 30, "line": {"width": 3}},
            },
        ],
        "layout": layout("", xaxis=axis(_("Stage")), yaxis=rate_axis(_("Win rate"))),
    }


def discipline(result: ReportResult) -> Figure:
    rows = [r for r in result.rows if r["scope"] == "rep"]
    owners = [r.get("owner_name") or r["owner"] for r in rows]
    return {
        "data": [
            {
                "type": "bar",
                "name": _("Stale %"),
                "x": owners,
                "y": [r["stale_pct"] for r in rows],
                "marker": {"color": AMBER},
            },
            {
                "type": "bar",
                "name": _("Overdue %"),
                "x": owners,
                "y": [r["overdue_pct"] for r in rows],
                "marker": {"color": RED},
            },
        ],
        "layout": layout(
            "",
            barmode="group",
            xaxis=axis(_("Rep"), type="category"),
            yaxis=axis(_("Share of open deals"), tickformat=".0%", hoverformat=".1%"),
        ),
    }


def activities(result: ReportResult) -> Figure:
    rows = result.rows

    def label(row: dict[str, Any]) -> str:
        return f"{row['stage_name']} · {_word('type', row['type'])}"

    labels = [label(r) for r in rows if r["outcome"] == "advanced"]
    return {
        "data": [
            {
                "type": "bar",
                "name": _("Per stay (advanced)"),
                "x": labels,
                "y": [r["per_stay"] for r in rows if r["outcome"] == "advanced"],
                "marker": {"color": GREEN},
            },
            {
                "type": "bar",
                "name": _("Per stay (lost)"),
                "x": [label(r) for r in rows if r["outcome"] == "lost"],
                "y": [r["per_stay"] for r in rows if r["outcome"] == "lost"],
                "marker": {"color": RED},
            },
        ],
        "layout": layout(
            "",
            barmode="group",
            xaxis=axis(_("Stage · activity type"), type="category"),
            yaxis=axis(_("Activities per stay")),
        ),
    }


def diagnosis(result: ReportResult) -> Figure:
    counts = {k: v for k, v in result.totals.items() if k != "findings"}
    return {
        "data": [
            {
                "type": "bar",
                "x": [_word("code", code) for code in counts],
                "y": list(counts.values()),
                "marker": {"color": RED},
            }
        ],
        "layout": layout(
            "",
            height=260,
            xaxis=axis(_("Finding"), type="category"),
            yaxis=axis(_("Findings"), dtick=1),
        ),
    }


def _group_label(row: dict[str, Any], key: str) -> str:
    """A row's group as a reader knows it: a rep by display name, "—" for none."""
    value = (row.get("owner_name") or row[key]) if key == "owner" else row[key]
    return "—" if value is None else str(value)


def _grouped(result: ReportResult) -> bool:
    return bool(result.rows) and any(k in result.rows[0] for k in ("owner", "team", "source"))


# The chart above each report's table on /reports/ (grouped results skip those whose
# chart would mix the groups).
REPORT_FIGURES: dict[str, Callable[[ReportResult], Figure]] = {
    "snapshot": lambda r: {} if _grouped(r) else snapshot(r),
    "funnel": lambda r: {} if _grouped(r) else funnel(r),
    "flow": lambda r: (
        {}
        if _grouped(r)
        else funnel(
            ReportResult(
                r.report,
                r.params,
                [
                    {
                        "stage_name": x["stage_name"],
                        "reached": x["entered"],
                        "amount": None,
                        "conversion": x["flow_conversion"],
                    }
                    for x in r.rows
                ],
                r.totals,
            )
        )
    ),
    "time_in_stage": lambda r: {} if _grouped(r) else time_in_stage(r),
    "cycle": lambda r: {} if _grouped(r) else _cycle_only(r),
    "win_rate": win_rate,
    "forecast": lambda r: {} if _grouped(r) else forecast(r),
    "stage_probability": lambda r: {} if _grouped(r) else stage_probability(r),
    "plan": plan,
    "diagnosis": diagnosis,
    "discipline": discipline,
    "collection": collection,
    "activities": activities,
}


def _cycle_only(result: ReportResult) -> Figure:
    figure = time_in_stage(ReportResult(result.report, result.params, [], {}), result)
    return figure


def report_figure(name: str, result: ReportResult) -> Figure:
    """The chart for report ``name`` ({} when there is none, or nothing to draw)."""
    if not result.rows:
        return {}
    return REPORT_FIGURES[name](result)
