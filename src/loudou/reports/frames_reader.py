"""Child process: read the report tables, derive the report frames, write them compactly.

    LOUDOU_READER_URI=sqlite:///path/db.sqlite3 python -m loudou.reports.frames_reader OUT \
        [--activities]

The serving process then reads only the derived frames (analytics/store.py). Why a child:

- SQLite: connectorx, like every fast Arrow reader, links its own copy of SQLite. Two SQLite
  libraries in one process break SQLite's POSIX locking: the second copy was seen to keep
  reading a stale snapshot after Django's connection committed, and SQLite documents that
  this can corrupt a database. In its own process it is an ordinary second client.
- Memory (both databases): the raw tables and the intermediate sorts live and die here; the
  serving process's peak holds the compact result only.

The URI comes in the environment so that a password never shows in the process list.
"""

import os
import sys
from pathlib import Path

import connectorx as cx
import polars as pl

from loudou.analytics.frames import SCHEMAS, Frames
from loudou.analytics.store import write_frames
from loudou.reports.queries import PARTITIONED, finish_raw, queries


def read_raw(uri: str, activities: bool = False) -> dict[str, pl.DataFrame]:
    """The raw tables; activities (as many rows as events) only when asked: only the
    activities report reads them, and every other report would pay for them."""
    vendor = "postgresql" if uri.startswith("postgres") else "sqlite"
    raw = {}
    for name, query in queries(vendor).items():
        if name == "activities" and not activities:
            continue
        options = {"partition_on": "id", "partition_num": 2} if name in PARTITIONED else {}
        try:
            frame = cx.read_sql(uri, query, return_type="polars", **options)
        except RuntimeError:
            # An empty table has no id range to partition: read it whole.
            frame = cx.read_sql(uri, query, return_type="polars")
        raw[name] = frame if frame.height else pl.DataFrame(schema=SCHEMAS[name])
    return finish_raw(raw)


def main(out: Path, activities: bool = False) -> None:
    frames = Frames.from_frames(**read_raw(os.environ["LOUDOU_READER_URI"], activities))
    write_frames(frames, out)


if __name__ == "__main__":
    main(Path(sys.argv[1]), "--activities" in sys.argv[2:])
