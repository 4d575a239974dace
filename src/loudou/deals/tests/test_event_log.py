"""The stage-change log: creation event, monotonic times, append-only in ORM and database."""

from django.db import connection

from loudou.core.errors import InvalidInput
from loudou.core.testing import LoudouTestCase, ago
from loudou.deals import services
from loudou.deals.models import StageEvent


class EventLogTests(LoudouTestCase):
    def test_creation_event(self):
        deal = self.make_deal(at=ago(2))
        [event] = StageEvent.objects.filter(deal=deal)
        self.assertIsNone(event.from_stage)
        self.assertEqual(event.to_stage.key, "contact")
        self.assertEqual(event.at, deal.created_at)
        self.assertEqual(event.by, self.rep)
        self.assertFalse(event.is_override or event.imported)

    def test_times_are_monotonic(self):
        deal = self.make_deal(stage=self.stages["proposal"], at=ago(5))
        services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["needs"], at=ago(3))
        with self.assertRaises(InvalidInput):
            services.move_deal(
                actor=self.rep, deal=deal, to_stage=self.stages["contact"], at=ago(4)
            )
        with self.assertRaises(InvalidInput):
            services.lose_deal(actor=self.rep, deal=deal, reason=self.price, at=ago(4))
        times = list(StageEvent.objects.filter(deal=deal).values_list("at", flat=True))
        self.assertEqual(times, sorted(times))
        self.assertEqual(len(times), 2)

    def test_future_and_naive_times_are_refused(self):
        import datetime as dt

        with self.assertRaises(InvalidInput):
            self.make_deal(at=ago(-1))
        with self.assertRaises(InvalidInput):
            self.make_deal(at=dt.datetime(2024, 1, 1, 12, 0))

    def test_orm_refuses_edits_and_deletes(self):
        deal = self.make_deal()
        event = StageEvent.objects.get(deal=deal)
        event.note = "edited"
        with self.assertRaises(TypeError):
            event.save()
        with self.assertRaises(TypeError):
            event.delete()
        with self.assertRaises(TypeError):
            StageEvent.objects.filter(deal=deal).update(note="x")
        with self.assertRaises(TypeError):
            StageEvent.objects.filter(deal=deal).delete()

    def test_database_refuses_updates(self):
        deal = self.make_deal()
        table = StageEvent._meta.db_table
        # Both databases' triggers report an integrity error (see core/db.py).
        with self.assertDatabaseRefuses(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET note = 'x' WHERE deal_id = %s", [deal.pk])
        self.assertEqual(StageEvent.objects.get(deal=deal).note, "")

    def test_deleting_a_deal_removes_its_events(self):
        deal = self.make_deal()
        pk = deal.pk
        deal.delete()
        self.assertFalse(StageEvent.objects.filter(deal_id=pk).exists())

    def test_database_constraints_hold(self):
        deal = self.make_deal()
        from loudou.deals.models import Deal

        for values in ({"status": "won"}, {"amount": -1}, {"lost_reason": self.price}):
            with self.subTest(values=values), self.assertDatabaseRefuses():
                Deal.objects.filter(pk=deal.pk).update(**values)
