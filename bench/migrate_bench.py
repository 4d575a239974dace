"""Benchmark `loudou import salesforce` against `loudou import deals` (not part of the
test suite).

    python bench/migrate_bench.py --opportunities 100000

Writes a generated Salesforce Data Export (Opportunity.csv, OpportunityHistory.csv with
about three rows per opportunity, User.csv, Account.csv) and a Loudou import file with the
same number of deals (bench/import_bench.py's), migrates and imports each into an empty
SQLite database in a fresh process, and prints both times and their ratio.
Target (issue 16): the migration runs at >= 1/3 of the speed of `import deals` on the
same number of rows.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from import_bench import timed_load, write_file  # noqa: E402

from loudou.spreadsheets.tests import vendor_exports  # noqa: E402  (stdlib only)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--opportunities", type=int, default=100_000)
    args = parser.parse_args()
    n = args.opportunities
    data = HERE / "data"
    data.mkdir(exist_ok=True)
    export = data / f"salesforce-{n}"
    if not (export / "Opportunity.csv").exists():
        started = time.perf_counter()
        vendor_exports.write_salesforce(vendor_exports.generate(n, seed=11, owners=200), export)
        print(f"wrote {export} in {time.perf_counter() - started:.1f} s")
    with open(export / "OpportunityHistory.csv", "rb") as handle:
        history_rows = sum(1 for _ in handle) - 1
    source = data / f"import-{n}.csv"
    if not source.exists():
        write_file(source, n)
    home = Path(tempfile.mkdtemp(prefix="loudou-migrate-bench-"))
    load = os.getloadavg()
    print(f"{n:,} opportunities, {history_rows:,} history rows; load average {load[0]:.2f}")
    deals = run(
        home / "deals",
        f"s = import_deals(path=Path({str(source)!r}), create_owners=True)",
        "import deals",
    )
    migration = run(
        home / "salesforce",
        f"s = migrate(vendor='salesforce', path=Path({str(export)!r}), "
        "mirror_pipeline='Salesforce', create_owners=True)",
        "import salesforce",
    )
    print(f"speed of import salesforce / speed of import deals: {deals / migration:.2f}")


def run(home: Path, call: str, label: str) -> float:
    """Run ``call`` into a new database under ``home``; print and return seconds."""
    return timed_load(
        home,
        "",
        call,
        lambda rows, created, events, seconds, peak: (
            f"{label}: {rows:,} deals created {created:,}, {events:,} stage changes in "
            f"{seconds:.1f} s ({rows / seconds:,.0f} deals/s); peak memory {peak} MiB"
        ),
    )


if __name__ == "__main__":
    main()
