"""The parts of the messages the report engine computes (the period's funnel against
the plan, the weekly diagnosis) read committed data from the report loader: these tests
commit (TransactionTestCase)."""

import datetime as dt
from decimal import Decimal

from django.test import TransactionTestCase
from django.utils import timezone

from loudou.core.testing import ago, make_user
from loudou.deals import services as deals
from loudou.notifications import messages, platforms
from loudou.people.models import Quota, Role, Team, User
from loudou.reports import loader


class ReportMessageTests(TransactionTestCase):
    serialized_rollback = True

    def setUp(self):
        loader.clear_cache()
        self.manager = make_user("manager", Role.MANAGER)
        self.north = Team.objects.create(name="North", manager=self.manager)
        User.objects.filter(pk=self.manager.pk).update(team=self.north)
        self.rep = make_user("rep", Role.REP, self.north)
        self.admin = make_user("admin", Role.ADMIN)
        south_manager = make_user("south_manager", Role.MANAGER)
        self.south = Team.objects.create(name="South", manager=south_manager)
        self.outsider = make_user("outsider", Role.REP, self.south)

    def tearDown(self):
        loader.clear_cache()

    def test_the_funnel_against_the_team_quota(self):
        start = timezone.localdate().replace(day=1)
        Quota.objects.create(
            team=self.north,
            period_start=start,
            period_end=(start + dt.timedelta(days=32)).replace(day=1),
            amount=Decimal("100000"),
        )
        deal = deals.create_deal(actor=self.rep, name="赢单", amount="25000")
        deals.create_deal(
            actor=self.rep, name="在谈", amount="40000", expected_close_date=timezone.localdate()
        )
        deals.win_deal(actor=self.admin, deal=deal, override_reason="test")
        south = deals.create_deal(actor=self.outsider, name="南区", amount="90000")
        deals.win_deal(actor=self.admin, deal=south, override_reason="test")
        body = platforms.markdown(messages.digest(self.north, "en"))
        self.assertIn("Deals created in the period: 2 (won 1, lost 0, open 1)", body)
        self.assertIn("Won 25,000 of the target 100,000 (25%); 75,000 to go", body)
        self.assertIn("Open deals expected to close in the period: 40,000 (coverage 0.5×)", body)

    def test_the_weekly_diagnosis_in_words(self):
        for i in range(8):
            deals.create_deal(actor=self.rep, name=f"D{i}", amount="1000", at=ago(60))
        message = messages.weekly(self.north, "en")
        self.assertEqual(message.title, "Weekly diagnosis · North")
        findings = next(s for s in message.sections if s.heading == "Findings")
        self.assertEqual(len(findings.lines), 1, findings.lines)
        # The rep by their display name ("Rep"), not their username.
        self.assertIn("Rep has 8 deals nobody has touched for too long", findings.lines[0])
        self.assertIn("findings, the most severe first", message.lead)
        zh = platforms.markdown(messages.weekly(self.north, "zh-hans"))
        self.assertNotEqual(zh, platforms.markdown(message))

    def test_a_team_without_deals_has_a_quiet_week(self):
        message = messages.weekly(self.south, "en")
        self.assertEqual(message.sections, [])
        self.assertIn("nothing in the funnel stands out", message.lead)
