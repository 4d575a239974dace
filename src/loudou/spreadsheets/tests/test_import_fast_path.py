"""The vectorised import path (fast.py) gives exactly what the per-row path gives, and
big loads build their indexes at the end."""

import csv
import datetime as dt
import io
import random
from unittest import mock

from django.db import connection, transaction

from loudou.deals import bulk, bulk_rows
from loudou.deals.bulk import DealLoad
from loudou.deals.models import Deal, StageEvent
from loudou.spreadsheets import services
from loudou.spreadsheets.columns import DEAL_EXPORT_COLUMNS
from loudou.spreadsheets.fast import FastPath

from .base import SheetTestCase

# The export's columns but last_activity_at and the category the import never reads, then
# the stage dates.
HEADER = [
    *(
        c
        for c in DEAL_EXPORT_COLUMNS
        if c not in ("last_activity_at", "effective_forecast_category")
    ),
    "entered_needs",
    "entered_proposal",
    "entered_negotiation",
]
STAGES = ["contact", "needs", "proposal", "negotiation"]


def _time(rng: random.Random, moment: dt.datetime, bare: bool = False) -> str:
    """The same moment written the ways files write it; some only the per-row path reads."""
    shanghai = dt.timezone(dt.timedelta(hours=8))
    style = rng.randrange(8)
    if style == 0:
        return moment.astimezone(shanghai).isoformat()
    if style == 1:
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == 2:
        return moment.astimezone(shanghai).strftime("%Y-%m-%d %H:%M:%S")  # naive: Shanghai
    if style == 3:
        return moment.astimezone(shanghai).replace(microsecond=250000).isoformat()
    if style == 4:
        return moment.astimezone(shanghai).strftime("%Y/%m/%d %H:%M")  # per-row path
    if style == 5:
        return moment.astimezone(dt.timezone(dt.timedelta(hours=-5))).isoformat(" ")
    if style == 6 and bare:
        return moment.astimezone(shanghai).strftime("%Y-%m-%d")  # a bare date: per-row path
    return moment.astimezone(shanghai).strftime("%Y-%m-%dT%H:%M:%S")


def _file(seed: int, rows: int) -> str:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    for i in range(rows):
        created = start + dt.timedelta(minutes=rng.randrange(400 * 24 * 60))
        reached = rng.randrange(4)
        at, entered = created, {}
        for key in rng.sample(STAGES[1:], reached):
            at += dt.timedelta(hours=rng.randrange(1, 300))
            entered[key] = at
        status = rng.choice(["open", "open", "won", "lost", "", "赢单", "输单", "进行中"])
        closed = ""
        if status in ("won", "lost", "赢单", "输单"):
            closed = _time(rng, at + dt.timedelta(days=rng.randrange(1, 9)))
        stage = ""
        if entered and status in ("open", "", "进行中") and rng.random() < 0.5:
            stage = max(entered, key=entered.get)
            stage = rng.choice(
                [stage, {"needs": "确认需求", "proposal": "Proposal & quote"}.get(stage, stage)]
            )
        elif not entered and rng.random() < 0.3:
            stage = rng.choice(["contact", "初步接洽", "needs"])
        amount = rng.choice(["", "12", "12.5", "1234.56", "007.10", "¥1,200", "3万", "0"])
        writer.writerow(
            [
                rng.choice([f"E{seed}-{i}", f"E{seed}-{i}", ""]),
                f"Deal {i}",
                rng.choice(["", "华为技术", "Acme", " acme ", f"Account {i % 7}"]),
                rng.choice(["rep", "teammate", "Rep", "manager"]),
                rng.choice(["", "North", "north"]),
                # The pipeline by key or name, categories by code or name (zh-Hans exports).
                rng.choice(["", "default", "DEFAULT", "销售流程", "Sales pipeline"]),
                stage,
                status,
                amount,
                rng.choice(["", "cny", "USD"]),
                _time(rng, created, bare=True),
                rng.choice(["", "2026-03-31", "2026/4/1"]),
                closed,
                rng.choice(["", "price", "价格", "budget gone"])
                if status in ("lost", "输单")
                else "",
                rng.choice(["", "web", " referral "]),
                rng.choice(["", "commit", "Best_Case", "最佳情况", "Best case", "承诺"]),
                rng.choice(["", _time(rng, created + dt.timedelta(days=3))]),
                *[_time(rng, entered[k]) if k in entered else "" for k in STAGES[1:]],
            ]
        )
    return out.getvalue()


class FastPathTests(SheetTestCase):
    def snapshot(self) -> tuple[list, list]:
        # The paths meet rows in another order, so an account written "Acme" and "acme"
        # may be created with either spelling, and get another id: compare lower names.
        columns = [c if c != "account_id" else "account__name" for c in bulk.DEAL_COLUMNS]
        position = columns.index("account__name")
        deals = sorted(
            (
                tuple(v.lower() if i == position and v else v for i, v in enumerate(row))
                for row in Deal.objects.values_list(*columns)
            ),
            key=str,
        )
        events = sorted(
            StageEvent.objects.values_list(
                "deal__name", "from_stage_id", "to_stage_id", "at", "by_id"
            ),
            key=str,
        )
        return deals, events

    def import_both_ways(self, text: str, **kwargs) -> tuple:
        """Import with each path, rolled back in between; the snapshots and summaries."""
        results = []
        for fast in (False, True):
            with mock.patch.object(services, "FAST", fast), transaction.atomic():
                summary = self.run_import(self.csv(text), **kwargs)
                results.append((self.snapshot(), summary.created, summary.events_added))
                transaction.set_rollback(True)
        return results

    def test_both_paths_give_the_same_deals_and_events(self):
        for seed in range(3):
            with self.subTest(seed=seed), mock.patch.object(services, "FAST_BATCH", 37):
                slow, fast = self.import_both_ways(_file(seed, 300), create_owners=True)
                self.assertEqual(slow[1:], fast[1:])
                self.assertGreater(slow[1], 250)
                self.assertEqual(slow[0][0], fast[0][0])
                self.assertEqual(slow[0][1], fast[0][1])

    def test_a_file_read_in_a_child_process_gives_the_same(self):
        text = _file(11, 300)
        with mock.patch.object(services, "FAST_BATCH", 37):
            slow, fast = self.import_both_ways(text, create_owners=True)
            with mock.patch.object(services, "FEED_BYTES", 0), transaction.atomic():
                summary = self.run_import(self.csv(text), create_owners=True)
                fed = (self.snapshot(), summary.created, summary.events_added)
                transaction.set_rollback(True)
        self.assertEqual(slow, fed)
        self.assertEqual(fast, fed)

    def test_errors_are_the_same_when_read_in_a_child_process(self):
        text = (
            "external_id,name,owner,created_at,closed_at,status\n"
            "G1,Good,rep,2024-01-01T00:00:00+08:00,,\n"
            "B1,,rep,2024-01-01T00:00:00+08:00,,\n"
            "B2,Shut,rep,2024-01-05T00:00:00+08:00,2024-01-01T00:00:00+08:00,won\n"
        )
        found = []
        for feed in (1 << 40, 0):
            with mock.patch.object(services, "FEED_BYTES", feed):
                summary = self.failing(self.csv(text))
            found.append([(e.row, e.column, e.value, e.en) for e in summary.errors])
        self.assertEqual(found[0], found[1])
        self.assertEqual([row for row, *_ in found[1]], [3, 4])

    def test_the_fast_path_takes_plain_rows(self):
        fast_rows, slow_rows = [], []
        prepare, apply = FastPath.prepare, DealLoad.apply

        def spy_prepare(path, rows):
            prepared, rest = prepare(path, rows)
            fast_rows.append(prepared.deals.height)
            return prepared, rest

        def spy_apply(load, plans):
            slow_rows.append(len(plans))
            return apply(load, plans)

        with (
            mock.patch.object(FastPath, "prepare", spy_prepare),
            mock.patch.object(DealLoad, "apply", spy_apply),
        ):
            self.run_import(self.csv(_file(5, 200)), create_owners=True)
        self.assertGreater(sum(fast_rows), 20)
        self.assertGreater(sum(slow_rows), 20)

    def test_errors_are_the_same_both_ways(self):
        text = (
            "external_id,name,owner,stage,created_at,entered_needs,closed_at,status\n"
            "G1,Good,rep,needs,2024-01-01T00:00:00+08:00,2024-01-02T00:00:00+08:00,,\n"
            "B1,,rep,,2024-01-01T00:00:00+08:00,,,\n"
            "B2,Early,rep,needs,2024-01-05T00:00:00+08:00,2024-01-02T00:00:00+08:00,,\n"
            "B3,Who,nobody,,2024-01-05T00:00:00+08:00,,,\n"
            "B4,Shut,rep,,2024-01-05T00:00:00+08:00,,2024-01-01T00:00:00+08:00,won\n"
            "B5,Odd,rep,contact,2024-01-05T00:00:00+08:00,2024-01-06T00:00:00+08:00,,\n"
            "B6,Feb,rep,,2024-02-30T00:00:00+08:00,,,\n"
        )
        found = []
        for fast in (False, True):
            with mock.patch.object(services, "FAST", fast):
                summary = self.failing(self.csv(text))
            found.append([(e.row, e.column, e.value, e.en) for e in summary.errors])
        self.assertEqual(found[0], found[1])
        self.assertEqual([row for row, *_ in found[1]], [3, 4, 5, 6, 7, 8])
        self.assertFalse(Deal.objects.exists())

    def test_a_repeated_external_id_extends_the_first(self):
        text = (
            "external_id,name,owner,created_at,entered_needs,entered_proposal\n"
            "R1,Repeat,rep,2024-01-01T00:00:00+08:00,2024-01-02T00:00:00+08:00,\n"
            "R1,Repeat,rep,2024-01-01T00:00:00+08:00,2024-01-02T00:00:00+08:00,"
            "2024-01-05T00:00:00+08:00\n"
        )
        self.run_import(self.csv(text))
        deal = Deal.objects.get()
        self.assertEqual(deal.stage.key, "proposal")
        self.assertEqual(deal.events.count(), 2)


class DeferredIndexTests(SheetTestCase):
    def indexes(self, db=connection) -> set[str]:
        with db.cursor() as cursor:
            return {
                t.name if hasattr(t, "name") else t
                for table in ("deals_deal", "deals_stageevent")
                for t in db.introspection.get_constraints(cursor, table)
            }

    def test_a_big_load_rebuilds_every_index(self):
        before = self.indexes()
        with (
            mock.patch.object(services, "BULK_ROWS", 10),
            mock.patch.object(services, "FAST_BATCH", 25),
        ):
            summary = self.run_import(self.csv(_file(7, 120)), create_owners=True)
        self.assertGreater(summary.created, 50)
        self.assertEqual(self.indexes(), before)

    def test_a_failed_big_load_keeps_every_index(self):
        before = self.indexes()
        text = _file(8, 120) + "X,,rep,,,,,,,,2025-01-01,,,,,,,,,\n"
        with (
            mock.patch.object(services, "BULK_ROWS", 10),
            mock.patch.object(services, "FAST_BATCH", 25),
        ):
            self.failing(self.csv(text), create_owners=True)
        self.assertEqual(self.indexes(), before)
        self.assertFalse(Deal.objects.exists())

    def test_indexes_are_dropped_during_a_big_load_on_sqlite(self):
        seen = []
        original = bulk_rows.write_rows

        def spy(db, *args):  # in the writer thread, on the import's connection
            seen.append(len(self.indexes(db)))
            return original(db, *args)

        with (
            mock.patch.object(services, "BULK_ROWS", 10),
            mock.patch.object(services, "FAST_BATCH", 25),
            mock.patch.object(bulk_rows, "write_rows", spy),
        ):
            self.run_import(self.csv(_file(9, 120)), create_owners=True)
        if connection.vendor == "sqlite":
            self.assertLess(min(seen), max(seen))
        else:
            self.assertEqual(min(seen), max(seen))  # PostgreSQL keeps its indexes
