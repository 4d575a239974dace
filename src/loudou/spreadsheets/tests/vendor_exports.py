"""Vendor exports for tests and the benchmark: generated deals (seeded) written in each
vendor's documented export format, and the funnel figures computed straight from those
files (the proof that a migration keeps them)."""

import csv
import datetime as dt
import itertools
import random
import statistics
from dataclasses import dataclass, field
from pathlib import Path

# Salesforce's default opportunity stages: label, sort order, probability.
SF_OPEN = [
    ("Prospecting", 1, 10),
    ("Qualification", 2, 20),
    ("Needs Analysis", 3, 25),
    ("Proposal/Price Quote", 4, 75),
    ("Negotiation/Review", 5, 90),
]
SF_WON, SF_LOST = ("Closed Won", 6, 100), ("Closed Lost", 7, 0)
START = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)


@dataclass
class GenDeal:
    """A generated deal: its stays (stage index, entered at), outcome and close."""

    id: str
    name: str
    account: str
    owner: int
    created: dt.datetime
    amount: int
    stays: list[tuple[int, dt.datetime]] = field(default_factory=list)
    outcome: str | None = None  # won | lost | None (open)
    close: dt.datetime | None = None
    expected: dt.date | None = None
    repeats: list[dt.datetime] = field(default_factory=list)  # same-stage history rows


def generate(n: int, seed: int = 7, backward: bool = True, owners: int = 5) -> list[GenDeal]:
    """``n`` deals created over 2023-2024: each moves forward (sometimes skipping, and with
    ``backward`` sometimes back), then is won, lost or left open; about 3 history rows
    each, some repeating a stage (an amount change)."""
    rng = random.Random(seed)
    deals = []
    for i in range(n):
        created = START + dt.timedelta(seconds=rng.randrange(0, 700 * 86400))
        deal = GenDeal(
            id=f"006{i:012d}",
            name=f"Opportunity {i}",
            account=f"Account {i % 97}",
            owner=i % owners,
            created=created,
            amount=rng.randrange(1, 500) * 100,
        )
        stage, at = rng.choice([0, 0, 0, 1, 2]), created
        deal.stays.append((stage, at))
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            at += dt.timedelta(seconds=rng.randrange(3600, 30 * 86400))
            if rng.random() < 0.3:
                deal.repeats.append(at)
                continue
            if backward and stage > 0 and rng.random() < 0.1:
                stage -= 1
            else:
                stage = min(stage + rng.choice([1, 1, 2]), len(SF_OPEN) - 1)
            if stage != deal.stays[-1][0]:
                deal.stays.append((stage, at))
        roll = rng.random()
        if roll < 0.7:
            deal.outcome = "won" if rng.random() < 0.45 else "lost"
            deal.close = at + dt.timedelta(seconds=rng.randrange(3600, 20 * 86400))
        else:
            deal.expected = (at + dt.timedelta(days=rng.randrange(10, 90))).date()
        deals.append(deal)
    return deals


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        writer.writerows(rows)


def sf_time(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def write_salesforce(deals: list[GenDeal], folder: Path, owners: int = 5) -> Path:
    """A Salesforce Data Export: Opportunity, OpportunityHistory, User, Account."""
    folder.mkdir(parents=True, exist_ok=True)
    accounts = sorted({d.account for d in deals})
    account_ids = {name: f"001{i:012d}" for i, name in enumerate(accounts)}
    _write(
        folder / "Account.csv",
        ["Id", "IsDeleted", "Name", "Industry", "CreatedDate"],
        [[account_ids[a], "false", a, "Retail", sf_time(START)] for a in accounts],
    )
    _write(
        folder / "User.csv",
        ["Id", "Username", "Email", "FirstName", "LastName", "Name", "IsActive"],
        [
            [
                f"005{i:012d}",
                f"rep{i}@acme.sf",
                f"rep{i}@example.com",
                "Rep",
                str(i),
                f"Rep {i}",
                "true",
            ]
            for i in range(owners)
        ],
    )
    opportunities, history = [], []
    for d in deals:
        last_stage, last_at = d.stays[-1]
        if d.outcome == "won":
            label, order, probability = SF_WON
        elif d.outcome == "lost":
            label, order, probability = SF_LOST
        else:
            label, order, probability = SF_OPEN[last_stage]
        close_date = d.close.date() if d.close else d.expected
        changed = d.close or last_at
        opportunities.append(
            [
                d.id,
                "false",
                account_ids[d.account],
                d.name,
                label,
                order,
                f"{d.amount}.00",
                probability,
                close_date.isoformat(),
                "New Customer",
                "Web",
                "true" if d.outcome else "false",
                "true" if d.outcome == "won" else "false",
                "Closed" if d.outcome == "won" else "Omitted" if d.outcome else "Pipeline",
                f"005{d.owner:012d}",
                sf_time(d.created),
                sf_time(changed),
                sf_time(changed),
                sf_time(changed),
                str(close_date.year),
            ]
        )
        rows = [(at, SF_OPEN[s]) for s, at in d.stays]
        for at in d.repeats:  # the stage the deal was in at that time, again
            current = max((s for s in d.stays if s[1] <= at), key=lambda s: s[1])
            rows.append((at, SF_OPEN[current[0]]))
        if d.outcome:
            rows.append((d.close, SF_WON if d.outcome == "won" else SF_LOST))
        rows.sort(key=lambda r: r[0])
        for j, (at, (stage, _order, probability)) in enumerate(rows):
            history.append(
                [
                    f"008{len(history):012d}",
                    d.id,
                    f"005{d.owner:012d}",
                    sf_time(at),
                    stage,
                    f"{d.amount + j}.00",
                    "0",
                    close_date.isoformat(),
                    probability,
                    "Pipeline",
                    sf_time(at),
                    "false",
                ]
            )
    _write(
        folder / "Opportunity.csv",
        [
            "Id",
            "IsDeleted",
            "AccountId",
            "Name",
            "StageName",
            "StageSortOrder",
            "Amount",
            "Probability",
            "CloseDate",
            "Type",
            "LeadSource",
            "IsClosed",
            "IsWon",
            "ForecastCategory",
            "OwnerId",
            "CreatedDate",
            "LastModifiedDate",
            "SystemModstamp",
            "LastStageChangeDate",
            "FiscalYear",
        ],
        opportunities,
    )
    _write(
        folder / "OpportunityHistory.csv",
        [
            "Id",
            "OpportunityId",
            "CreatedById",
            "CreatedDate",
            "StageName",
            "Amount",
            "ExpectedRevenue",
            "CloseDate",
            "Probability",
            "ForecastCategory",
            "SystemModstamp",
            "IsDeleted",
        ],
        history,
    )
    return folder


# ---------------------------------------------------------------------------------------
# The figures, straight from the files


@dataclass
class Figures:
    """Funnel reached per stage (all deals: one cohort), win rate, cycle and time in stage
    (completed stays), as METRICS.md defines them."""

    reached: dict[str, int]
    won: int
    lost: int
    cycle: dict[str, tuple[int, float, float]]  # outcome -> count, mean, median days
    stays: dict[str, tuple[int, float, float]]  # stage label -> count, mean, median days


def _days(a: dt.datetime, b: dt.datetime) -> float:
    return (b - a).total_seconds() / 86400


def figures(
    journeys: list[tuple[dt.datetime, list[tuple[str, dt.datetime]], str | None]],
    order: list[str],
) -> Figures:
    """From (created, [(stage label, entered at)] with repeats collapsed and the close as
    the last entry, outcome) per deal, and the open stages' order."""
    reached = dict.fromkeys(order, 0)
    won = lost = 0
    cycle: dict[str, list[float]] = {"won": [], "lost": []}
    stays: dict[str, list[float]] = {label: [] for label in order}
    for created, steps, outcome in journeys:
        top = max(order.index(s) for s, _ in steps if s in order)
        if outcome == "won":
            top = len(order) - 1
        for label in order[: top + 1]:
            reached[label] += 1
        if outcome:
            won += outcome == "won"
            lost += outcome == "lost"
            cycle[outcome].append(_days(created, steps[-1][1]))
        for (label, at), (_next, then) in itertools.pairwise(steps):
            if label in stays:
                stays[label].append(_days(at, then))

    def stats(values: list[float]) -> tuple[int, float, float]:
        if not values:
            return (0, 0.0, 0.0)
        return (len(values), statistics.fmean(values), statistics.median(values))

    return Figures(
        reached,
        won,
        lost,
        {k: stats(v) for k, v in cycle.items()},
        {k: stats(v) for k, v in stays.items()},
    )


def salesforce_figures(folder: Path) -> Figures:
    """The figures from a Salesforce export's Opportunity and OpportunityHistory files:
    creation at CreatedDate, the stage rows in CreatedDate order (a row repeating the
    stage is no change), the close at the closing row."""

    def when(text: str) -> dt.datetime:
        return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)

    with open(folder / "Opportunity.csv", encoding="utf-8") as handle:
        opportunities = {r["Id"]: r for r in csv.DictReader(handle) if r["IsDeleted"] != "true"}
    rows: dict[str, list[tuple[dt.datetime, str]]] = {}
    sort_order: dict[str, int] = {}
    with open(folder / "OpportunityHistory.csv", encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            rows.setdefault(r["OpportunityId"], []).append((when(r["CreatedDate"]), r["StageName"]))
    for r in opportunities.values():
        sort_order[r["StageName"]] = int(r["StageSortOrder"])
    closed = {label for label, order in sort_order.items() if order >= 6}
    order = [label for label, _o, _p in SF_OPEN]
    journeys = []
    for key, r in opportunities.items():
        created = when(r["CreatedDate"])
        steps: list[tuple[str, dt.datetime]] = []
        for at, label in sorted(rows.get(key, [])):
            if not steps or steps[-1][0] != label:
                steps.append((label, max(at, created)))
        steps[0] = (steps[0][0], created)
        outcome = None
        if r["IsClosed"] == "true":
            outcome = "won" if r["IsWon"] == "true" else "lost"
            assert steps[-1][0] in closed
        journeys.append((created, steps, outcome))
    return figures(journeys, order)
