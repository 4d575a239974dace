"""A dry run (the web preview's check) writes nothing and takes no write lock, yet says
what the import would do: the same counts and the same errors (issue 11)."""

import re
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext

from loudou.accounts.models import Account
from loudou.deals.models import Deal, StageEvent
from loudou.people.models import Team, User
from loudou.spreadsheets import services

from .base import SheetTestCase
from .test_import_fast_path import _file

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|BEGIN|SAVEPOINT)", re.I)


def _counts(summary) -> tuple:
    return (
        summary.created,
        summary.updated,
        summary.unchanged,
        summary.events_added,
        summary.accounts_created,
        summary.owners_created,
        summary.teams_created,
    )


class CheckTests(SheetTestCase):
    def state(self) -> tuple:
        return tuple(m.objects.count() for m in (Deal, StageEvent, Account, User, Team))

    def test_a_dry_run_sends_no_write_and_opens_no_transaction(self):
        before = self.state()
        in_transaction = []
        original = services.DealLoad.apply

        def spy(load, plans):  # transactions opened beyond the test case's own
            in_transaction.append(len(connection.atomic_blocks) - depth)
            return original(load, plans)

        depth = len(connection.atomic_blocks)
        with (
            CaptureQueriesContext(connection) as queries,
            mock.patch.object(services.DealLoad, "apply", spy),
        ):
            summary = self.run_import(self.csv(_file(21, 150)), create_owners=True, dry_run=True)
        self.assertGreater(summary.created, 100)
        self.assertEqual([q["sql"] for q in queries if WRITE.match(q["sql"])], [])
        self.assertEqual(set(in_transaction), {0})
        self.assertEqual(self.state(), before)

    def test_the_check_says_what_the_import_does(self):
        for seed in (22, 23):
            first = _file(seed, 120)
            # A second file: the same deals again (updates), a few new ones.
            second = first + "\n".join(_file(seed + 100, 30).splitlines()[1:]) + "\n"
            for text in (first, second):
                with self.subTest(seed=seed, second=text is second):
                    path = self.csv(text, f"f{seed}.csv")
                    checked = self.run_import(path, create_owners=True, dry_run=True)
                    done = self.run_import(path, create_owners=True)
                    self.assertEqual(_counts(checked), _counts(done))

    def test_the_check_finds_the_errors_the_import_finds(self):
        self.run_import(self.csv("external_id,name,owner,created_at\nK1,Known,rep,2024-01-01\n"))
        text = (
            "external_id,name,owner,created_at,entered_needs\n"
            "K1,Known,rep,2024-01-02,\n"  # rewrites K1's history
            "N1,New,rep,2024-01-01,2024-01-05\n"
            "N1,New,rep,2024-01-01,\n"  # the same deal again, its history cut short
            "O1,Theirs,outsider,2024-01-01,\n"
        )
        errors = []
        for dry_run in (True, False):
            summary = self.failing(self.csv(text, "bad.csv"), dry_run=dry_run, actor=self.manager)
            errors.append([(e.row, e.column, e.en) for e in summary.errors])
        self.assertEqual(errors[0], errors[1])
        self.assertEqual([row for row, *_ in errors[0]], [2, 4, 5])
