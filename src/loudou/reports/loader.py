"""Load report frames from the CRM database into Polars, and cache them per process.

The loader reads only the columns reports need, with connectorx (Rust, straight into
Arrow; see bench/RESULTS.md for the measurement against ADBC and Django's cursor). The
cache keeps one ``Frames`` per database until ``core_dataversion.seq`` changes: database
triggers bump it on every write to a table that reports read, whichever code wrote.
"""

import threading
import time
from dataclasses import dataclass
from urllib.parse import quote

import connectorx as cx
import polars as pl
from django.db import connections

from loudou.analytics.frames import SCHEMAS, Frames

# SQL here is plain and portable (SQLite and PostgreSQL alike).
QUERIES = {
    "pipelines": "SELECT id, key, is_default FROM pipelines_pipeline",
    "deals": (
        "SELECT id, owner_id, team_id, pipeline_id, stage_id, status, "
        "CAST(ROUND(amount * 100) AS BIGINT) AS amount_cents, currency, "
        "expected_close_date, created_at, closed_at, source, forecast_category, updated_at, "
        "stage_entered_at, last_activity_at FROM deals_deal"
    ),
    "events": "SELECT id, deal_id, from_stage_id, to_stage_id, at FROM deals_stageevent",
    "stages": (
        "SELECT id, pipeline_id, key, kind, position, CAST(probability AS TEXT) AS probability, "
        "forecast_category, rot_days, name_zh, name_en FROM pipelines_stage"
    ),
    "users": "SELECT id, username, team_id FROM people_user",
    "teams": "SELECT id, name FROM people_team",
}


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


def _read(uri: str, query: str, schema: dict) -> pl.DataFrame:
    frame = cx.read_sql(uri, query, return_type="polars")
    if frame.height == 0:
        return pl.DataFrame(schema=schema)
    return frame


def load_frames(alias: str = "default") -> Frames:
    """Read every frame the reports need (no caching)."""
    uri = connection_uri(alias)
    raw = {name: _read(uri, sql, SCHEMAS[name]) for name, sql in QUERIES.items()}
    return Frames.from_frames(**raw)


def data_version(alias: str = "default") -> int | None:
    """The change marker: None if it cannot be read (then nothing is cached)."""
    with connections[alias].cursor() as cursor:
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
