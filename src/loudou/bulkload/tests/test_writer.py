"""Multi-row inserts (``insert_many``) and the writer thread (``BackgroundWriter``)."""

import threading
from unittest import mock

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.test import TestCase

from loudou.accounts.models import Account
from loudou.bulkload import sql as db
from loudou.bulkload.sql import insert_many
from loudou.bulkload.writer import BackgroundWriter


def _accounts(names: list[str]) -> list[tuple[str, str, str]]:
    return [(name, "", f"https://{name}.example") for name in names]


def _insert(wrapper, names: list[str]) -> None:
    with wrapper.cursor() as cursor:
        insert_many(
            cursor,
            "accounts_account",
            ["name", "industry", "website"],
            _accounts(names),
            literals={"created_at": "CURRENT_TIMESTAMP"},
        )


class InsertManyTests(TestCase):
    def statements(self, names: list[str], **limits: int) -> list[int]:
        """Insert accounts named ``names``; the rows of each statement."""
        sizes = []

        def spy(cursor, sql, params):
            sizes.append(len(params) // 3)
            return execute(cursor, sql, params)

        execute = db._execute
        with (
            mock.patch.object(db, "_execute", spy),
            mock.patch.multiple(db, **({"INSERT_ROWS": db.INSERT_ROWS} | limits)),
        ):
            _insert(connection, names)
        return sizes

    def test_rows_in_order_many_per_statement(self):
        names = [f"a{i:04d}" for i in range(1203)]
        # Powers of two only: a few statement texts for the drivers to cache.
        self.assertEqual(
            self.statements(names, INSERT_ROWS=500), [256, 256, 256, 256, 128, 32, 16, 2, 1]
        )
        saved = list(Account.objects.order_by("id").values_list("name", "website", "created_at"))
        self.assertEqual([n for n, _, _ in saved], names)  # ids follow the rows' order
        self.assertEqual(saved[7][1], "https://a0007.example")
        self.assertTrue(all(at is not None for _, _, at in saved))  # the literal column

    def test_parameters_per_statement_are_capped(self):
        # 3 columns and 10 parameters at most: 3 rows, and then 2 (a power of two).
        self.assertEqual(
            self.statements([f"b{i}" for i in range(7)], INSERT_PARAMS=10), [2, 2, 2, 1]
        )
        self.assertEqual(Account.objects.filter(name__startswith="b").count(), 7)

    def test_database_errors_are_djangos(self):
        with self.assertRaises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            insert_many(cursor, "people_team", ["name"], [("North",), ("North",)])

    def test_nothing_to_insert(self):
        self.assertEqual(self.statements([]), [])


class BackgroundWriterTests(TestCase):
    def setUp(self):
        self.wrapper = connections[DEFAULT_DB_ALIAS]

    def test_jobs_run_in_order_in_another_thread_inside_the_callers_transaction(self):
        threads = []

        def job(names: list[str]):
            def run(wrapper):
                threads.append(threading.get_ident())
                _insert(wrapper, names)

            return run

        with transaction.atomic():
            with BackgroundWriter(self.wrapper) as writer:
                for part in (["c1", "c2"], ["c3"], ["c4", "c5"]):
                    writer.submit(job(part))
                writer.drain()
                # Seen by this thread before the commit: the same connection and transaction.
                names = list(Account.objects.order_by("id").values_list("name", flat=True))
                self.assertEqual(names, ["c1", "c2", "c3", "c4", "c5"])
            transaction.set_rollback(True)
        self.assertFalse(Account.objects.exists())  # rolled back with the caller's transaction
        self.assertEqual(len(threads), 3)
        self.assertNotIn(threading.get_ident(), threads)

    def test_the_callers_statements_wait_for_queued_jobs(self):
        # No drain() before the query: the writer hands the connection over by itself.
        started, release = threading.Event(), threading.Event()

        def slow(wrapper):
            started.set()
            release.wait(timeout=10)
            _insert(wrapper, ["w1"])

        with transaction.atomic():
            with BackgroundWriter(self.wrapper) as writer:
                writer.submit(slow)
                started.wait(timeout=10)
                threading.Timer(0.3, release.set).start()
                self.assertTrue(Account.objects.filter(name="w1").exists())
            transaction.set_rollback(True)

    def test_a_jobs_error_is_raised_by_the_callers_next_statement(self):
        def fail(wrapper):
            raise ValueError("bad row")

        with BackgroundWriter(self.wrapper) as writer:
            writer.submit(fail)
            with self.assertRaisesMessage(ValueError, "bad row"):
                Account.objects.count()
            writer.error = None  # handled here: the block ends quietly

    def test_a_jobs_error_is_raised_in_the_callers_thread_and_later_jobs_skipped(self):
        ran = []

        def fail(wrapper):
            raise ValueError("bad row")

        with (
            self.assertRaisesMessage(ValueError, "bad row"),
            BackgroundWriter(self.wrapper) as writer,
        ):
            writer.submit(fail)
            writer.submit(lambda wrapper: ran.append("after"))
            writer.drain()
        self.assertEqual(ran, [])
        # At the end of the block too, when nobody drained.
        with (
            self.assertRaisesMessage(ValueError, "bad row"),
            BackgroundWriter(self.wrapper) as writer,
        ):
            writer.submit(fail)

    def test_the_callers_error_cancels_queued_jobs(self):
        ran, started, release = [], threading.Event(), threading.Event()

        def slow(wrapper):
            started.set()
            release.wait(timeout=10)
            ran.append("slow")

        with (
            self.assertRaisesMessage(RuntimeError, "caller failed"),
            BackgroundWriter(self.wrapper) as writer,
        ):
            writer.submit(slow)
            started.wait(timeout=10)
            writer.submit(lambda wrapper: ran.append("queued"))
            # Let the running job finish only once the block is being left.
            threading.Timer(0.5, release.set).start()
            raise RuntimeError("caller failed")
        self.assertEqual(ran, ["slow"])
