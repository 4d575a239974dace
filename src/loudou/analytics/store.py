"""Write and read prepared ``Frames`` as Arrow IPC files plus a JSON index.

The loader child process derives the frames and writes them here; the serving process
reads only the compact result, so it never holds the raw tables (see reports/loader.py).
"""

import datetime as dt
import json
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.ipc as ipc

from .frames import SCHEMAS, Frames, PipelineData, Stage

PARTS = ("deals", "open_deals", "events", "stays", "payments", "activities", "quotas")
# The small raw tables, kept beside the derived frames: refreshing a few deals derives
# them again (analytics/patch.py), which needs the stages, users, teams and quotas.
SMALL = ("stages", "users", "teams", "quotas")


def write_frames(frames: Frames, out: Path) -> None:
    index = {
        "pipelines": frames.pipelines.to_dicts(),
        "derived": {},
    }
    for pipeline_id, data in frames.derived.items():
        for part in PARTS:
            getattr(data, part).write_ipc(out / f"{pipeline_id}.{part}.arrow", compression=None)
        index["derived"][str(pipeline_id)] = {
            "key": data.key,
            "n": data.n,
            "stages": [{**asdict(s), "probability": str(s.probability)} for s in data.stages],
            "latest_event_at": data.latest_event_at.isoformat() if data.latest_event_at else None,
            "owner_names": {str(k): v for k, v in data.owner_names.items()},
            "team_names": {str(k): v for k, v in data.team_names.items()},
            "user_teams": {str(k): v for k, v in data.user_teams.items()},
            "owner_labels": {str(k): v for k, v in data.owner_labels.items()},
        }
    for name in SMALL:
        getattr(frames, name).write_ipc(out / f"raw.{name}.arrow", compression=None)
    (out / "index.json").write_text(json.dumps(index, ensure_ascii=False))


def read_ipc_mapped(path: Path) -> pl.DataFrame:
    """An Arrow file as a frame over a memory map of it: its pages stay the operating
    system's page cache, shared by every process reading the same file (Polars' own
    ``read_ipc`` copies into private memory). The mapping lives as long as the frame."""
    return pl.from_arrow(ipc.open_file(pa.memory_map(str(path))).read_all())


def read_frames(out: Path) -> Frames:
    index = json.loads((out / "index.json").read_text())
    pipelines = pl.DataFrame(
        index["pipelines"], schema={"id": pl.Int64, "key": pl.String, "is_default": pl.Boolean}
    )
    small = {name: read_ipc_mapped(out / f"raw.{name}.arrow") for name in SMALL}
    frames = Frames(
        pipelines=pipelines,
        deals=pl.DataFrame(schema=SCHEMAS["deals"]),
        events=pl.DataFrame(schema=SCHEMAS["events"]),
        **small,
    )
    for pipeline_id, meta in index["derived"].items():
        parts = {part: read_ipc_mapped(out / f"{pipeline_id}.{part}.arrow") for part in PARTS}
        latest = meta["latest_event_at"]
        frames.derived[int(pipeline_id)] = PipelineData(
            pipeline_id=int(pipeline_id),
            key=meta["key"],
            stages=[
                Stage(**{**s, "probability": Decimal(s["probability"])}) for s in meta["stages"]
            ],
            n=meta["n"],
            deals=parts["deals"],
            open_deals=parts["open_deals"],
            events=parts["events"],
            stays=parts["stays"],
            latest_event_at=dt.datetime.fromisoformat(latest) if latest else None,
            owner_names={int(k): v for k, v in meta["owner_names"].items()},
            team_names={int(k): v for k, v in meta["team_names"].items()},
            payments=parts["payments"],
            activities=parts["activities"],
            quotas=parts["quotas"],
            user_teams={int(k): v for k, v in meta["user_teams"].items()},
            # A version written before display names were kept has no "owner_labels":
            # the KeyError makes it unusable, and a full load takes its place.
            owner_labels={int(k): v for k, v in meta["owner_labels"].items()},
        )
    return frames
