"""The published report frames: one copy per machine, shared by every process.

The derived frames are written as uncompressed Arrow IPC files (analytics/store.py) into a
new version folder under ``LOUDOU_REPORT_STORE`` (default ``LOUDOU_HOME/report-store``),
one folder per database, with the change marker they are current at and a manifest of
every file's size and checksum. The folder is renamed into place and ``CURRENT`` replaced
atomically (write, then rename), so a reader sees a whole version or none. Readers
memory-map the files: the operating system keeps one copy in its page cache for all
gunicorn workers, and a restarted server serves its first report from the store, brought
up to date by the change records (reports/loader.py), without a full load. A version whose
files do not match their manifest (partial, corrupt) is removed and never served. Old
versions are removed when a new one is published; a process that still maps one keeps its
pages (POSIX unlink semantics) until it lets go.

Several app servers on one PostgreSQL each keep their own store and bring it up to date
from the same change records (docs/deploy.md)."""

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connections

from loudou.analytics.frames import Frames
from loudou.analytics.store import read_frames, write_frames
from loudou.core.db import ChangeMarker

logger = logging.getLogger(__name__)
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
# The layout of the published frames: raise it whenever the frames' columns change, so a
# version written by an earlier Loudou is rebuilt after an upgrade rather than read.
# 2: users carry their display names.
FORMAT = 2
KEEP_VERSIONS = 2  # the current one and the one before (a reader may be opening it)


@dataclass
class Published:
    frames: Frames
    marker: ChangeMarker
    activities: bool
    version: str
    marked_at: float  # when the marker was taken (epoch seconds)


def folder(alias: str = "default") -> Path | None:
    """This database's folder in the store (None: the store is switched off)."""
    root = settings.LOUDOU_REPORT_STORE
    if root is None:
        return None
    db = connections[alias].settings_dict
    identity = f"{db['ENGINE']}|{db.get('HOST') or ''}|{db.get('PORT') or ''}|{db['NAME']}"
    return Path(root) / hashlib.sha256(identity.encode()).hexdigest()[:16]


def _checksum(path: Path) -> str:
    """A fast checksum of a file (a restarted server checks the whole store before its
    first report: CRC-32 took 0.32 s for the 234 MB of 1M deals, this 0.07 s). Per 4 MiB
    block, the wrapping sum of its 64-bit words (any flipped bit, zeroed page or lost
    tail changes it); the block sums are chained (Fletcher-style), so blocks moved
    around change it too. It guards against damage, not against an attacker."""
    size = path.stat().st_size
    if size == 0:
        return "0"
    data = np.memmap(path, dtype=np.uint8, mode="r")
    whole = size // 8 * 8
    words = data[:whole].view(np.uint64)
    low = high = 0
    step = 1 << 19  # words: 4 MiB
    for start in range(0, len(words), step):
        low = (low + int(words[start : start + step].sum(dtype=np.uint64))) % (1 << 64)
        high = (high + low) % (1 << 64)
    tail = bytes(data[whole:])
    return f"{low:x}.{high:x}.{tail.hex()}"


def publish_dir(frames_dir: Path, base: Path, marker: ChangeMarker, activities: bool) -> str | None:
    """Publish frames already written to ``frames_dir`` (by write_frames, e.g. the loader
    child) as the current version of the store folder ``base``; the folder is moved
    into it. Returns the version's name (None: it could not be written)."""
    try:
        base.mkdir(parents=True, exist_ok=True)
        files = sorted(p for p in frames_dir.iterdir() if p.is_file())
        manifest = {
            "format": FORMAT,
            "marker": {
                "max_id": marker.max_id,
                "snapshot": marker.snapshot,
                "fingerprint": marker.fingerprint,
            },
            "marked_at": time.time(),
            "activities": activities,
            "files": {p.name: {"size": p.stat().st_size, "sum": _checksum(p)} for p in files},
        }
        (frames_dir / MANIFEST).write_text(json.dumps(manifest))
        version = f"v{time.time_ns()}-{os.getpid()}"
        target = base / version
        # Same file system: a rename. From /dev/shm to disk: a copy, then the rename.
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=base))
        staging.rmdir()
        shutil.move(str(frames_dir), staging)
        os.rename(staging, target)
        pointer = base / f".{CURRENT}.{os.getpid()}"
        pointer.write_text(version)
        os.replace(pointer, base / CURRENT)
        _clean(base, keep=version)
        return version
    except OSError:
        logger.exception("Could not publish the report frames to %s", base)
        return None


def publish(frames: Frames, base: Path, marker: ChangeMarker, activities: bool) -> str | None:
    """Write ``frames`` and publish them (see ``publish_dir``)."""
    base.mkdir(parents=True, exist_ok=True)
    out = Path(tempfile.mkdtemp(prefix=".writing-", dir=base))
    try:
        write_frames(frames, out)
    except OSError:
        shutil.rmtree(out, ignore_errors=True)
        logger.exception("Could not write the report frames to %s", out)
        return None
    return publish_dir(out, base, marker, activities)


def open_current(base: Path) -> Published | None:
    """The current version in the store folder ``base``, memory-mapped, after checking
    every file against its manifest; None if there is none or it is damaged (then it is
    removed)."""
    try:
        version = (base / CURRENT).read_text().strip()
    except OSError:
        return None
    path = base / version
    try:
        manifest = json.loads((path / MANIFEST).read_text())
        if manifest.get("format") != FORMAT:
            logger.info(
                "Report store version %s has another format (%s, now %s): rebuilding it",
                path,
                manifest.get("format"),
                FORMAT,
            )
            _discard(base, path)
            return None
        for name, meta in manifest["files"].items():
            file = path / name
            if file.stat().st_size != meta["size"] or _checksum(file) != meta["sum"]:
                raise ValueError(f"{name} does not match its manifest")
        frames = read_frames(path)
    except Exception:  # any damage: never served, rebuilt by a full load
        logger.warning("Report store version %s is damaged: removing it", path, exc_info=True)
        _discard(base, path)
        return None
    saved = manifest["marker"]
    marker = ChangeMarker(saved["max_id"], saved["snapshot"], saved["fingerprint"])
    return Published(
        frames, marker, bool(manifest["activities"]), version, float(manifest["marked_at"])
    )


def _discard(base: Path, path: Path) -> None:
    """Remove a version that must not be served, and the pointer to it."""
    shutil.rmtree(path, ignore_errors=True)
    with contextlib.suppress(OSError):
        (base / CURRENT).unlink()


def _clean(base: Path, keep: str) -> None:
    """Remove all but the newest versions, and leftovers of interrupted writes older
    than an hour."""
    versions = sorted(
        (p for p in base.iterdir() if p.is_dir() and p.name.startswith("v")),
        key=lambda p: p.name,
    )
    for old in versions[:-KEEP_VERSIONS]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)
    for leftover in base.glob(".*"):
        with contextlib.suppress(OSError):
            if leftover.is_dir() and time.time() - leftover.stat().st_mtime > 3600:
                shutil.rmtree(leftover, ignore_errors=True)
