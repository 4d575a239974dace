"""Load report frames from the CRM database, and cache them per process.

A child process (frames_reader.py) reads only the columns reports need with connectorx
(Rust, straight into Arrow), derives the report frames and hands them over as Arrow files;
see that module for why it is a child, bench/RESULTS.md for the measurements. The cache
keeps one ``Frames`` per database until a change is committed that its load did not see:
database triggers record every write to a table that reports read in ``core_change``,
whichever code wrote (``core/db.py``).
"""

import datetime as dt
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import polars as pl
from django.conf import settings
from django.db import connections

from loudou.analytics.frames import SCHEMAS, Frames
from loudou.analytics.patch import patch_frames
from loudou.analytics.store import read_frames
from loudou.core.db import (
    EVERYTHING,
    ChangeMarker,
    change_marker,
    change_triggers_missing,
    changes_since,
    check_marker,
    marker_belongs,
)
from loudou.reports import store
from loudou.reports.queries import PER_DEAL, SMALL, finish_raw, queries

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


def _run_reader(alias: str, out: Path, activities: bool) -> None:
    env = dict(os.environ, LOUDOU_READER_URI=connection_uri(alias))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "loudou.reports.frames_reader",
            str(out),
            *(["--activities"] if activities else []),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"loading report data failed:\n{done.stderr}")


def load_frames(alias: str = "default", activities: bool = False) -> Frames:
    """Read and derive every frame the reports need, in a child process (no caching, no
    publishing); activities only when asked."""
    # Hand the Arrow files over in memory where the system offers it.
    shm = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(prefix="loudou-frames-", dir=shm) as out:
        _run_reader(alias, Path(out), activities)
        return read_frames(Path(out))


def load_and_publish(alias: str, activities: bool, marker: ChangeMarker) -> Frames:
    """A full load, published to the store (when on) and served memory-mapped from it:
    the child writes straight into the store's folder, so nothing is copied."""
    base = store.folder(alias)
    if base is None:
        return load_frames(alias, activities)
    base.mkdir(parents=True, exist_ok=True)
    out = Path(tempfile.mkdtemp(prefix=".writing-", dir=base))
    try:
        _run_reader(alias, out, activities)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    version = store.publish_dir(out, base, marker, activities)
    if version is None:  # not published (disk full…): serve what was read
        try:
            return read_frames(out)
        finally:
            shutil.rmtree(out, ignore_errors=True)
    return read_frames(base / version)


_triggers_checked: dict[str, bool] = {}


def tracking(alias: str = "default") -> bool:
    """Whether changes are recorded in this database (if not, nothing is cached)."""
    if alias not in _triggers_checked:
        missing = change_triggers_missing(connections[alias])
        if missing:
            logger.warning(
                "Report cache off: change-record triggers missing (%s). Run `loudou migrate`.",
                ", ".join(missing),
            )
        _triggers_checked[alias] = not missing
    return _triggers_checked[alias]


@dataclass
class _Entry:
    marker: ChangeMarker
    frames: Frames
    loaded_at: float
    activities: bool


_cache: dict[str, _Entry] = {}
_lock = threading.Lock()
_publishing: set[str] = set()
_published_at: dict[str, float] = {}
_generation = 0  # clear_cache() starts a new one
# After a refresh the process serves a private patched copy until it publishes it and maps
# the published files again. Publishing writes every file (234 MB at 1M deals), so it
# waits for a burst of writes to end and happens at most every PUBLISH_INTERVAL.
PUBLISH_DELAY = 0.5  # seconds
PUBLISH_INTERVAL = 30.0


# Beyond this many changed deals, one full load is cheaper than patching (bench/live_bench.py).
REFRESH_MAX_DEALS = 20_000
# Tables whose change changes every deal's derived columns: they mean a full load.
# A deal table changed without a deal (a TRUNCATE) is one too.
RELOAD_TABLES = {
    EVERYTHING,
    "pipelines_pipeline",
    "pipelines_stage",
    "deals_deal",
    "deals_stageevent",
    "deals_payment",
    "activities_activity",
}


def _expired(entry: _Entry) -> bool:
    # Change records older than LOUDOU_CHANGES_KEEP_HOURS are pruned: an entry must be
    # brought up to date well before its changes could be gone.
    return time.monotonic() - entry.loaded_at > settings.LOUDOU_CHANGES_KEEP_HOURS * 1800


def read_deals(alias: str, deal_ids: list[int], activities: bool) -> dict[str, pl.DataFrame]:
    """The current rows of ``deal_ids`` (deal rows, events, payments, activities when
    asked), read in this process with the load's own SQL: a few deals, so no child."""
    connection = connections[alias]
    sql = queries(connection.vendor)
    raw: dict[str, pl.DataFrame] = {}
    for name, key in PER_DEAL.items():
        if name == "activities" and not activities:
            continue
        rows: list[tuple] = []
        columns: list[str] = []
        with connection.cursor() as cursor:
            for start in range(0, len(deal_ids), 5_000):
                chunk = deal_ids[start : start + 5_000]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(f"{sql[name]} WHERE {key} IN ({marks})", chunk)
                rows += cursor.fetchall()
                columns = [c[0] for c in cursor.description]
        raw[name] = _frame(rows, columns, name)
    return finish_raw(raw)


def read_small(alias: str, names: set[str]) -> dict[str, pl.DataFrame]:
    connection = connections[alias]
    sql = queries(connection.vendor)
    small = {}
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(sql[name])
            small[name] = _frame(cursor.fetchall(), [c[0] for c in cursor.description], name)
    return small


def _frame(rows: list[tuple], columns: list[str], name: str) -> pl.DataFrame:
    """Rows from a DB-API cursor as a frame ``frames.conform`` accepts: times as naive
    UTC datetimes (PostgreSQL's are aware, SQLite's naive UTC through Django)."""
    if not columns:
        return pl.DataFrame(schema=SCHEMAS[name])
    data: dict[str, list] = {c: [] for c in columns}
    for row in rows:
        for column, value in zip(columns, row, strict=True):
            if isinstance(value, dt.datetime) and value.tzinfo is not None:
                value = value.astimezone(dt.UTC).replace(tzinfo=None)
            elif isinstance(value, Decimal):
                value = int(value)
            data[column].append(value)
    schema = SCHEMAS[name]
    series = []
    for column in columns:
        dtype = schema.get(column)
        if dtype == pl.Boolean:
            dtype = None  # 0/1 integers: conform casts them
        elif dtype is not None and dtype.is_temporal():
            dtype = pl.Datetime("us") if isinstance(dtype, pl.Datetime) else pl.Date
        elif column in {"amount_cents", "no_amount", "last_touch_us"}:
            dtype = pl.Int64
        series.append(pl.Series(column, data[column], dtype=dtype, strict=False))
    return pl.DataFrame(series)


def _refresh(entry: _Entry, alias: str, activities: bool) -> _Entry | None:
    """``entry`` brought up to date by reading only what changed, or None when a full
    load is due (stages or pipelines changed, a bulk load, too many deals, too old)."""
    if _expired(entry) or (activities and not entry.activities):
        return None
    connection = connections[alias]
    marker = change_marker(connection)  # before reading: later commits show up next time
    changes = changes_since(connection, entry.marker, REFRESH_MAX_DEALS)
    if changes.too_many or changes.tables & RELOAD_TABLES:
        return None
    if not changes.deal_ids and not changes.tables:
        return _Entry(marker, entry.frames, entry.loaded_at, entry.activities)
    small = read_small(alias, {SMALL[t] for t in changes.tables if t in SMALL})
    raw = read_deals(alias, sorted(changes.deal_ids), entry.activities)
    frames = patch_frames(
        entry.frames,
        deal_ids=changes.deal_ids,
        raw=raw,
        small=small,
        activities=entry.activities,
    )
    return _Entry(marker, frames, time.monotonic(), entry.activities)


def _from_store(alias: str) -> _Entry | None:
    """The published version, if it belongs to this database and is recent enough to be
    brought up to date from the change records."""
    base = store.folder(alias)
    published = None if base is None else store.open_current(base)
    if published is None or not marker_belongs(connections[alias], published.marker):
        return None
    age = max(0.0, time.time() - published.marked_at)
    entry = _Entry(published.marker, published.frames, time.monotonic() - age, published.activities)
    return None if _expired(entry) else entry


def _publish_later(alias: str, base: Path) -> None:
    """Publish the process's entry after a refresh into the store folder ``base``, in the
    background and at most one at a time; then serve the published, shared copy instead
    of the private patched one."""
    if alias in _publishing:
        return
    _publishing.add(alias)
    generation = _generation

    def run() -> None:
        try:
            since = time.monotonic() - _published_at.get(alias, float("-inf"))
            time.sleep(max(PUBLISH_DELAY, PUBLISH_INTERVAL - since))
            with _lock:
                entry = _cache.get(alias)
            if entry is None or generation != _generation:
                return
            version = store.publish(entry.frames, base, entry.marker, entry.activities)
            _published_at[alias] = time.monotonic()
            if version is None:
                return
            mapped = read_frames(base / version)
            with _lock:
                if _cache.get(alias) is entry:
                    _cache[alias] = _Entry(entry.marker, mapped, entry.loaded_at, entry.activities)
        except Exception:
            logger.exception("Publishing the report frames failed")
        finally:
            if generation == _generation:
                _publishing.discard(alias)

    threading.Thread(target=run, name="loudou-publish-frames", daemon=True).start()


def frames_for(alias: str = "default", activities: bool = False) -> Frames:
    """The current frames: from this process's cache or the machine's store when no
    change was committed since they were read, patched with the deals that changed when
    a few did (``analytics.patch``), else loaded again and published. With
    ``activities`` they hold the activities too (an entry that has them serves every
    report).

    Markers are taken before reading: a write committed during a read may or may not be
    in the frames, and either way the next call sees it as a change, so a cached entry
    never hides a committed write."""
    connection = connections[alias]
    with _lock:
        if not tracking(alias):
            return load_frames(alias, activities)
        entry = _cache.get(alias)
        if entry is None or _expired(entry):
            entry = _from_store(alias)
        if entry is not None and not _expired(entry) and (entry.activities or not activities):
            belongs, changed = check_marker(connection, entry.marker)
        else:
            belongs = changed = False
        if entry is not None and belongs:
            if not changed:
                _cache[alias] = entry
                return entry.frames
            refreshed = _refresh(entry, alias, activities)
            if refreshed is not None:
                _cache[alias] = refreshed
                base = store.folder(alias)
                if base is not None:
                    _publish_later(alias, base)
                return refreshed.frames
        # Let the stale entry go first: two copies of the frames at once would double the
        # process's peak memory.
        _cache.pop(alias, None)
        entry = None
        marker = change_marker(connections[alias])
        frames = load_and_publish(alias, activities, marker)
        _cache[alias] = _Entry(marker, frames, time.monotonic(), activities)
        return frames


def clear_cache() -> None:
    """Forget everything this process holds (a background publish still waiting gives
    up); the store on disk stays."""
    global _generation
    with _lock:
        _cache.clear()
        _triggers_checked.clear()
        _publishing.clear()
        _published_at.clear()
        _generation += 1
