"""Child process: read the report tables of a SQLite database into Arrow files.

    python -m loudou.reports.sqlite_reader DATABASE OUT_DIR

Why a child process: connectorx (like every fast Arrow reader) links its own copy of
SQLite. Two SQLite libraries in one process break SQLite's POSIX locking: the second copy
was seen to keep reading a stale snapshot after Django's connection committed, and SQLite
documents that this can corrupt a database. In its own short-lived process the reader is
an ordinary second SQLite client, which WAL mode handles safely.
"""

import sys
from pathlib import Path

import connectorx as cx
import pyarrow as pa
import pyarrow.feather as feather

from loudou.reports.queries import PARTITIONED, queries


def read_all(database: str, out_dir: Path) -> None:
    uri = f"sqlite://{database}"
    for name, query in queries("sqlite").items():
        options = {"partition_on": "id", "partition_num": 2} if name in PARTITIONED else {}
        try:
            table = cx.read_sql(uri, query, return_type="arrow", **options)
        except RuntimeError:
            # An empty table cannot be partitioned (no id range): read it whole.
            table = cx.read_sql(uri, query, return_type="arrow")
        if isinstance(table, pa.RecordBatchReader):
            table = table.read_all()
        feather.write_feather(table, out_dir / f"{name}.arrow", compression="uncompressed")


if __name__ == "__main__":
    read_all(sys.argv[1], Path(sys.argv[2]))
