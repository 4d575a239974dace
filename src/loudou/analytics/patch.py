"""Bring derived frames up to date with the deals that changed, without a full load.

Everything ``frames.derive`` computes for a deal depends on that deal's own rows (its deal
row, events, payments, activities) and on the small tables (stages, users, teams, quotas).
So after writes to a few deals, their rows are read again (reports/loader.py), derived
alone, and swapped for their old rows in every pipeline's frames; the small tables are
replaced when they changed. The result equals a full load (a property test drives random
writes and compares every report: reports/tests/test_live_refresh.py).

Pure: no Django, no database."""

from collections.abc import Collection
from dataclasses import replace

import polars as pl

from .frames import OPTIONAL, SCHEMAS, Frames, PipelineData, conform, derive


def patch_frames(
    frames: Frames,
    *,
    deal_ids: Collection[int],
    raw: dict[str, pl.DataFrame],
    small: dict[str, pl.DataFrame] | None = None,
    activities: bool = False,
) -> Frames:
    """A new ``Frames`` equal to a full load after the deals ``deal_ids`` changed.

    ``raw`` holds the current rows of those deals only (deals, events, payments and,
    with ``activities`` (``frames`` holds them), activities), in the load's raw schemas;
    a deal missing from ``raw["deals"]`` was deleted. ``small`` holds the users, teams
    and quotas tables when they changed. Stages and pipelines are not patched: a change
    to them changes every deal's derived columns, and the caller loads everything again.
    ``frames`` is left as it was (readers may still hold it)."""
    small = small or {}
    tables = {
        name: small[name] if name in small else getattr(frames, name)
        for name in ("users", "teams", "quotas")
    }
    changed = pl.Series("id", sorted(set(deal_ids)), dtype=pl.Int64)
    given = {name: raw.get(name, pl.DataFrame(schema=SCHEMAS[name])) for name in SCHEMAS}
    sub = Frames(
        pipelines=frames.pipelines,
        stages=frames.stages,
        **{name: conform(tables[name], SCHEMAS[name]) for name in tables},
        **{name: conform(given[name], SCHEMAS[name]) for name in ("deals", "events")},
        **{name: conform(given[name], SCHEMAS[name]) for name in OPTIONAL if name != "quotas"},
    )
    result = Frames(
        pipelines=frames.pipelines,
        deals=frames.deals,
        events=frames.events,
        stages=frames.stages,
        users=sub.users,
        teams=sub.teams,
        quotas=sub.quotas,
        payments=frames.payments,
        activities=frames.activities,
    )
    for pipeline_id, old in frames.derived.items():
        fresh = derive(sub, pipeline_id)
        result.derived[pipeline_id] = _merge(old, fresh, changed, with_activities=activities)
    return result


def _swap(old: pl.DataFrame, fresh: pl.DataFrame, changed: pl.Series, key: str) -> pl.DataFrame:
    kept = old.filter(~pl.col(key).is_in(changed.implode()))
    if fresh.height == 0:
        return kept
    return pl.concat([kept, fresh.select(old.columns)], how="vertical")


def _merge(
    old: PipelineData, fresh: PipelineData, changed: pl.Series, *, with_activities: bool
) -> PipelineData:
    deals = _swap(old.deals, fresh.deals, changed, "id")
    events = _swap(old.events, fresh.events, changed, "deal_id")
    return replace(
        old,
        # Every field that depends on the small tables comes from the fresh derivation.
        owner_names=fresh.owner_names,
        team_names=fresh.team_names,
        user_teams=fresh.user_teams,
        owner_labels=fresh.owner_labels,
        quotas=fresh.quotas,
        deals=deals,
        open_deals=_swap(old.open_deals, fresh.open_deals, changed, "id"),
        events=events,
        stays=_swap(old.stays, fresh.stays, changed, "deal_id"),
        payments=_swap(old.payments, fresh.payments, changed, "deal_id"),
        activities=(
            _swap(old.activities, fresh.activities, changed, "deal_id")
            if with_activities
            else old.activities
        ),
        latest_event_at=events["at"].max() if events.height else None,
    )
