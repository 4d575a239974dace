"""The demo organisation's content: deterministic, and rich enough to show every report."""

import datetime as dt
from collections import Counter

from django.db import transaction
from django.test import TestCase

from loudou.core.demo import WEAK_REP, seed_demo
from loudou.deals.models import Deal, Payment, StageEvent
from loudou.people.models import Quota, Team, User

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)


def fingerprint() -> list[tuple]:
    return list(
        StageEvent.objects.order_by("id").values_list(
            "deal__name", "from_stage__key", "to_stage__key", "at"
        )
    )


class DemoSeedTests(TestCase):
    def test_content(self):
        summary = seed_demo(deals=300, now=NOW)
        self.assertTrue(summary.created)
        self.assertEqual(Team.objects.count(), 2)
        self.assertEqual(User.objects.filter(role="rep").count(), 8)
        self.assertEqual(Deal.objects.count(), 300)
        events = list(StageEvent.objects.select_related("from_stage", "to_stage"))
        lost_from = Counter(e.from_stage.key for e in events if e.to_stage.key == "lost")
        self.assertEqual(set(lost_from), {"contact", "needs", "proposal", "negotiation"})
        reopened = [e for e in events if e.from_stage and e.from_stage.kind != "open"]
        backward = [
            e
            for e in events
            if e.from_stage
            and e.from_stage.kind == e.to_stage.kind == "open"
            and e.to_stage.position < e.from_stage.position
        ]
        skipped = [
            e
            for e in events
            if e.from_stage
            and e.from_stage.kind == e.to_stage.kind == "open"
            and e.to_stage.position - e.from_stage.position > 10
        ]
        self.assertTrue(reopened and backward and skipped)
        self.assertTrue(any(e.override_reason for e in events))
        self.assertTrue(Deal.objects.filter(status="open").exists())
        self.assertTrue(Payment.objects.exists())
        self.assertTrue(Quota.objects.exists())
        oldest = Deal.objects.order_by("created_at").first().created_at
        self.assertGreater((NOW - oldest).days, 400)

    def test_weak_rep_converts_worse_at_proposal(self):
        seed_demo(deals=600, now=NOW)
        rates = {}
        for rep in User.objects.filter(role="rep"):
            deals = StageEvent.objects.filter(deal__owner=rep)
            reached = set(deals.filter(to_stage__key="proposal").values_list("deal", flat=True))
            advanced = set(
                deals.filter(deal__in=reached, to_stage__key__in=["negotiation"]).values_list(
                    "deal", flat=True
                )
            )
            rates[rep.username] = len(advanced) / len(reached)
        others = [r for name, r in rates.items() if name != WEAK_REP]
        self.assertLess(rates[WEAK_REP], min(others))

    def test_deterministic_and_reused(self):
        runs = []
        for _ in range(2):
            with transaction.atomic():
                self.assertTrue(seed_demo(deals=60, now=NOW).created)
                runs.append(fingerprint())
                self.assertFalse(seed_demo(deals=60, now=NOW).created)
                self.assertEqual(fingerprint(), runs[-1])
                transaction.set_rollback(True)
        self.assertEqual(runs[0], runs[1])
