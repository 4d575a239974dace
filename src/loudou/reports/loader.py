"""Load report frames from the CRM database into Polars, and cache them per process.

The loader reads only the columns reports need, with connectorx (Rust, straight into
Arrow): in-process for PostgreSQL, in a child process for SQLite (see sqlite_reader.py
for why; bench/RESULTS.md for the measurements). The cache keeps one ``Frames`` per
database until ``core_dataversion.seq`` changes: database triggers bump it on every write
to a table that reports read, whichever code wrote.
"""

import logging
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import connectorx as cx
import polars as pl
import pyarrow.feather as feather
from django.db import connections

from loudou.analytics.frames import SCHEMAS, Frames
from loudou.core.db import data_version_triggers_missing

from .queries import PARTITIONED, queries

logger = logging.getLogger(__name__)


def connection_uri(alias: str = "default") -> str:
    """A connectorx URI for a Django database (its test database while testing)."""
    settings = connections[alias].settings_dict
    engine = settings["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite://{settings['NAME']}"
    if engine.endswith("postgresql"):
        user = quote(settings.get("USER") or "")
        password = quote(settings.get("PASSWORD") or "")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = settings.get("HOST") or "localhost"
        port = settings.get("PORT") or 5432
        return f"postgresql://{auth}{host}:{port}/{settings['NAME']}"
    raise NotImplementedError(f"Reports do not support {engine}")


def _read_postgresql(uri: str) -> dict[str, pl.DataFrame]:
    frames = {}
    for name, query in queries("postgresql").items():
        options = {"partition_on": "id", "partition_num": 2} if name in PARTITIONED else {}
        try:
            frames[name] = cx.read_sql(uri, query, return_type="polars", **options)
        except RuntimeError:
            frames[name] = cx.read_sql(uri, query, return_type="polars")  # empty table
    return frames


def _read_sqlite(path: str) -> dict[str, pl.DataFrame]:
    # Hand the Arrow files over in memory where the system offers it.
    shm = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(prefix="loudou-frames-", dir=shm) as out:
        done = subprocess.run(
            [sys.executable, "-m", "loudou.reports.sqlite_reader", path, out],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"reading {path} for reports failed:\n{done.stderr}")
        return {
            name: pl.from_arrow(feather.read_table(Path(out) / f"{name}.arrow", memory_map=False))
            for name in queries("sqlite")
        }


def load_frames(alias: str = "default") -> Frames:
    """Read every frame the reports need (no caching)."""
    settings = connections[alias].settings_dict
    if settings["ENGINE"].endswith("sqlite3"):
        raw = _read_sqlite(str(settings["NAME"]))
    else:
        raw = _read_postgresql(connection_uri(alias))
    raw = {
        name: frame if frame.height else pl.DataFrame(schema=SCHEMAS[name])
        for name, frame in raw.items()
    }
    if "no_amount" in raw["deals"].columns:
        raw["deals"] = raw["deals"].with_columns(
            pl.when(pl.col("no_amount") == 1)
            .then(None)
            .otherwise(pl.col("amount_cents"))
            .alias("amount_cents"),
            pl.col("last_touch_us").alias("last_touch"),
        )
    return Frames.from_frames(**raw)


_triggers_checked: dict[str, bool] = {}


def data_version(alias: str = "default") -> int | None:
    """The change marker: None if it cannot be trusted (then nothing is cached)."""
    connection = connections[alias]
    if alias not in _triggers_checked:
        missing = data_version_triggers_missing(connection)
        if missing:
            logger.warning(
                "Report cache off: no data-version trigger on %s. Run `loudou migrate`.",
                ", ".join(missing),
            )
        _triggers_checked[alias] = not missing
    if not _triggers_checked[alias]:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq FROM core_dataversion WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else None


@dataclass
class _Entry:
    version: int
    frames: Frames
    loaded_in: float


_cache: dict[str, _Entry] = {}
_lock = threading.Lock()


def frames_for(alias: str = "default") -> Frames:
    """The current frames, from the cache when nothing was written since they were read.

    The marker is read before and after loading; if a write committed in between, the
    load is repeated, so a cached entry never predates its marker."""
    with _lock:
        for _attempt in range(5):
            before = data_version(alias)
            entry = _cache.get(alias)
            if entry is not None and before is not None and entry.version == before:
                return entry.frames
            started = time.perf_counter()
            frames = load_frames(alias)
            after = data_version(alias)
            if before is not None and before == after:
                _cache[alias] = _Entry(before, frames, time.perf_counter() - started)
                return frames
            if before is None:
                return frames
        return frames  # writes kept coming: serve the freshest read, uncached


def clear_cache() -> None:
    with _lock:
        _cache.clear()
        _triggers_checked.clear()
