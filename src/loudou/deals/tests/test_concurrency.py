"""Two people saving the same deal at the same moment: exactly one wins, none is lost."""

import threading

from django.db import connection
from django.test import TransactionTestCase

from loudou.core.errors import Conflict
from loudou.deals import services
from loudou.deals.models import Deal
from loudou.people.models import Role, Team, User


class ConcurrentUpdateTests(TransactionTestCase):
    # Restore the migrations' data (default pipeline, lost reasons) after the flush.
    serialized_rollback = True

    def test_simultaneous_updates_with_the_same_version(self):
        manager = User.objects.create_user(username="m", password="x", role=Role.MANAGER)
        team = Team.objects.create(name="T", manager=manager)
        rep = User.objects.create_user(username="r", password="x", team=team)
        deal = services.create_deal(actor=rep, name="d")
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def save(actor: User, name: str) -> None:
            try:
                copy = Deal.objects.get(pk=deal.pk)
                barrier.wait(timeout=10)
                services.update_deal(
                    actor=actor, deal=copy, expected_version=1, changes={"name": name}
                )
                outcomes.append(name)
            except Conflict:
                outcomes.append("conflict")
            finally:
                connection.close()

        threads = [
            threading.Thread(target=save, args=(rep, "rep's")),
            threading.Thread(target=save, args=(manager, "manager's")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        self.assertEqual(sorted(outcomes).count("conflict"), 1, outcomes)
        winner = next(o for o in outcomes if o != "conflict")
        deal.refresh_from_db()
        self.assertEqual((deal.name, deal.version), (winner, 2))
