"""Live reports (issue 12): what a report costs right after a write, after a restart, and
in memory for a second worker. Not part of the test suite.

    python bench/live_bench.py --deals 100000      # data from bench/generate.py
    python bench/live_bench.py --deals 1000000

Each measure runs in a fresh process on a copy of the generated SQLite database, with a
report store of its own; all in the same run so the ratios compare like with like:

- full load: a cold ``loader.frames_for`` (child reads and derives everything, publishes);
- first report after a single-deal write: the cache is warm, a service writes one deal
  (an activity, an edit or a stage move), then ``run_report("snapshot")`` — change
  detection, the refresh of that deal, the report (median of --runs writes);
- first report after a restart with the store up to date: a new process whose Django is
  set up (a server's worker after boot) runs its first report;
- memory added by a second worker: a process that serves every report from the store,
  private memory (USS: /proc/PID/smaps_rollup Private_*) after the reports minus before.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPORTS = ["snapshot", "funnel", "flow", "win_rate", "time_in_stage", "cycle", "forecast"]


def setup(db: Path, store: Path) -> None:
    os.environ["LOUDOU_HOME"] = str(db.parent)
    os.environ["LOUDOU_SQLITE_FILE"] = db.name
    os.environ["LOUDOU_REPORT_STORE"] = str(store)
    os.environ.pop("LOUDOU_DATABASE_URL", None)
    os.environ.setdefault("LOUDOU_SECRET_KEY", "bench-only")
    os.environ["DJANGO_SETTINGS_MODULE"] = "loudou.settings"
    import django

    django.setup()


def anonymous_mib() -> float:
    """Private heap memory (anonymous pages): the mapped store files are page cache,
    shared by every process mapping them, and not counted."""
    total = 0
    with open("/proc/self/smaps_rollup") as handle:
        for line in handle:
            if line.startswith("Anonymous:"):
                total += int(line.split()[1])
    return total / 1024


def child_writes(runs: int) -> dict:
    """Warm cache, then single-deal writes each followed by the first report."""
    import random

    from loudou.activities.services import log_activity
    from loudou.deals import services
    from loudou.deals.models import Deal
    from loudou.people.models import User
    from loudou.reports import loader
    from loudou.reports.services import run_report

    started = time.perf_counter()
    run_report(name="snapshot", user=None)
    full = time.perf_counter() - started
    admin = User.objects.filter(role="admin").first()
    if admin is None:
        admin = User.objects.create_user(username="bench-admin", password="x", role="admin")
    ids = list(Deal.objects.filter(status="open").values_list("id", flat=True)[:5000])
    rng = random.Random(7)
    after, warm = [], []
    for n in range(runs):
        deal = Deal.objects.get(pk=rng.choice(ids))
        if n % 2 == 0:
            log_activity(actor=admin, deal=deal, type="call")
        else:
            services.update_deal(
                actor=admin,
                deal=deal,
                expected_version=deal.version,
                changes={"amount": str(1000 + n)},
            )
        started = time.perf_counter()
        run_report(name="snapshot", user=None)
        after.append(time.perf_counter() - started)
        started = time.perf_counter()
        run_report(name="snapshot", user=None)
        warm.append(time.perf_counter() - started)
    # Let the background publisher finish before the process ends.
    deadline = time.monotonic() + 120
    while loader._publishing and time.monotonic() < deadline:
        time.sleep(0.1)
    return {
        "cold_first_report_s": full,
        "after_write_ms": [round(t * 1000, 1) for t in after],
        "warm_ms": [round(t * 1000, 1) for t in warm],
    }


def child_restart() -> dict:
    from loudou.reports import loader
    from loudou.reports.services import run_report

    started = time.perf_counter()
    run_report(name="snapshot", user=None)
    first = time.perf_counter() - started
    return {"first_report_ms": round(first * 1000, 1), "from_store": bool(loader._cache)}


def child_memory() -> dict:
    import gc

    from loudou.reports.services import run_report

    gc.collect()
    before = anonymous_mib()
    for name in REPORTS:
        run_report(name=name, user=None)
    gc.collect()
    return {"anon_before_mib": round(before, 1), "anon_after_mib": round(anonymous_mib(), 1)}


def child_full_load(runs: int) -> dict:
    from loudou.reports import loader

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        loader.load_frames()
        times.append(time.perf_counter() - started)
    return {"full_load_s": [round(t, 2) for t in times]}


def run_child(db: Path, store: Path, mode: str, runs: int) -> dict:
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            mode,
            "--db",
            str(db),
            "--store",
            str(store),
            "--runs",
            str(runs),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--child")
    parser.add_argument("--db")
    parser.add_argument("--store")
    args = parser.parse_args()
    if args.child:
        setup(Path(args.db), Path(args.store))
        modes = {
            "writes": lambda: child_writes(args.runs),
            "restart": child_restart,
            "memory": child_memory,
            "full": lambda: child_full_load(3),
        }
        print(json.dumps(modes[args.child]()))
        return
    source = HERE / "data" / f"bench-{args.deals}.sqlite3"
    if not source.exists():
        raise SystemExit(
            f"{source} is missing: python bench/generate.py --deals {args.deals} --db {source}"
        )
    with tempfile.TemporaryDirectory(prefix="loudou-live-bench-", dir=HERE / "data") as tmp:
        db = Path(tmp) / "live.sqlite3"
        shutil.copy(source, db)
        store = Path(tmp) / "store"
        full = run_child(db, store, "full", 3)
        writes = run_child(db, store, "writes", args.runs)
        restart = [run_child(db, store, "restart", 1) for _ in range(3)]
        memory = run_child(db, store, "memory", 1)
    full_s = statistics.median(full["full_load_s"])
    after = statistics.median(writes["after_write_ms"])
    print(f"deals: {args.deals:,}   (load average {os.getloadavg()[0]:.1f})")
    print(f"full load (child reads + derives), median of 3:      {full_s * 1000:8.0f} ms")
    print(
        f"first report after a single-deal write, median of {args.runs}: {after:8.1f} ms"
        f"   ({after / (full_s * 1000):.3f} x a full load)"
    )
    print(f"  each: {writes['after_write_ms']}")
    print(
        f"warm report (nothing changed), median:               "
        f"{statistics.median(writes['warm_ms']):8.1f} ms"
    )
    firsts = [r["first_report_ms"] for r in restart]
    print(
        f"first report after a restart (store up to date):    "
        f"{statistics.median(firsts):8.1f} ms  each {firsts}, from store: "
        f"{all(r['from_store'] for r in restart)}"
    )
    added = memory["anon_after_mib"] - memory["anon_before_mib"]
    print(
        f"second worker serving {len(REPORTS)} reports from the store: private memory "
        f"+{added:.0f} MiB ({memory['anon_before_mib']:.0f} -> {memory['anon_after_mib']:.0f})"
    )


if __name__ == "__main__":
    main()
