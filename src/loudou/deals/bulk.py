"""Deals written in bulk: a plan of deals and their histories, checked by the rules and
applied many rows per statement.

The spreadsheet import builds plans (``PlannedDeal`` rows, or whole columns of new deals
from its vectorised path); this module decides what may be written and writes it:

- **who**: every deal created or changed must lie in the importing user's
  ``people.access.Scope``. A deal outside it is never matched by name, and a row naming
  one by its external id is refused without a word about that deal;
- **which history**: ``rules.chain_problem`` (a legal history), append-only (a known deal's
  recorded events must be the start of the planned ones), and a won deal with payments
  stays won;
- **what the deal becomes**: ``rules.final_states`` / ``rules.state_after`` of its history
  (stage, stage entry, status, created and closed times), never computed here.

Events written here are marked ``imported``: history from another system. Failures are
reported by the plan's row number (``Failure``); nothing here knows about spreadsheets.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Max
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from loudou.accounts.models import Contact
from loudou.bulkload.hashes import Hashes
from loudou.bulkload.indexes import DeferredIndexes
from loudou.bulkload.sql import datetime_adapter
from loudou.bulkload.writer import BackgroundWriter
from loudou.people.access import Scope
from loudou.people.models import User
from loudou.pipelines.models import Pipeline, Stage

from . import bulk_rows, rules
from .bulk_rows import (
    CUSTOM_COLUMN,
    DEAL_COLUMNS,
    EVENT_COLUMNS,
    NEW_COLUMNS,
    PlannedDeal,
    Step,
    chain_rows_of,
    deal_rows_of,
    deal_values,
    events_of,
    plan_frames,
)
from .models import Deal, Payment, StageEvent

__all__ = [  # what importers use, defined beside the rows they become
    "DEAL_COLUMNS",
    "EVENT_COLUMNS",
    "NEW_COLUMNS",
    "DealLoad",
    "Failure",
    "PlannedDeal",
    "Step",
]

NOT_YOURS = _("This external ID is not available to you; leave it out or use another one.")
OWNER_NOT_YOURS = _("You may not import deals for this owner (managers: their teams' only).")
TEAM_NOT_OWNERS = _("A deal belongs to its owner's team.")
REASSIGN = _("Only a manager or an administrator may reassign deals.")
CONTACT_NOT_OF_ACCOUNT = _("The contact must belong to the deal's account.")
HISTORY_DIFFERS = _(
    "The stage history in the file differs from the one recorded (stage changes can only "
    "be added, not edited)."
)


@dataclass(frozen=True)
class Failure:
    """Why the plan's row ``row`` cannot be applied; ``field`` names the plan's field."""

    row: int
    field: str
    value: str
    message: Promise


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    events_added: int = 0


@dataclass
class _Known:
    """A deal of the database a plan matched, with its recorded history."""

    deal: Deal
    events: list[tuple[int | None, int, dt.datetime]] = field(default_factory=list)
    has_payments: bool = False


class DealLoad:
    """One bulk load of deals by ``actor`` (None: the command line's unrestricted load),
    inside the caller's transaction (``transaction.atomic``).

    ``background``: new deals are inserted by a writer thread while the caller prepares
    the next batch. A big load may drop SQLite's plain indexes (``defer_indexes``) and
    rebuild them in ``finish``.

    ``check``: everything is checked and counted, nothing is written, and no transaction
    is needed (a dry run takes no write lock, so other users are never kept waiting).
    Deals it would create or change are kept in memory, so that a later row naming the
    same deal is checked against them as the import would. (Not kept: deals the
    vectorised path would create; a later row repeating one of their external ids is
    counted as an update without comparing histories. The import compares them.)"""

    def __init__(
        self, *, actor: User | None, background: bool = False, check: bool = False
    ) -> None:
        self.actor = actor
        self.check = check
        self.scope = Scope.of(actor) if actor is not None else Scope.unrestricted()
        self.db: BaseDatabaseWrapper = connections[DEFAULT_DB_ALIAS]
        self.background = background and not check
        self.failures: list[Failure] = []
        self.counts = Counts()
        self.writer: BackgroundWriter | None = None
        self.indexes = DeferredIndexes(
            self.db, ["deals_deal", "deals_stageevent"], keep={"deals_event_deal_at"}
        )
        # SQLite: one writer at a time, so new ids can be counted from the largest one; and
        # the external ids this load created, for ``existing_external_ids``.
        self.next_deal_id: int | None = None
        self.created_ids = Hashes()
        self.table_was_empty = False
        self.stages = {s.pk: s for s in Stage.objects.all()}
        self.stage_kinds = {pk: str(s.kind) for pk, s in self.stages.items()}
        self.pipelines = {p.pk: p for p in Pipeline.objects.all()}
        self.started_at = timezone.now()
        self.matched_ids: set[int] = set()
        # check: deals as they would be after this load (by stand-in id for new ones), and
        # how new ones are named (external id; name, account and creation time).
        self.virtual: dict[int, _Known] = {}
        self.virtual_names: dict[tuple, int] = {}
        self._stand_in = 0

    def __enter__(self) -> "DealLoad":
        if not (self.check or self.db.in_atomic_block):
            raise RuntimeError("DealLoad must run inside transaction.atomic()")
        self.existing = Deal.objects.count()
        if self.db.vendor == "sqlite" and not self.check:
            self.next_deal_id = (Deal.objects.aggregate(m=Max("id"))["m"] or 0) + 1
            self.table_was_empty = self.existing == 0
        if self.background:
            self.writer = BackgroundWriter(self.db).__enter__()
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None
            writer.__exit__(kind, error, trace)

    def finish(self) -> None:
        """Wait for the writer; rebuild indexes dropped for the load."""
        if self.writer is not None:
            self.writer.drain()
        self.indexes.rebuild()

    def defer_indexes(self, expected_rows: float, threshold: int) -> None:
        """A big load into a smaller table: its plain indexes are built at the end."""
        if not self.check and expected_rows >= threshold and expected_rows >= self.existing:
            self.indexes.drop()

    def _fail(self, row: int, field: str, value: object, message: Promise) -> None:
        self.failures.append(Failure(row, field, "" if value is None else str(value), message))

    # -- who ------------------------------------------------------------------------------

    def owner_allowed(self, owner: User) -> bool:
        return self.scope.can_own(owner)

    def _people_problem(self, plan: PlannedDeal, known: Deal | None) -> tuple[str, Promise] | None:
        owner, team = plan.fields["owner"], plan.fields["team"]
        if not self.scope.can_own(owner):
            return "owner", OWNER_NOT_YOURS
        if not self.scope.can_place(owner=owner, team=team):
            return "team", TEAM_NOT_OWNERS
        if known is not None and owner.pk != known.owner_id and not self.scope.may_reassign:
            return "owner", REASSIGN
        return None

    # -- matching plans to known deals -----------------------------------------------------

    def existing_external_ids(self, external_ids: list[str]) -> set[str]:
        """Which of these external ids the database has (raw SQL: the ORM's per-value
        preparation of a long IN list cost more than the query). Into a table that was
        empty, only this load's own deals: their hashes are kept, and a rare collision just
        sends a row to ``apply``, which looks it up."""
        found: set[str] = set()
        if self.table_was_empty or self.check:  # check: nothing written, so ask the hashes
            seen = self.created_ids.contains(external_ids)
            found = {e for e, known in zip(external_ids, seen, strict=True) if known}
            if self.table_was_empty:
                return found
        with self.db.cursor() as cursor:
            for start in range(0, len(external_ids), 1000):
                chunk = external_ids[start : start + 1000]
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(
                    f"SELECT external_id FROM deals_deal WHERE external_id IN ({marks})", chunk
                )
                found.update(row[0] for row in cursor.fetchall())
        return found

    def _match(self, plans: list[PlannedDeal]) -> dict[int, _Known]:
        """plan index -> the known deal it names: by external id (any deal: the id is
        unique, and one outside the scope is refused), else by name, account and creation
        time among the scope's deals without one (undated plans: by name and account, the
        n-th such row of the file taking the n-th oldest deal)."""
        wanted = {p.external_id for p in plans if p.external_id}
        by_external = {
            d.external_id: d
            for d in Deal.objects.filter(external_id__in=wanted).select_related("owner")
        }
        matched: dict[int, Deal] = {}
        natural: list[int] = []
        for i, plan in enumerate(plans):
            deal = by_external.get(plan.external_id) if plan.external_id else None
            if deal is None:
                natural.append(i)
            elif self.scope.can_act(deal):
                matched[i] = deal
            else:
                self._fail(plan.row, "external_id", plan.external_id, NOT_YOURS)
        if natural:
            # Deals this load matched or created are not matched again by a later row.
            candidates = (
                self.scope.filter(
                    Deal.objects.filter(
                        name__in={plans[i].fields["name"] for i in natural},
                        external_id__isnull=True,
                        created_at__lt=self.started_at,
                    )
                )
                .exclude(pk__in=self.matched_ids)
                .order_by("created_at", "id")
            )
            exact: dict[tuple, Deal] = {}
            by_second: dict[tuple, Deal] = {}
            loose: dict[tuple, list[Deal]] = defaultdict(list)
            for deal in candidates.select_related("owner"):
                exact[(deal.name, deal.account_id, deal.created_at)] = deal
                by_second[(deal.name, deal.account_id, _to_second(deal.created_at))] = deal
                loose[(deal.name, deal.account_id)].append(deal)
            for i in natural:
                plan = plans[i]
                if plan.undated:
                    pool = loose.get(plan.natural_key())
                    deal = pool.pop(0) if pool else None
                else:
                    at = plan.steps[0].at
                    deal = exact.get((*plan.natural_key(), at))
                    if deal is None and at.microsecond == 0:
                        deal = by_second.get((*plan.natural_key(), at))
                if deal is not None:
                    matched[i] = deal
        if self.check:
            self._match_virtual(plans, matched)
        known = {i: _Known(deal) for i, deal in matched.items()}
        self.matched_ids.update(deal.pk for deal in matched.values())
        if known:
            by_id = {k.deal.pk: k for k in known.values()}
            for deal_id, f, t, at in (
                StageEvent.objects.filter(deal_id__in=list(by_id))
                .order_by("deal_id", "at", "id")
                .values_list("deal_id", "from_stage_id", "to_stage_id", "at")
            ):
                by_id[deal_id].events.append((f, t, at))
            paid = set(
                Payment.objects.filter(deal_id__in=list(by_id)).values_list("deal_id", flat=True)
            )
            for k in known.values():
                k.has_payments = k.deal.pk in paid
        if self.check:  # a deal this check already changed: as it would be by now
            known = {i: self.virtual.get(k.deal.pk, k) for i, k in known.items()}
        return known

    def _match_virtual(self, plans: list[PlannedDeal], matched: dict[int, Deal]) -> None:
        """check: plans naming a deal an earlier row of this check would have created."""
        failed = {f.row for f in self.failures}
        for i, plan in enumerate(plans):
            if i in matched or plan.row in failed:
                continue
            pk = None
            if plan.external_id:
                pk = self.virtual_names.get(("ext", plan.external_id))
            if pk is None and not plan.undated:
                pk = self.virtual_names.get(("nat", *plan.natural_key(), plan.steps[0].at))
            if pk is not None and pk not in self.matched_ids:
                matched[i] = self.virtual[pk].deal

    def _remember(
        self, plan: PlannedDeal, deal: Deal, events: list[tuple], has_payments: bool = False
    ) -> None:
        """check: keep a deal as this load would leave it."""
        if deal.pk is None:
            self._stand_in -= 1
            deal.pk = self._stand_in
            if plan.external_id:
                self.virtual_names[("ext", plan.external_id)] = deal.pk
            self.virtual_names[("nat", *plan.natural_key(), plan.steps[0].at)] = deal.pk
        self.virtual[deal.pk] = _Known(deal, events, has_payments)

    # -- applying plans --------------------------------------------------------------------

    def apply(self, plans: list[PlannedDeal]) -> None:
        """Create the new deals and extend the known ones, in plan order. A deal named twice
        is applied in two steps, so that its second row finds the first one written. (Rows
        without any date never name the same deal twice: the n-th takes the n-th.)"""
        start, keys = 0, set()
        for i, plan in enumerate(plans):
            if plan.undated and not plan.external_id:
                continue
            key = plan.external_id or (*plan.natural_key(), plan.steps[0].at)
            if key in keys:
                self._apply_distinct(plans[start:i])
                start, keys = i, set()
            keys.add(key)
        self._apply_distinct(plans[start:])

    def _apply_distinct(self, plans: list[PlannedDeal]) -> None:
        if not plans:
            return
        failed_before = {f.row for f in self.failures}
        known = self._match(plans)
        failed = {f.row for f in self.failures} - failed_before
        new: list[PlannedDeal] = []
        events: list[tuple] = []  # (deal_id, from_stage_id, to_stage_id, at, by_id)
        for i, plan in enumerate(plans):
            if plan.row in failed:
                continue
            match = known.get(i)
            problem = self._people_problem(plan, match.deal if match else None)
            if problem is not None:
                name = problem[0]
                self._fail(plan.row, name, plan.given.get(name, plan.fields[name]), problem[1])
            elif match is None:
                new.append(plan)
            else:
                events += self._extend(plan, match)
        if self.check:
            for plan in new:
                self._remember(plan, Deal(**_virtual_fields(plan)), events_of(plan.steps))
        self.insert_new(*plan_frames(new), known_events=events)

    def _extend(self, plan: PlannedDeal, known: _Known) -> list[tuple]:
        """Update a known deal from its plan; its new events (the history must extend the
        recorded one). Nothing is written when a rule refuses."""
        deal, have = known.deal, known.events
        steps = plan.steps
        if plan.undated:
            # No time in the file: the deal keeps its recorded history, and is now in the
            # file's stage (a step into it now, when it is elsewhere).
            recorded = [Step(self.stages[t], at) for _f, t, at in have]
            now = max(steps[0].at, recorded[-1].at)
            moved = plan.stage_stated and steps[-1].stage.pk != recorded[-1].stage.pk
            steps = recorded + ([Step(steps[-1].stage, now, steps[-1].by)] if moved else [])
        steps = _settled(steps, have)
        planned = events_of(steps)
        if planned[: len(have)] != have:
            self._fail(
                plan.row, "external_id", plan.external_id or plan.fields["name"], HISTORY_DIFFERS
            )
            return []
        kinds = [self.stage_kinds[s.stage.pk] for s in steps]
        problem = rules.chain_problem(kinds, [s.at for s in steps])
        if problem is None and known.has_payments and rules.leaves_won(kinds, len(have)):
            problem = rules.PAYMENTS_KEEP_WON
        if problem is not None:
            self._fail(plan.row, "stage", steps[-1].stage.key, problem)
            return []
        end = self.stages.get(steps[-1].stage.pk, steps[-1].stage)
        problem = rules.archived_end(end, entered=len(planned) > len(have))
        if problem is not None:
            self._fail(plan.row, "stage", plan.given.get("stage") or _stage_words(end), problem)
            return []
        values = deal_values(plan.fields)
        values.pop("owner_team")
        if "custom" in plan.fields:  # the fields the plan names: set, or cleared (None)
            values["custom"] = {**deal.custom, **plan.fields["custom"]}
            values["custom"] = {k: v for k, v in values["custom"].items() if v is not None}
        else:
            values.pop("custom")
        for name in ("updated_at", "last_activity_at"):
            given, recorded = values[name], getattr(deal, name)
            if given is not None and recorded is not None and _same_time(given, recorded):
                values[name] = recorded
        state = rules.state_after(steps[-1].stage, steps[-1].at)
        values.update(
            stage_id=state["stage"].pk,
            stage_entered_at=state["stage_entered_at"],
            status=state["status"],
            closed_at=state["closed_at"],
            created_at=steps[0].at,
        )
        if state["status"] != "lost":
            values.update(lost_reason_id=None, lost_note="")
        values["updated_at"] = max(values["updated_at"] or steps[0].at, steps[0].at)
        if plan.undated:
            values["updated_at"] = max(values["updated_at"], deal.updated_at)
        if plan.external_id and deal.external_id is None:
            values["external_id"] = plan.external_id
        else:
            values.pop("external_id")
        changed = {k: v for k, v in values.items() if getattr(deal, k) != v}
        if changed and self.check:
            for k, v in changed.items():
                setattr(deal, k, v)
        elif changed:
            Deal.objects.filter(pk=deal.pk).update(**changed, version=deal.version + 1)
        if changed:
            self.counts.updated += 1
        else:
            self.counts.unchanged += 1
        if self.check:
            self._remember(plan, deal, planned, known.has_payments)
        new_events = [
            (deal.pk, f, t, at, step.by.pk if step.by else None)
            for (f, t, at), step in zip(planned[len(have) :], steps[len(have) :], strict=True)
        ]
        self.counts.events_added += len(new_events)
        return new_events

    # -- contacts ---------------------------------------------------------------------------

    def set_contacts(self, links: list[tuple[int, str, int]]) -> int:
        """Make contacts the primary contacts of deals this load wrote: ``links`` are (row,
        the deal's external id, contact id). A deal out of the scope is refused without a
        word about it, and a deal's primary contact belongs to its account (as
        ``services.create_deal`` requires). How many deals now have the contact linked
        (changed or already so); failures by row."""
        if not links:
            return 0
        wanted = sorted({external for _row, external, _contact in links})
        deals: dict[str, Deal] = {}
        for start in range(0, len(wanted), 1000):
            for deal in Deal.objects.filter(external_id__in=wanted[start : start + 1000]).only(
                "id", "external_id", "owner_id", "team_id", "account_id", "contact_id"
            ):
                deals[deal.external_id] = deal
        ids = sorted({contact for _row, _external, contact in links})
        contacts: dict[int, tuple[int, str]] = {}
        for start in range(0, len(ids), 1000):
            for pk, account_id, name in Contact.objects.filter(
                pk__in=ids[start : start + 1000]
            ).values_list("id", "account_id", "name"):
                contacts[pk] = (account_id, name)
        linked, changes = 0, []
        for row, external, contact_id in links:
            deal = deals.get(external)
            if deal is None or not self.scope.can_act(deal):
                self._fail(row, "external_id", external, NOT_YOURS)
                continue
            account_id, name = contacts.get(contact_id, (None, ""))
            if account_id is None or account_id != deal.account_id:
                self._fail(row, "contact", name, CONTACT_NOT_OF_ACCOUNT)
                continue
            linked += 1
            if deal.contact_id != contact_id:
                changes.append((contact_id, deal.pk))
        if changes and not self.check:
            with self.db.cursor() as cursor:
                cursor.executemany(
                    "UPDATE deals_deal SET contact_id = %s, version = version + 1 WHERE id = %s",
                    changes,
                )
        return linked

    def _scope_mask(self, deals: pl.DataFrame) -> pl.Series:
        """Which new deals the scope allows: its owner may be given the deal, and the deal
        is in the owner's team (``Scope.can_own``, ``Scope.can_place``, column-wise)."""
        if self.scope.everything:
            return pl.Series([True] * deals.height)
        return deals.select(
            (
                (pl.col("owner_id") == (self.scope.user_id or -1))
                | pl.col("owner_team").is_in(sorted(self.scope.team_ids))
            )
            & (pl.col("team_id").is_null() | (pl.col("team_id") == pl.col("owner_team")))
        ).to_series()

    def _archived_failures(
        self, deals: pl.DataFrame, kinds: pl.DataFrame, rows: list[int], failed: set[int]
    ) -> set[int]:
        """New deals the rules refuse for what is archived: a new deal in an archived
        pipeline, or a history leaving the deal in an archived stage (its past may pass
        through one). Their positions; each one a failure (unless already ``failed``)."""
        out: set[int] = set()
        closed = {pk for pk, p in self.pipelines.items() if rules.new_deal_problem(p)}
        if closed:
            for i, pipeline_id in enumerate(deals.get_column("pipeline_id").to_list()):
                if pipeline_id in closed and i not in failed:
                    pipeline = self.pipelines[pipeline_id]
                    self._fail(rows[i], "pipeline", pipeline.key, rules.new_deal_problem(pipeline))
                    out.add(i)
        archived = {
            pk
            for pk, stage in self.stages.items()
            if rules.archived_end(stage, entered=True) is not None
        }
        if archived:
            ends = kinds.group_by("deal", maintain_order=True).agg(pl.col("stage_id").last())
            for i, stage_id in ends.filter(
                pl.col("deal").is_in(rules.archived_ends(kinds, archived).implode())
            ).iter_rows():
                if i not in failed and i not in out:
                    stage = self.stages[stage_id]
                    problem = rules.archived_end(stage, entered=True)
                    self._fail(rows[i], "stage", _stage_words(stage), problem)
                    out.add(i)
        return out

    def insert_new(
        self, deals: pl.DataFrame, events: pl.DataFrame, known_events: list[tuple] | None = None
    ) -> None:
        """Insert new deals and their histories, and ``known_events`` of known deals.

        ``deals``: row, then ``NEW_COLUMNS`` (team_id null: the owner's), and optionally
        ``bulk_rows.CUSTOM_COLUMN`` (JSON text; missing or null: none); ``events``:
        ``EVENT_COLUMNS``, where pos is the deal's position in ``deals``, in history order.
        Each history is checked by the rules, which also give each deal's stage, status and
        times; a deal the scope does not allow, or with an illegal history, is a failure."""
        if CUSTOM_COLUMN not in deals.columns:
            deals = deals.with_columns(pl.lit(None, dtype=pl.String).alias(CUSTOM_COLUMN))
        kinds = events.with_columns(
            deal=pl.col("pos"),
            kind=pl.col("stage_id").replace_strict(self.stage_kinds, return_dtype=pl.String),
        )
        bad = set(rules.chain_errors(kinds).to_list())
        allowed = self._scope_mask(deals)
        refused = [i for i, ok in enumerate(allowed.to_list()) if not ok]
        rows = deals.get_column("row").to_list()
        for i in refused:
            self._fail(rows[i], "owner", deals["owner_id"][i], OWNER_NOT_YOURS)
        for i in sorted(bad - set(refused)):
            self._fail(rows[i], "stage", "", _("This history is not a legal one."))
        bad.update(refused)
        bad.update(self._archived_failures(deals, kinds, rows, bad))
        if bad:
            keep = [i for i in range(deals.height) if i not in bad]
            renumber = {old: new for new, old in enumerate(keep)}
            deals = deals[keep]
            kinds = kinds.filter(pl.col("pos").is_in(keep)).with_columns(
                deal=pl.col("pos").replace_strict(renumber, return_dtype=pl.Int64)
            )
        states = rules.final_states(kinds).sort("deal")
        team = deals.get_column("team_id").fill_null(deals.get_column("owner_team"))
        created = states.get_column("created_at")
        updated = deals.get_column("updated_at").fill_null(created)
        frame = deals.with_columns(
            team_id=team,
            stage_id=states.get_column("stage_id"),
            stage_entered_at=states.get_column("stage_entered_at"),
            status=states.get_column("status"),
            created_at=created,
            closed_at=states.get_column("closed_at"),
            updated_at=pl.select(pl.max_horizontal(updated, created)).to_series(),
        )
        if self.check:  # counted, never written
            self.counts.created += frame.height
            self.counts.events_added += kinds.height + len(known_events or [])
            self.created_ids.add(frame.get_column("external_id").drop_nulls().to_list())
            return
        db = self.db
        deal_rows, external_ids = deal_rows_of(frame, db)
        chain_rows = chain_rows_of(kinds, db)
        when = datetime_adapter(db)
        known_rows = [(d, f, t, when(at), b) for d, f, t, at, b in known_events or []]
        self.counts.created += len(deal_rows)
        self.counts.events_added += len(chain_rows)
        ids = None  # PostgreSQL: reserved from the sequence by the thread that writes
        if self.next_deal_id is not None:  # SQLite: ids counted from the start
            ids = list(range(self.next_deal_id, self.next_deal_id + len(deal_rows)))
            self.next_deal_id += len(deal_rows)
        self.created_ids.add(external_ids)
        if not (deal_rows or known_rows):
            return
        if self.writer is not None:
            self.writer.submit(
                lambda db: bulk_rows.write_rows(db, ids, deal_rows, chain_rows, known_rows)
            )
        else:
            bulk_rows.write_rows(db, ids, deal_rows, chain_rows, known_rows)


def _to_second(at: dt.datetime) -> dt.datetime:
    return at.replace(microsecond=0)


def _same_time(given: dt.datetime, recorded: dt.datetime) -> bool:
    """Whether a plan's time names a recorded one: the same, or, given to the whole second
    (an XLSX file's date-times, many CRMs' exports), within that second."""
    return given == recorded or (given.microsecond == 0 and given == _to_second(recorded))


def _settled(steps: list[Step], have: list[tuple[int | None, int, dt.datetime]]) -> list[Step]:
    """The plan's history with the recorded times where its steps name recorded events to
    the second (``_same_time``): the deal keeps its times, and its history compares equal."""
    settled, previous = [], None
    for i, step in enumerate(steps):
        if i < len(have):
            from_stage, to_stage, at = have[i]
            if (from_stage, to_stage) == (previous, step.stage.pk) and _same_time(step.at, at):
                step = Step(step.stage, at, step.by)
        settled.append(step)
        previous = step.stage.pk
    return settled


def _stage_words(stage: Stage) -> str:
    """A stage as a message's value: its names (both when they differ)."""
    if stage.name_zh == stage.name_en:
        return stage.name_zh
    return f"{stage.name_zh} / {stage.name_en}"


def _virtual_fields(plan: PlannedDeal) -> dict[str, Any]:
    """check: the fields of the deal a new plan would create, as a Deal takes them."""
    values = deal_values(plan.fields)
    values.pop("owner_team")
    state = rules.state_after(plan.steps[-1].stage, plan.steps[-1].at)
    values.update(
        stage_id=state["stage"].pk,
        stage_entered_at=state["stage_entered_at"],
        status=state["status"],
        closed_at=state["closed_at"],
        created_at=plan.steps[0].at,
        version=1,
    )
    values["updated_at"] = max(values["updated_at"] or values["created_at"], values["created_at"])
    return values
