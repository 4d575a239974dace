"""Writes never wait on each other (issue 10): a rep's write on one deal does not wait for
another user's open transaction on another deal, and two writes on the same deal take
their locks in the same order (no deadlock)."""

import threading

import pytest
from django.db import connection, connections, transaction
from django.test import TransactionTestCase

from loudou.activities.services import log_activity
from loudou.core.testing import make_user, ready_to_leave, stage
from loudou.deals import services
from loudou.deals.models import Deal
from loudou.people.models import Role, Team


class ContentionCase(TransactionTestCase):
    serialized_rollback = True

    def setUp(self):
        self.team = Team.objects.create(name="North")
        self.manager = make_user("boss", Role.MANAGER)
        self.team.manager = self.manager
        self.team.save()
        self.rep = make_user("rep", Role.REP, self.team)
        self.teammate = make_user("mate", Role.REP, self.team)

    def run_in_thread(self, target) -> tuple[threading.Thread, list[BaseException]]:
        errors: list[BaseException] = []

        def run():
            try:
                target()
            except BaseException as error:  # reported by the test
                errors.append(error)
            finally:
                connections.close_all()

        thread = threading.Thread(target=run)
        thread.start()
        return thread, errors


class UnrelatedWriteTests(ContentionCase):
    def test_an_unrelated_write_does_not_wait_for_an_open_transaction(self):
        if connection.vendor != "postgresql":
            pytest.skip("SQLite has one writer at a time by design")
        deal_a = services.create_deal(actor=self.rep, name="A", amount="100")
        deal_b = services.create_deal(actor=self.teammate, name="B", amount="100")
        holding, release = threading.Event(), threading.Event()

        def hold_a_write_open():
            with transaction.atomic():
                log_activity(actor=self.rep, deal=deal_a, type="call")
                fresh = Deal.objects.get(pk=deal_a.pk)
                services.update_deal(
                    actor=self.rep,
                    deal=fresh,
                    expected_version=fresh.version,
                    changes={"amount": "200"},
                )
                holding.set()
                release.wait(30)

        thread, errors = self.run_in_thread(hold_a_write_open)
        try:
            assert holding.wait(30)
            # Any lock wait longer than 200 ms fails the statement instead of waiting.
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '200ms'")
            try:
                log_activity(actor=self.teammate, deal=deal_b, type="visit")
                fresh = Deal.objects.get(pk=deal_b.pk)
                services.update_deal(
                    actor=self.teammate,
                    deal=fresh,
                    expected_version=fresh.version,
                    changes={"amount": "300"},
                )
                services.move_deal(actor=self.teammate, deal=deal_b, to_stage=stage("needs"))
                services.create_deal(actor=self.teammate, name="C", amount="1")
            finally:
                with connection.cursor() as cursor:
                    cursor.execute("RESET lock_timeout")
        finally:
            release.set()
            thread.join(30)
        assert not errors, errors
        assert Deal.objects.get(pk=deal_a.pk).amount == 200


class LockOrderTests(ContentionCase):
    def test_moving_and_logging_on_one_deal_at_once_never_deadlock(self):
        deal = ready_to_leave(
            services.create_deal(actor=self.rep, name="D", amount="100"), self.rep
        )
        rounds = 15
        start = threading.Barrier(2)

        def mover():
            start.wait(10)
            for i in range(rounds):
                target = "needs" if i % 2 == 0 else "contact"
                if target == "contact":
                    # going back needs nothing; going forward again needs a new activity,
                    # which the other thread keeps logging
                    services.move_deal(actor=self.rep, deal=deal, to_stage=stage(target))
                else:
                    log_activity(actor=self.rep, deal=deal, type="call")
                    services.move_deal(actor=self.rep, deal=deal, to_stage=stage(target))

        def logger():
            start.wait(10)
            for _ in range(rounds):
                log_activity(actor=self.manager, deal=deal, type="email")

        threads = [self.run_in_thread(mover), self.run_in_thread(logger)]
        for thread, _errors in threads:
            thread.join(120)
        errors = [e for _thread, errs in threads for e in errs]
        assert not errors, errors
        assert deal.activities.filter(type="email").count() == rounds
