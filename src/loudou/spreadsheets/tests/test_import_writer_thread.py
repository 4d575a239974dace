"""The fast path inserts in a second thread while it prepares the next batch: in file
order, in the import's one transaction, and an insert that fails there undoes it all."""

import threading
from unittest import mock

from django.db import IntegrityError

from loudou.accounts.models import Account
from loudou.deals import bulk_rows
from loudou.deals.models import Deal, StageEvent
from loudou.people.models import User
from loudou.spreadsheets import services

from .base import SheetTestCase
from .test_import_fast_path import _file


class WriterThreadTests(SheetTestCase):
    def test_batches_are_written_in_order_by_the_writer_thread(self):
        calls = []
        original = bulk_rows.write_rows

        def spy(db, ids, deals, *rest):
            calls.append((threading.get_ident(), len(deals), ids))
            return original(db, ids, deals, *rest)

        with (
            mock.patch.object(bulk_rows, "write_rows", spy),
            mock.patch.object(services, "FAST_BATCH", 40),
        ):
            summary = self.run_import(self.csv(_file(4, 200)), create_owners=True)
        threaded = [c for c in calls if c[0] != threading.get_ident()]
        self.assertGreaterEqual(len(threaded), 4)  # the fast path's batches, not the rest
        self.assertEqual(Deal.objects.count(), summary.created)
        self.assertEqual(StageEvent.objects.count(), summary.events_added)
        if threaded[0][2] is not None:  # SQLite: ids counted in file order, no gaps
            ids = [i for c in threaded for i in c[2]]
            self.assertEqual(ids, sorted(ids))
        # Each deal's events are in time order, their ids increasing with it.
        for deal in Deal.objects.all()[:50]:
            times = list(deal.events.order_by("id").values_list("at", flat=True))
            self.assertEqual(times, sorted(times))

    def test_an_insert_failing_in_the_writer_thread_undoes_the_whole_import(self):
        original, seen = bulk_rows.write_rows, []
        before = (Deal.objects.count(), Account.objects.count(), User.objects.count())

        def failing(db, ids, deals, *rest):
            seen.append(threading.get_ident())
            if len(seen) == 3:
                raise IntegrityError("disk says no")
            return original(db, ids, deals, *rest)

        with (
            mock.patch.object(bulk_rows, "write_rows", failing),
            mock.patch.object(services, "FAST_BATCH", 40),
            self.assertRaisesMessage(IntegrityError, "disk says no"),
        ):
            self.run_import(self.csv(_file(5, 300)), create_owners=True)
        self.assertNotEqual(seen[2], threading.get_ident())
        self.assertFalse(StageEvent.objects.exists())
        # Nor the accounts and owners it created on the way.
        after = (Deal.objects.count(), Account.objects.count(), User.objects.count())
        self.assertEqual(after, before)
