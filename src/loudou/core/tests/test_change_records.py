"""Change records: every write to a table reports read is recorded by the database, by
whatever path; bulk loads record one whole-table change; readers' markers see every
committed change, in whatever order transactions commit (issue 10: no hot row)."""

import importlib
import threading
from pathlib import Path

import pytest
from django.db import connection, connections, transaction
from django.test import TransactionTestCase
from django.utils import timezone

from loudou.activities.services import log_activity
from loudou.core import db
from loudou.core.models import Change
from loudou.core.testing import make_user
from loudou.deals import services
from loudou.people.models import Role, Team

MIGRATION = importlib.import_module("loudou.core.migrations.0003_change_records")


def changes() -> list[tuple[str, int | None]]:
    return list(Change.objects.order_by("id").values_list("tbl", "deal_id"))


class ChangeRecordTests(TransactionTestCase):
    serialized_rollback = True

    def setUp(self):
        self.team = Team.objects.create(name="North")
        self.rep = make_user("rep", Role.REP, self.team)
        Change.objects.all().delete()

    def test_the_migration_and_core_db_name_the_same_tables(self):
        assert tuple(MIGRATION.TRACKED) == db.TRACKED_TABLES
        assert db.change_triggers_missing(connection) == []

    def test_service_writes_are_recorded_with_their_deal(self):
        deal = services.create_deal(actor=self.rep, name="d")
        log_activity(actor=self.rep, deal=deal, type="call")
        recorded = set(changes())
        assert ("deals_deal", deal.pk) in recorded
        assert ("deals_stageevent", deal.pk) in recorded
        assert ("activities_activity", deal.pk) in recorded

    def test_raw_sql_and_small_tables_too_but_not_a_login(self):
        deal = services.create_deal(actor=self.rep, name="d")
        Change.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute("UPDATE deals_deal SET amount = 5 WHERE id = %s", [deal.pk])
            cursor.execute("UPDATE people_team SET name = 'South'")
        self.rep.last_login = timezone.now()
        self.rep.save(update_fields=["last_login"])
        assert changes() == [("deals_deal", deal.pk), ("people_team", None)]

    def test_moving_a_row_to_another_deal_records_both(self):
        one = services.create_deal(actor=self.rep, name="one")
        two = services.create_deal(actor=self.rep, name="two")
        activity = log_activity(actor=self.rep, deal=one, type="call")
        Change.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE activities_activity SET deal_id = %s WHERE id = %s", [two.pk, activity.pk]
            )
        assert sorted(changes()) == [
            ("activities_activity", one.pk),
            ("activities_activity", two.pk),
        ]

    def test_a_bulk_load_records_one_whole_change_and_tracking_resumes(self):
        with transaction.atomic():
            with db.bulk_write(connection):
                services.create_deal(actor=self.rep, name="bulk")
            assert changes() == [("*", None)]
            later = services.create_deal(actor=self.rep, name="after")
        assert ("deals_deal", later.pk) in changes()
        assert db.change_triggers_missing(connection) == []

    def test_a_failed_bulk_load_keeps_the_triggers(self):
        with pytest.raises(RuntimeError), transaction.atomic(), db.bulk_write(connection):
            raise RuntimeError("boom")
        assert db.change_triggers_missing(connection) == []
        deal = services.create_deal(actor=self.rep, name="d")
        assert ("deals_deal", deal.pk) in changes()

    def test_markers(self):
        marker = db.change_marker(connection)
        assert not db.changed_since(connection, marker)
        services.create_deal(actor=self.rep, name="d")
        assert db.changed_since(connection, marker)
        assert not db.changed_since(connection, db.change_marker(connection))

    def test_pruning_keeps_the_newest(self):
        services.create_deal(actor=self.rep, name="d")
        services.create_deal(actor=self.rep, name="e")
        newest = Change.objects.order_by("-id").first().pk
        Change.objects.update(at=timezone.now() - timezone.timedelta(days=3))
        with transaction.atomic():
            deleted = db.prune_changes(connection, 24)
        assert deleted >= 1
        assert list(Change.objects.values_list("id", flat=True)) == [newest]
        marker = db.change_marker(connection)
        assert marker.max_id == newest


class OutOfOrderCommitTests(TransactionTestCase):
    """PostgreSQL assigns ids when rows are inserted, not when they commit: a transaction
    holding a lower id may commit after a reader saw a higher one."""

    serialized_rollback = True

    def test_a_late_commit_with_a_lower_id_is_seen(self):
        if connection.vendor != "postgresql":
            pytest.skip("SQLite has one writer at a time: ids follow commit order")
        rep = make_user("rep")
        inserted, release, done = threading.Event(), threading.Event(), threading.Event()
        errors: list[BaseException] = []

        def slow_writer():
            try:
                with transaction.atomic():
                    services.create_deal(actor=rep, name="slow")  # lower ids, held open
                    inserted.set()
                    release.wait(20)
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                connections.close_all()
                done.set()

        thread = threading.Thread(target=slow_writer)
        thread.start()
        assert inserted.wait(20)
        services.create_deal(actor=rep, name="fast")  # higher ids, committed first
        marker = db.change_marker(connection)
        assert not db.changed_since(connection, marker)
        release.set()
        assert done.wait(20)
        thread.join()
        assert not errors, errors
        assert db.changed_since(connection, marker)


def test_old_migrations_do_not_import_code_that_changes():
    # Migrations freeze their SQL: none reads it from core/db.py (which changes).
    root = Path(__file__).resolve().parents[2]
    for path in root.glob("*/migrations/0*.py"):
        text = path.read_text()
        assert "loudou.core.db" not in text and "core import db" not in text, path
