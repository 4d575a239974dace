"""The management reports, hand-computed (METRICS.md: stage probabilities, planning,
diagnosis, update discipline, collection; docs/reports.md for the choices)."""

import datetime as dt
import re
from decimal import Decimal
from fractions import Fraction

import pytest

from loudou.analytics.diagnosis import _decided, diagnosis
from loudou.analytics.discipline import discipline
from loudou.analytics.insights import activities, collection, plan, stage_probability
from loudou.analytics.params import ParamError, ReportParams
from loudou.analytics.reports import forecast

from .builder import FrameBuilder, t

NOW = t("2026-06-30T00:00")
CODES = {"thin_top", "bottleneck", "stuck", "rep_outlier", "stale"}


def params(**kwargs) -> ReportParams:
    return ReportParams(now=NOW, lang=kwargs.pop("lang", "en"), **kwargs)


def days_ago(days: float) -> str:
    return (NOW - dt.timedelta(days=days)).isoformat()


# ---------------------------------------------------------------------------------------
# stage_probability


def test_stage_probability_hand_computed():
    b = FrameBuilder()
    for _ in range(3):
        b.deal([("contact", "2026-03-01T00:00"), ("won", "2026-04-01T00:00")])
    for _ in range(7):
        b.deal([("contact", "2026-03-01T00:00"), ("lost", "2026-04-01T00:00")])
    for _ in range(2):
        b.deal(
            [("contact", "2026-03-01T00:00"), ("needs", "2026-03-05T00:00"), ("lost", "2026-04-01")]
        )
    b.deal([("contact", "2025-01-01T00:00"), ("won", "2025-02-01T00:00")])  # before the window
    b.deal([("contact", "2026-03-01T00:00")])  # open: not counted
    rows = stage_probability(b.frames().pipeline(1), params()).rows
    contact, needs, proposal, negotiation = rows
    # Stage 1: 12 closed deals reached it, 3 won: 0.25, Wilson (0.0889, 0.5323) holds 0.10.
    assert (contact["sample"], contact["won"], contact["lost"]) == (12, 3, 9)
    assert contact["historical_probability"] == 0.25
    assert (contact["ci_low"], contact["ci_high"]) == (0.0889, 0.5323)
    assert contact["configured_probability"] == 0.1 and contact["flagged"] is False
    # Stage 2: the 3 won (they passed every stage) and 2 lost after it: 3/5.
    assert (needs["sample"], needs["historical_probability"]) == (5, 0.6)
    assert (needs["ci_low"], needs["ci_high"]) == (0.2307, 0.8824)
    assert needs["flagged"] is False
    assert proposal["sample"] == negotiation["sample"] == 3
    assert proposal["thin"] is True


def test_stage_probability_flags_a_configured_value_outside_the_interval():
    b = FrameBuilder()
    for _ in range(3):
        b.deal([("contact", "2026-03-01T00:00"), ("won", "2026-04-01T00:00")])
    for _ in range(7):
        b.deal([("contact", "2026-03-01T00:00"), ("lost", "2026-04-01T00:00")])
    contact, needs, *_ = stage_probability(b.frames().pipeline(1), params()).rows
    # 3/10: Wilson (0.1078, 0.6032) leaves out the configured 0.10.
    assert (contact["ci_low"], contact["ci_high"], contact["flagged"]) == (0.1078, 0.6032, True)
    assert needs["flagged"] is True  # 3/3: (0.4385, 1) leaves out 0.25
    empty = stage_probability(FrameBuilder().frames().pipeline(1), params()).rows[0]
    assert empty["historical_probability"] is None and empty["flagged"] is None


def test_stage_probability_counts_the_status_now_of_deals_won_once():
    """A deal won, reopened and lost reached every stage (it was won once) and is lost;
    a deal won and reopened is open again, not closed: no sample at all."""
    b = FrameBuilder()
    b.deal(
        [
            ("contact", "2026-03-01T00:00"),
            ("won", "2026-03-10T00:00"),
            ("needs", "2026-03-20T00:00"),
            ("lost", "2026-04-01T00:00"),
        ]
    )
    b.deal([("contact", "2026-03-01T00:00"), ("won", "2026-03-10T00:00")])
    b.deal(
        [("contact", "2026-03-01T00:00"), ("won", "2026-03-10T00:00"), ("contact", "2026-04-01")]
    )
    rows = stage_probability(b.frames().pipeline(1), params()).rows
    assert [(r["sample"], r["won"], r["lost"]) for r in rows] == [(2, 1, 1)] * 4


def test_diagnosis_conversion_counts_a_deal_won_once_as_past_every_stage():
    """_decided (bottleneck, rep_outlier): a deal won and reopened into contact went past
    every stage, so it is decided there, not "still open at contact"."""
    b = FrameBuilder()
    b.deal([("contact", days_ago(30)), ("won", days_ago(20)), ("contact", days_ago(10))])
    b.deal([("contact", days_ago(30))])  # still open at contact: not decided
    data = b.frames().pipeline(1)
    decided = _decided(data.deals, [], data).sort("k")
    assert decided.rows() == [(1, 1, 1), (2, 1, 1), (3, 1, 1), (4, 1, 1)]


# ---------------------------------------------------------------------------------------
# plan


def plan_data() -> FrameBuilder:
    b = FrameBuilder()
    for _ in range(4):  # won in the last year: average won amount 100
        b.deal([("contact", "2026-01-01T00:00"), ("won", "2026-05-01T00:00")], amount=100)
    b.deal([("contact", "2026-05-01T00:00"), ("won", "2026-06-10T00:00")], amount=100)
    b.deal([("proposal", "2026-06-01T00:00")], amount=300, expected_close="2026-07-15")
    b.deal([("proposal", "2026-06-01T00:00")], amount=200, expected_close="2026-08-15", owner="bob")
    b.deal([("contact", "2026-06-01T00:00")], amount=50, expected_close="2026-08-01")
    b.deal([("negotiation", "2026-06-01T00:00")], amount=999, expected_close="2026-12-01")
    return b


def test_plan_needed_have_gap_with_exact_rounding():
    data = plan_data().frames().pipeline(1)
    p = params(
        target=Decimal("1100"),
        date_from=dt.date(2026, 6, 1),
        date_to=dt.date(2026, 9, 1),
        probabilities="configured",
    )
    result = plan(data, p)
    needed = [r["needed"] for r in result.rows]
    # T_remaining = 1100 - 100 already won = 1000; A = 100:
    # ceil(1000 / (100 × 0.10)) = 100, 1000 / 25 = 40 exactly (not 41), 20, ceil(13.33) = 14.
    assert needed == [100, 40, 20, 14]
    assert [r["have"] for r in result.rows] == [3, 2, 2, 0]
    assert [r["gap"] for r in result.rows] == [97, 38, 18, 14]
    assert result.totals["remaining_target"] == Decimal("1000.00")
    assert result.totals["already_won"] == Decimal("100.00")
    assert result.totals["average_won_amount"] == Decimal("100.00")
    assert result.totals["coverage"] == 0.55  # 550 open closing in the period / 1000
    one_more = plan(
        data,
        params(
            target=Decimal("1101"),
            date_from=dt.date(2026, 6, 1),
            date_to=dt.date(2026, 9, 1),
            probabilities="configured",
        ),
    )
    assert [r["needed"] for r in one_more.rows] == [101, 41, 21, 14]


def test_plan_by_owner_splits_by_quota_or_evenly():
    b = plan_data()
    base = {
        "target": Decimal("1100"),
        "date_from": dt.date(2026, 6, 1),
        "date_to": dt.date(2026, 9, 1),
        "probabilities": "configured",
        "by": "owner",
    }
    even = plan(b.frames().pipeline(1), params(**base))
    assert even.totals["share_basis"] == "even"
    assert {(r["owner"], r["share"]) for r in even.rows} == {("alice", 0.5), ("bob", 0.5)}
    b.quota("alice", "2026-06-01", "2026-09-01", 3000)
    b.quota("bob", "2026-06-01", "2026-12-01", 2000)  # half of it overlaps the period
    split = plan(b.frames().pipeline(1), params(**base))
    assert split.totals["share_basis"] == "quota"
    alice = [r for r in split.rows if r["owner"] == "alice"]
    bob = [r for r in split.rows if r["owner"] == "bob"]
    # Quotas over the period: alice 3000, bob 2000 × 92/183 days: shares 0.749 / 0.251.
    assert alice[0]["share"] == round(3000 / (3000 + 2000 * 92 / 183), 4)
    # alice: target 1100 × share, minus the 100 she already won.
    assert (
        alice[0]["owner_target"] == Decimal(round(110000 * 3000 / (3000 + 2000 * 92 / 183))) / 100
    )
    assert bob[2]["have"] == 1  # bob's proposal deal


def test_plan_needs_a_target():
    with pytest.raises(ParamError, match="no quota covers it"):
        plan(plan_data().frames().pipeline(1), params())


def test_plan_takes_the_periods_quotas_when_no_target_is_given():
    b = plan_data()
    b.quota("alice", "2026-06-01", "2026-09-01", 3000)
    b.quota("bob", "2026-06-01", "2026-12-01", 2000)  # 92 of its 183 days overlap
    period = {"date_from": dt.date(2026, 6, 1), "date_to": dt.date(2026, 9, 1)}
    from_quotas = plan(b.frames().pipeline(1), params(**period))
    expected = Decimal(round(Fraction(300000) + Fraction(200000 * 92, 183))) / 100
    assert from_quotas.totals["target"] == expected
    assert from_quotas.totals["target_source"] == "quotas"
    assert from_quotas.params["target"] == expected
    given = plan(b.frames().pipeline(1), params(target=Decimal("1100"), **period))
    assert (given.totals["target"], given.totals["target_source"]) == (Decimal("1100"), "given")


def test_forecast_with_historical_probabilities_and_simulation():
    b = FrameBuilder()
    for i in range(20):  # proposal: 20 closed, 15 won: historical 0.75 instead of 0.5
        path = [("proposal", "2026-01-01T00:00"), ("won" if i < 15 else "lost", "2026-03-01")]
        b.deal(path)
    b.deal([("proposal", "2026-06-01T00:00")], amount=1000, expected_close="2026-08-01")
    b.deal([("needs", "2026-06-01T00:00")], amount=400, expected_close="2026-08-01")
    data = b.frames().pipeline(1)
    window = {"date_from": dt.date(2026, 7, 1), "date_to": dt.date(2026, 10, 1)}
    configured = forecast(data, params(**window))
    assert configured.totals["weighted_amount"] == Decimal("600.00")  # 500 + 100
    historical = forecast(data, params(**window, probabilities="historical"))
    # The 20 closed deals started in proposal, so they passed needs too: 15/20 = 0.75
    # replaces both 0.5 and 0.25: 1000 × 0.75 + 400 × 0.75.
    assert historical.totals["weighted_amount"] == Decimal("1050.00")
    simulated = forecast(data, params(**window, simulate=True, target=Decimal("1000"), seed=5))
    again = forecast(data, params(**window, simulate=True, target=Decimal("1000"), seed=5))
    assert simulated.totals == again.totals
    totals = simulated.totals
    # Outcomes: 0, 400, 1000, 1400 with probabilities .375, .125, .375, .125.
    assert totals["simulated_p10"] == Decimal("0.00")
    assert totals["simulated_p90"] == Decimal("1400.00")
    assert abs(totals["simulated_mean"] - Decimal("600")) < 20
    assert totals["probability_of_target"] == pytest.approx(0.5, abs=0.02)


# ---------------------------------------------------------------------------------------
# diagnosis


def bottleneck_data(passed_now: int) -> FrameBuilder:
    """History (a year before the last 90 days): 54 of 100 deals went on from needs.
    Now (the last 90 days): ``passed_now`` of 100."""
    b = FrameBuilder()
    for cohort, passed in ((200, 54), (30, passed_now)):
        for i in range(100):
            start = days_ago(cohort)
            path = [("contact", start), ("needs", days_ago(cohort - 1))]
            path.append(("proposal" if i < passed else "lost", days_ago(cohort - 2)))
            b.deal(path, touched=days_ago(1))
    return b


def codes(result) -> list[str]:
    return [f["code"] for f in result.rows]


def test_bottleneck_on_each_side_of_the_threshold():
    found = diagnosis(bottleneck_data(40).frames().pipeline(1), params())
    bottlenecks = [f for f in found.rows if f["code"] == "bottleneck"]
    assert len(bottlenecks) == 1
    finding = bottlenecks[0]
    assert finding["stage"] == "needs"
    assert finding["numbers"]["conversion"] == 0.4 and finding["numbers"]["n"] == 100
    assert finding["numbers"]["historical_conversion"] == 0.54
    assert finding["numbers"]["p_value"] == 0.0473
    assert "40%" in finding["message_en"] and "54%" in finding["message_en"]
    assert "确认需求→方案报价" in finding["message_zh"] and "（n=100）" in finding["message_zh"]
    not_found = diagnosis(bottleneck_data(41).frames().pipeline(1), params())
    assert "bottleneck" not in codes(not_found)  # p = 0.066


def test_thin_top_against_the_target():
    data = bottleneck_data(54).frames().pipeline(1)
    # Won in the last year: 0 here, so no average won amount: add some.
    b = bottleneck_data(54)
    for _ in range(5):
        b.deal([("contact", days_ago(100)), ("won", days_ago(50))], amount=1000)
    data = b.frames().pipeline(1)
    thin = diagnosis(data, params(target=Decimal("1000000")))
    finding = next(f for f in thin.rows if f["code"] == "thin_top")
    # 100 created in the period; needed[1] = ceil(1,000,000 / (A × p1)): A = 1000 (five
    # won at 1000), p1 = 5 won of 97 closed in the last year, 0.0515 in basis points.
    assert finding["numbers"]["inflow"] == 100
    assert finding["numbers"]["needed"] == 19418  # 1,000,000 / 51.5 = 19,417.48
    assert "thin_top" not in codes(diagnosis(data, params(target=Decimal("1000"))))


def test_stuck_just_above_and_below_twice_the_median():
    b = FrameBuilder()
    for stay in (10, 20, 30):  # completed stays in needs: median 20 days
        b.deal([("needs", days_ago(100)), ("proposal", days_ago(100 - stay))], touched=days_ago(1))
    b.deal([("needs", days_ago(39.9))], touched=days_ago(1))
    stuck_id = b.deal([("needs", days_ago(40.1))], touched=days_ago(1))
    found = [f for f in diagnosis(b.frames().pipeline(1), params()).rows if f["code"] == "stuck"]
    assert len(found) == 1
    numbers = found[0]["numbers"]
    assert (numbers["stuck"], numbers["open"], numbers["median_days"]) == (1, 2, 20.0)
    assert numbers["threshold_days"] == 40.0 and numbers["deal_ids"] == [stuck_id]


def test_rep_outlier_against_the_rest_of_the_team():
    b = FrameBuilder()
    for owner, passed, total in (("alice", 5, 20), ("bob", 30, 40)):
        for i in range(total):
            path = [("contact", days_ago(30)), ("needs", days_ago(29))]
            path.append(("proposal" if i < passed else "lost", days_ago(28)))
            b.deal(path, owner=owner, touched=days_ago(1))
    found = [
        f for f in diagnosis(b.frames().pipeline(1), params()).rows if f["code"] == "rep_outlier"
    ]
    assert [(f["owner"], f["stage"]) for f in found] == [("alice", "needs")]
    numbers = found[0]["numbers"]
    assert (numbers["conversion"], numbers["n"], numbers["team_conversion"], numbers["team_n"]) == (
        0.25,
        20,
        0.75,
        40,
    )


def test_every_finding_code_has_both_languages():
    b = bottleneck_data(20)
    for owner, passed, total in (("carol", 2, 20), ("dave", 30, 40)):
        for i in range(total):
            path = [("contact", days_ago(30)), ("needs", days_ago(29))]
            path.append(("proposal" if i < passed else "lost", days_ago(28)))
            b.deal(path, owner=owner, touched=days_ago(1))
    for _ in range(5):
        b.deal([("contact", days_ago(100)), ("won", days_ago(50))], amount=1000)
    b.deal([("needs", days_ago(80))], owner="erin")  # stale and stuck
    result = diagnosis(b.frames().pipeline(1), params(target=Decimal("10000000")))
    assert set(codes(result)) == CODES
    for finding in result.rows:
        assert re.search(r"[\u4e00-\u9fff]", finding["message_zh"]), finding
        assert finding["message_en"].isascii() or "→" in finding["message_en"], finding
        assert finding["severity"] in ("high", "medium", "low")
    zh = diagnosis(b.frames().pipeline(1), params(target=Decimal("10000000"), lang="zh-hans"))
    assert [f["message"] for f in zh.rows] == [f["message_zh"] for f in zh.rows]


# ---------------------------------------------------------------------------------------
# discipline, collection, activities


def test_discipline_per_rep_and_team():
    b = FrameBuilder()
    # alice: forward to proposal (forced), back to needs 3 days later: one bounce.
    b.deal(
        [("contact", days_ago(30)), ("proposal", days_ago(20)), ("needs", days_ago(17))],
        forced=(1,),
        expected_close="2026-06-01",  # overdue
        touched=days_ago(17),  # stale: more than 14 days
    )
    b.deal([("contact", days_ago(5))], expected_close="2026-09-01", touched=days_ago(1))
    # bob: forward, back after 8 days: not a bounce.
    b.deal(
        [("contact", days_ago(30)), ("needs", days_ago(20)), ("contact", days_ago(12))],
        owner="bob",
        touched=days_ago(2),
    )
    result = discipline(b.frames().pipeline(1), params(sort="stale_pct"))
    alice, bob, team = result.rows
    assert (alice["owner"], alice["open_deals"], alice["stale"], alice["stale_pct"]) == (
        "alice",
        2,
        1,
        0.5,
    )
    assert (alice["overdue"], alice["overdue_pct"]) == (1, 0.5)
    assert (alice["forced_moves"], alice["bounces"]) == (1, 1)
    assert alice["median_days_since_touch"] == 9.0  # 17 and 1 days
    assert (bob["owner"], bob["bounces"], bob["stale"]) == ("bob", 0, 0)
    assert (team["scope"], team["team"], team["open_deals"], team["bounces"]) == (
        "team",
        "North",
        3,
        1,
    )
    by_name = discipline(b.frames().pipeline(1), params()).rows
    assert [r["owner"] for r in by_name[:2]] == ["alice", "bob"]
    with pytest.raises(ParamError):
        discipline(b.frames().pipeline(1), params(sort="nonsense"))


def test_discipline_leaves_imported_history_out():
    """Imported events are history from another system: never a forced move, and never
    half of a bounce (neither the move forward nor the move back is a rep's)."""
    b = FrameBuilder()
    # Imported forward move, reversed by the rep 2 days later: no bounce.
    b.deal(
        [("contact", days_ago(30)), ("proposal", days_ago(20)), ("needs", days_ago(18))],
        imported=(0, 1),
        touched=days_ago(1),
    )
    # The rep's forward move, reversed 2 days later by an imported event: no bounce.
    b.deal(
        [("contact", days_ago(30)), ("proposal", days_ago(20)), ("needs", days_ago(18))],
        imported=(2,),
        touched=days_ago(1),
    )
    # An imported event flagged forced (frames from elsewhere; the database forbids it).
    b.deal(
        [("contact", days_ago(30)), ("needs", days_ago(20))],
        forced=(1,),
        imported=(1,),
        touched=days_ago(1),
    )
    # The same moves made by the rep: one forced move and one bounce, to compare.
    b.deal(
        [("contact", days_ago(30)), ("proposal", days_ago(20)), ("needs", days_ago(18))],
        forced=(1,),
        touched=days_ago(1),
    )
    alice, _team = discipline(b.frames().pipeline(1), params()).rows
    assert (alice["open_deals"], alice["forced_moves"], alice["bounces"]) == (4, 1, 1)


def test_collection_per_period_owner_and_deal():
    b = FrameBuilder()
    first = b.deal([("contact", "2026-04-01T00:00"), ("won", "2026-05-10T00:00")], amount=1000)
    second = b.deal(
        [("contact", "2026-04-01T00:00"), ("won", "2026-06-10T00:00")], amount=500, owner="bob"
    )
    b.deal([("contact", "2026-04-01T00:00"), ("lost", "2026-06-10T00:00")], amount=700)
    b.payment(first, 400, "2026-05-20")
    b.payment(first, 100, "2026-06-20")
    b.payment(second, 500, "2026-06-30")
    data = b.frames().pipeline(1)
    window = {"date_from": dt.date(2026, 1, 1), "date_to": dt.date(2026, 7, 1)}
    result = collection(data, params(**window))
    may, june = result.rows
    assert (may["period"], may["won_amount"], may["paid"], may["outstanding"]) == (
        "2026-05",
        Decimal("1000.00"),
        Decimal("500.00"),
        Decimal("500.00"),
    )
    assert may["collected"] == 0.5 and june["collected"] == 1.0
    assert result.totals["collected"] == 1000 / 1500
    per_deal = collection(data, params(**window, by="deal")).rows
    assert [(r["deal_id"], r["outstanding"]) for r in per_deal] == [
        (first, Decimal("500.00")),
        (second, Decimal("0.00")),
    ]
    per_owner = collection(data, params(**window, by="owner")).rows
    assert {(r["owner"], r["paid"]) for r in per_owner} == {
        ("alice", Decimal("500.00")),
        ("bob", Decimal("500.00")),
    }


def test_activities_before_advancing_and_before_losing():
    b = FrameBuilder()
    on = b.deal([("contact", days_ago(20)), ("needs", days_ago(10))])
    b.activity(on, "call", days_ago(19))
    b.activity(on, "call", days_ago(15))
    b.activity(on, "visit", days_ago(5))  # in the needs stay, which has not ended
    gone = b.deal([("contact", days_ago(20)), ("lost", days_ago(10))])
    b.activity(gone, "email", days_ago(12))
    b.deal([("contact", days_ago(20)), ("needs", days_ago(10))])  # no activity at all
    result = activities(b.frames().pipeline(1), params())
    rows = {(r["stage"], r["outcome"], r["type"]): r for r in result.rows}
    call = rows[("contact", "advanced", "call")]
    assert (call["stays"], call["activities"], call["per_stay"], call["share_with"]) == (
        2,
        2,
        1.0,
        0.5,
    )
    email = rows[("contact", "lost", "email")]
    assert (email["stays"], email["activities"], email["share_with"]) == (1, 1, 1.0)
    assert ("contact", "advanced", "visit") not in rows  # the needs stay has not ended
    assert rows[("contact", "lost", "call")]["activities"] == 0
    assert result.totals == {"stays": 3, "activities": 3}


def test_a_stale_finding_lists_its_deals_longest_untouched_first():
    b = FrameBuilder()
    fresh = b.deal([("needs", days_ago(40))], owner="erin", touched=days_ago(1))
    older = b.deal([("needs", days_ago(40))], owner="erin", touched=days_ago(30))
    oldest = b.deal([("needs", days_ago(40))], owner="erin", touched=days_ago(35))
    result = diagnosis(b.frames().pipeline(1), params())
    (stale,) = [f for f in result.rows if f["code"] == "stale"]
    assert (stale["numbers"]["stale"], stale["numbers"]["open"]) == (2, 3)
    assert stale["numbers"]["deal_ids"] == [oldest, older]
    assert fresh not in stale["numbers"]["deal_ids"]
