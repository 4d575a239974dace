"""Load report frames from the CRM database, and cache them per process.

A child process (frames_reader.py) reads only the columns reports need with connectorx
(Rust, straight into Arrow), derives the report frames and hands them over as Arrow files;
see that module for why it is a child, bench/RESULTS.md for the measurements. The cache
keeps one ``Frames`` per database until ``core_dataversion.seq`` changes: database
triggers bump it on every write to a table that reports read, whichever code wrote.
"""

import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.db import connections

from loudou.analytics.frames import Frames
from loudou.analytics.store import read_frames
from loudou.core.db import data_version_triggers_missing

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


def load_frames(alias: str = "default", activities: bool = False) -> Frames:
    """Read and derive every frame the reports need, in a child process (no caching);
    activities only when asked."""
    # Hand the Arrow files over in memory where the system offers it.
    shm = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(prefix="loudou-frames-", dir=shm) as out:
        env = dict(os.environ, LOUDOU_READER_URI=connection_uri(alias))
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "loudou.reports.frames_reader",
                out,
                *(["--activities"] if activities else []),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"loading report data failed:\n{done.stderr}")
        return read_frames(Path(out))


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
    activities: bool


_cache: dict[str, _Entry] = {}
_lock = threading.Lock()


def frames_for(alias: str = "default", activities: bool = False) -> Frames:
    """The current frames, from the cache when nothing was written since they were read;
    with ``activities`` they hold the activities too (a cached entry that has them serves
    every report).

    The marker is read before and after loading; if a write committed in between, the
    load is repeated, so a cached entry never predates its marker."""
    with _lock:
        for _attempt in range(5):
            before = data_version(alias)
            entry = _cache.get(alias)
            if (
                entry is not None
                and before is not None
                and entry.version == before
                and (entry.activities or not activities)
            ):
                return entry.frames
            # Let the stale entry go first: two copies of the frames at once would double
            # the process's peak memory.
            _cache.pop(alias, None)
            entry = None
            started = time.perf_counter()
            frames = load_frames(alias, activities)
            after = data_version(alias)
            if before is not None and before == after:
                _cache[alias] = _Entry(before, frames, time.perf_counter() - started, activities)
                return frames
            if before is None:
                return frames
        return frames  # writes kept coming: serve the freshest read, uncached


def clear_cache() -> None:
    with _lock:
        _cache.clear()
        _triggers_checked.clear()
