"""The target plan takes the period's quotas when no target is typed (found in a walk: the
plan page was a 400 asking for a target while the team's quotas were set, and the
diagnosis beside it already used them)."""

import datetime as dt
from decimal import Decimal

from django.test import TransactionTestCase
from django.utils import timezone

from loudou.core.testing import make_user
from loudou.deals import services
from loudou.people.models import Quota, Role, Team
from loudou.reports import loader


class PlanFromQuotasTests(TransactionTestCase):
    serialized_rollback = True

    def setUp(self):
        loader.clear_cache()
        self.addCleanup(loader.clear_cache)
        self.manager = make_user("boss", role=Role.MANAGER)
        self.team = Team.objects.create(name="East", manager=self.manager)
        rep = make_user("rep", team=self.team)
        services.create_deal(actor=rep, name="d", amount="1000")
        today = timezone.localdate()
        self.start = today.replace(day=1)
        self.end = (self.start + dt.timedelta(days=32)).replace(day=1)
        Quota.objects.create(
            team=self.team, period_start=self.start, period_end=self.end, amount=Decimal("48000")
        )
        self.client.force_login(self.manager)

    def get(self, **extra):
        query = {"name": "plan", "from": self.start.isoformat(), "to": self.end.isoformat()}
        return self.client.get("/reports/", {**query, **extra}, headers={"accept-language": "en"})

    def test_the_plan_uses_the_team_quota(self):
        page = self.get()
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "Target from The period&#x27;s quotas")
        self.assertContains(page, "48,000.00")

    def test_a_typed_target_wins(self):
        page = self.get(target="1200")
        self.assertContains(page, "Target from The target entered")
        self.assertContains(page, "1,200.00")

    def test_no_quota_no_target_says_both(self):
        Quota.objects.all().delete()
        page = self.get()
        self.assertContains(page, "or set quotas for it", status_code=400)
