"""Benchmark Loudou's reports against a DuckDB reference on the same data.

    python bench/run.py --deals 1000000        # generates bench/data/bench-1000000.sqlite3
    python bench/run.py --deals 100000 --runs 7

Checks that the product and DuckDB give identical numbers for seven queries, then prints,
per query: product warm ms (cached frames, as a serving process), product cold ms (a
fresh `loudou report` process reading SQLite), DuckDB ms (in memory), and the ratio
warm / DuckDB; all medians of --runs runs. Then the peak memory of a process serving all
reports. The management reports without a DuckDB counterpart (plan, diagnosis,
discipline, activities, the simulated forecast) get warm and cold times. Not part of the
test suite.
"""

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
PERIOD = (dt.date(2025, 11, 1), dt.date(2026, 11, 1))  # funnel cohort, time in stage
FORECAST = (dt.date(2026, 11, 1), dt.date(2027, 5, 1))


def median_ms(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def load_reference_tables(db: Path) -> dict:
    """Raw tables as Arrow, read by connectorx in a child process (see frames_reader)."""
    import pyarrow.feather as feather
    from duckdb_reference import TABLES

    with tempfile.TemporaryDirectory() as out:
        code = (
            "import connectorx as cx, pyarrow.feather as f, sys, json\n"
            "for name, q in json.loads(sys.argv[2]).items():\n"
            "    f.write_feather(cx.read_sql('sqlite://' + sys.argv[1], q, return_type='arrow'),"
            " sys.argv[3] + '/' + name + '.arrow')\n"
        )
        subprocess.run([sys.executable, "-c", code, str(db), json.dumps(TABLES), out], check=True)
        return {name: feather.read_table(f"{out}/{name}.arrow") for name in TABLES}


def setup_django(db: Path) -> None:
    os.environ["LOUDOU_HOME"] = str(db.parent)
    os.environ["LOUDOU_SQLITE_FILE"] = db.name
    os.environ.pop("LOUDOU_DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "loudou.settings"
    import django

    django.setup()


def cents(amount: Decimal) -> int:
    return int(amount * 100)


def compare(name: str, product: list, reference: list) -> None:
    if product != reference:
        for p, r in zip(product, reference, strict=False):
            if p != r:
                print(f"  first difference: product {p} != duckdb {r}")
                break
        raise SystemExit(
            f"MISMATCH in {name}: {len(product)} product rows, {len(reference)} reference rows"
        )


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) < 1e-3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold-runs", type=int, default=5)
    args = parser.parse_args()
    db = HERE / "data" / f"bench-{args.deals}.sqlite3"
    if not db.exists():
        subprocess.run(
            [
                sys.executable,
                str(HERE / "generate.py"),
                "--deals",
                str(args.deals),
                "--db",
                str(db),
            ],
            check=True,
        )
    sys.path.insert(0, str(HERE))
    setup_django(db)
    import duckdb_reference as ref

    from loudou.reports import loader
    from loudou.reports.services import run_report

    started = time.perf_counter()
    frames = loader.frames_for()
    load_s = time.perf_counter() - started
    data = frames.pipeline(frames.pipeline_id(None))
    names = data.owner_names
    ids = {v: k for k, v in names.items()}
    con = ref.connect(load_reference_tables(db))

    def product(report: str, **options: object) -> object:
        return run_report(name=report, user=None, now=NOW, **options)

    cases = {
        "open snapshot": (
            lambda: product("snapshot"),
            lambda: ref.snapshot(con, NOW),
            lambda r: [
                (x["stage"], x["count"], cents(x["amount"]), x["weighted_amount"], x["stale"])
                for x in r.rows
                if x["count"]
            ],
            ["snapshot"],
        ),
        "cohort funnel per rep": (
            lambda: product("funnel", by="owner", date_from=PERIOD[0], date_to=PERIOD[1]),
            lambda: ref.funnel_per_rep(con, _utc(PERIOD[0]), _utc(PERIOD[1])),
            lambda r: sorted(
                (
                    ids[x["owner"]],
                    data.stages[[s.key for s in data.stages].index(x["stage"])].index,
                    x["reached"],
                    cents(x["amount"]),
                    x["open"],
                    x["lost_at"],
                )
                for x in r.rows
            ),
            [
                "funnel",
                "--by",
                "owner",
                "--from",
                PERIOD[0].isoformat(),
                "--to",
                PERIOD[1].isoformat(),
            ],
        ),
        "time in stage": (
            lambda: product("time_in_stage", date_from=PERIOD[0], date_to=PERIOD[1]),
            lambda: ref.time_in_stage(con, _utc(PERIOD[0]), _utc(PERIOD[1])),
            lambda r: [
                (x["stage"], x["count"], x["mean_days"], x["median_days"], x["p90_days"])
                for x in r.rows
                if x["count"]
            ],
            ["time_in_stage", "--from", PERIOD[0].isoformat(), "--to", PERIOD[1].isoformat()],
        ),
        "weighted forecast per rep and month": (
            lambda: product("forecast", by="owner", date_from=FORECAST[0], date_to=FORECAST[1]),
            lambda: ref.forecast_per_rep_month(con, *FORECAST),
            lambda r: sorted(
                (
                    x["period"],
                    ids[x["owner"]],
                    x["open_count"],
                    cents(x["amount"]),
                    x["weighted_amount"],
                    cents(x["commit"]),
                    cents(x["best_case"]),
                    cents(x["already_won"]),
                )
                for x in r.rows
            ),
            [
                "forecast",
                "--by",
                "owner",
                "--from",
                FORECAST[0].isoformat(),
                "--to",
                FORECAST[1].isoformat(),
            ],
        ),
        "stage win rates (365 days)": (
            lambda: product("stage_probability"),
            lambda: ref.stage_win_rates(con, NOW - dt.timedelta(days=365), NOW),
            lambda r: [
                (
                    data.stages[[s.key for s in data.stages].index(x["stage"])].index,
                    x["sample"],
                    x["won"],
                )
                for x in r.rows
            ],
            ["stage_probability"],
        ),
        "collection per month": (
            lambda: product("collection", date_from=PERIOD[0], date_to=PERIOD[1]),
            lambda: ref.collection_per_month(con, _utc(PERIOD[0]), _utc(PERIOD[1])),
            lambda r: [
                (x["period"], x["deals"], cents(x["won_amount"]), cents(x["paid"])) for x in r.rows
            ],
            ["collection", "--from", PERIOD[0].isoformat(), "--to", PERIOD[1].isoformat()],
        ),
        "stale count per rep": (
            lambda: product("snapshot", by="owner"),
            lambda: ref.stale_per_rep(con, NOW),
            lambda r: sorted(
                (ids[o], s) for o, s in _sum_by(r.rows, "owner", "stale").items() if s
            ),
            ["snapshot", "--by", "owner"],
        ),
    }
    results = []
    for name, (run_product, run_reference, shape, cli) in cases.items():
        warm_ms, product_result = median_ms(run_product, args.runs)
        duck_ms, reference_rows = median_ms(run_reference, args.runs)
        mine = shape(product_result)
        if name == "time in stage":
            ok = len(mine) == len(reference_rows) and all(
                p[0] == r[0]
                and p[1] == r[1]
                and all(close(a, b) for a, b in zip(p[2:], r[2:], strict=True))
                for p, r in zip(mine, reference_rows, strict=True)
            )
            if not ok:
                compare(name, mine, reference_rows)
        else:
            compare(name, mine, [tuple(r) for r in reference_rows])
        cold_ms = cold(db, cli, args.cold_runs)
        results.append((name, warm_ms, cold_ms, duck_ms))
        print(f"{name:38s} identical ({len(mine)} rows)", flush=True)
    others = [
        (
            report,
            median_ms(
                lambda r=report: product(r, date_from=PERIOD[0], date_to=PERIOD[1]), args.runs
            )[0],
        )
        for report in ("flow", "cycle", "win_rate")
    ]
    management = []
    for name, options, cli in MANAGEMENT:
        warm_ms, _ = median_ms(lambda o=options: product(**o), args.runs)
        management.append((name, warm_ms, cold(db, cli, args.cold_runs)))
        print(f"{name:38s} measured", flush=True)
    print_table(args.deals, load_s, results, peak_rss_mib(db), loader_peak_mib(db))
    print()
    print(
        "Reports without a DuckDB reference (product warm ms): "
        + ", ".join(f"{name} {ms:.1f}" for name, ms in others)
    )
    print()
    print("| management report | product warm ms | product cold ms |")
    print("|---|---:|---:|")
    for name, warm, cold_ms in management:
        print(f"| {name} | {warm:.1f} | {cold_ms:.0f} |")


# (label, run_report options, `loudou report` arguments): the management reports that
# DuckDB has no counterpart for (statistics, simulation, findings).
TARGET = "50000000"
MANAGEMENT = [
    (
        "forecast --simulate (10,000 runs)",
        {
            "report": "forecast",
            "date_from": dt.date(2026, 11, 1),
            "date_to": dt.date(2027, 5, 1),
            "simulate": True,
            "target": Decimal(TARGET),
        },
        [
            "forecast",
            "--from",
            "2026-11-01",
            "--to",
            "2027-05-01",
            "--simulate",
            "--target",
            TARGET,
        ],
    ),
    (
        "plan --by owner",
        {"report": "plan", "target": Decimal(TARGET), "by": "owner"},
        ["plan", "--target", TARGET, "--by", "owner"],
    ),
    (
        "diagnosis",
        {"report": "diagnosis", "target": Decimal(TARGET)},
        ["diagnosis", "--target", TARGET],
    ),
    ("discipline", {"report": "discipline"}, ["discipline"]),
    ("activities", {"report": "activities"}, ["activities"]),
]


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), dt.UTC) - dt.timedelta(hours=8)


def _sum_by(rows: list[dict], key: str, field: str) -> dict:
    totals: dict = {}
    for row in rows:
        totals[row[key]] = totals.get(row[key], 0) + (row[field] or 0)
    return totals


def cold(db: Path, cli: list[str], runs: int) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOUDOU_")}
    env.update(LOUDOU_HOME=str(db.parent), LOUDOU_SQLITE_FILE=db.name)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [
        sys.executable,
        "-m",
        "loudou",
        "report",
        *cli,
        "--format",
        "json",
        "--now",
        NOW.isoformat(),
    ]

    def once() -> None:
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)

    return median_ms(once, runs)[0]


def peak_rss_mib(db: Path) -> float:
    """Peak resident memory of a fresh process serving every report, grouped three ways.

    Read from VmHWM: getrusage's ru_maxrss survives exec, so a child of this (large)
    benchmark process would report this process's size."""
    code = (
        "import datetime as dt, django, os\n"
        "django.setup()\n"
        "from loudou.reports.services import run_report\n"
        "from decimal import Decimal\n"
        "from loudou.analytics.catalog import CATALOG\n"
        "from loudou.analytics.params import ParamError\n"
        "now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)\n"
        "for name in CATALOG:\n"
        "    for by in (None, 'owner', 'team'):\n"
        "        try:\n"
        "            run_report(name=name, user=None, now=now, by=by, simulate=True,\n"
        f"                       target=Decimal({TARGET!r}))\n"
        "        except ParamError:\n"
        "            pass  # a grouping that report does not take\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "print(int(hwm.split()[1]) / 1024)\n"
    )
    env = dict(
        os.environ,
        LOUDOU_HOME=str(db.parent),
        LOUDOU_SQLITE_FILE=db.name,
        DJANGO_SETTINGS_MODULE="loudou.settings",
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    ).stdout
    return float(out.strip().splitlines()[-1])


def loader_peak_mib(db: Path) -> float:
    """Peak resident memory of the loader child (frames_reader) on its own."""
    code = (
        "import runpy, sys, tempfile\n"
        "with tempfile.TemporaryDirectory() as out:\n"
        "    sys.argv = ['frames_reader', out]\n"
        "    runpy.run_module('loudou.reports.frames_reader', run_name='__main__')\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "print(int(hwm.split()[1]) / 1024)\n"
    )
    env = dict(os.environ, LOUDOU_READER_URI=f"sqlite://{db}")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    ).stdout
    return float(out.strip().splitlines()[-1])


def print_table(deals: int, load_s: float, results: list, peak: float, loader_peak: float) -> None:
    cpu = platform.processor() or platform.machine()
    print()
    print(
        f"{deals:,} deals · {dt.date.today().isoformat()} · {os.cpu_count()} cores · "
        f"{cpu} · Python {platform.python_version()}"
    )
    print(
        f"frames loaded and derived in {load_s:.2f} s; peak RSS of a process serving all "
        f"reports {peak:.0f} MiB (of its loader child, transient: {loader_peak:.0f} "
        "MiB)"
    )
    print()
    print("| query | product warm ms | product cold ms | DuckDB ms | warm / DuckDB |")
    print("|---|---:|---:|---:|---:|")
    for name, warm, cold_ms, duck in results:
        print(f"| {name} | {warm:.1f} | {cold_ms:.0f} | {duck:.1f} | {warm / duck:.2f} |")


if __name__ == "__main__":
    main()
