"""The collection chart shows every month (or quarter) of the period, a zero bar where
nothing was won: a walk found April and August missing from the axis, read as gaps."""

from decimal import Decimal

from django.utils import translation

from loudou.analytics.params import ReportResult
from loudou.reports.charts import collection


def result(rows, grain="month", **params):
    base = {"from": "2026-03-01", "to": "2026-09-01", "grain": grain, "by": None}
    return ReportResult("collection", {**base, **params}, rows, {})


def row(period, paid="10.00", outstanding="5.00"):
    return {"period": period, "paid": Decimal(paid), "outstanding": Decimal(outstanding)}


def test_months_without_wins_get_a_zero_bar():
    with translation.override("en"):
        figure = collection(result([row("2026-03"), row("2026-05"), row("2026-07")]))
    paid = figure["data"][0]
    assert paid["x"] == ["2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08"]
    assert paid["y"] == [10.0, 0, 10.0, 0, 10.0, 0]


def test_quarters_alike():
    with translation.override("en"):
        figure = collection(result([row("2026-Q3")], grain="quarter", **{"from": "2026-02-15"}))
    assert figure["data"][0]["x"] == ["2026-Q1", "2026-Q2", "2026-Q3"]


def test_grouped_rows_are_drawn_as_given():
    rows = [{**row("2026-05"), "owner": "rep", "owner_name": "Rep"}]
    with translation.override("en"):
        figure = collection(result(rows, by="owner"))
    assert len(figure["data"][0]["x"]) == 1
