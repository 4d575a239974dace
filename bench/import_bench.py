"""Benchmark `loudou import deals` on a generated file (not part of the test suite).

    python bench/import_bench.py --rows 1000000

Writes bench/data/import-N.csv (Loudou's import format: 200 owners in 20 teams, stage
dates, a third of the deals closed), imports it into an empty SQLite database in a fresh
process, and prints rows per second and the importing process's peak memory.
Targets (issue 4): >= 20,000 rows/s on SQLite, peak memory <= 500 MiB whatever the size.
``--compare`` also imports with the per-row path alone, the reference, and prints the ratio.
"""

import argparse
import csv
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
KEYS = ["contact", "needs", "proposal", "negotiation"]


def write_file(path: Path, rows: int, seed: int = 3) -> None:
    rng = random.Random(seed)
    start = dt.datetime(2023, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "external_id",
                "name",
                "account",
                "owner",
                "team",
                "status",
                "amount",
                "created_at",
                "expected_close_date",
                "closed_at",
                "lost_reason",
                "source",
                *[f"entered_{k}" for k in KEYS[1:]],
            ]
        )
        for i in range(1, rows + 1):
            created = start + dt.timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
            owner = rng.randrange(200)
            reached = rng.choice([0, 0, 1, 1, 2, 3])
            at, entered = created, []
            for _ in range(reached):
                at += dt.timedelta(days=rng.uniform(1, 20))
                entered.append(at.isoformat(timespec="seconds"))
            status = rng.choice(["open", "won", "lost"])
            closed = (
                (at + dt.timedelta(days=5)).isoformat(timespec="seconds")
                if status != "open"
                else ""
            )
            writer.writerow(
                [
                    f"X{i}",
                    f"Deal {i}",
                    f"Account {rng.randrange(20000)}",
                    f"owner{owner:03d}",
                    f"Team {owner // 10:02d}",
                    status,
                    f"{rng.randrange(1000, 900000)}.00",
                    created.isoformat(timespec="seconds"),
                    (created + dt.timedelta(days=60)).date().isoformat(),
                    closed,
                    "price" if status == "lost" else "",
                    "web",
                    *entered,
                    *[""] * (3 - len(entered)),
                ]
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--compare", action="store_true", help="also import with the per-row path (reference)"
    )
    args = parser.parse_args()
    data = HERE / "data"
    data.mkdir(exist_ok=True)
    source = data / f"import-{args.rows}.csv"
    if not source.exists():
        started = time.perf_counter()
        write_file(source, args.rows)
        print(
            f"wrote {source} ({source.stat().st_size / 2**20:.0f} MiB) in "
            f"{time.perf_counter() - started:.1f} s"
        )
    home = Path(tempfile.mkdtemp(prefix="loudou-import-bench-"))
    runs = [("vectorised", True)] + ([("per-row", False)] if args.compare else [])
    seconds = {}
    for label, fast in runs:
        seconds[label] = run(source, home / label, fast, label)
    if args.compare:
        print(f"per-row / vectorised time: {seconds['per-row'] / seconds['vectorised']:.2f}")


def run(source: Path, home: Path, fast: bool, label: str) -> float:
    """Import ``source`` into a new database under ``home``; print and return seconds."""
    return timed_load(
        home,
        f"from loudou.spreadsheets import services\nservices.FAST = {fast}\n",
        f"s = import_deals(path=Path({str(source)!r}), create_owners=True)",
        lambda rows, created, events, seconds, peak: (
            f"{label}: {rows:,} rows -> {created:,} deals, {events:,} stage changes in "
            f"{seconds:.1f} s: {rows / seconds:,.0f} rows/s; peak memory {peak} MiB"
        ),
    )


def timed_load(home: Path, setup: str, call: str, describe: Callable[..., str]) -> float:
    """Migrate a new SQLite database under ``home``, then time ``call`` (an import that
    binds its summary to ``s``) after ``setup`` in a fresh process; print
    ``describe(rows, created, events, seconds, peak MiB)`` and return the seconds.

    Shared by bench/migrate_bench.py, so both imports are measured the same way."""
    home.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOUDOU_")}
    env.update(LOUDOU_HOME=str(home), DJANGO_SETTINGS_MODULE="loudou.settings")
    subprocess.run([sys.executable, "-m", "loudou", "migrate", "-v0"], env=env, check=True)
    code = (
        "import time, django\n"
        "django.setup()\n"
        "from pathlib import Path\n"
        f"{setup}"
        "from loudou.spreadsheets.services import import_deals\n"
        "from loudou.spreadsheets.vendors.migrate import migrate\n"
        "t = time.perf_counter()\n"
        f"{call}\n"
        "t = time.perf_counter() - t\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "print(s.rows, s.created, s.events_added, round(t, 2), int(hwm.split()[1]) // 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    ).stdout.split()
    rows, created, events, peak = int(out[0]), int(out[1]), int(out[2]), int(out[4])
    seconds = float(out[3])
    print(describe(rows, created, events, seconds, peak))
    return seconds


if __name__ == "__main__":
    main()
