"""Loading frames from the database, and the cache never hiding a committed write."""

import datetime as dt
from decimal import Decimal

from django.db import connection
from django.test import TransactionTestCase
from django.utils import timezone

from loudou.activities.services import log_activity
from loudou.deals import services
from loudou.deals.models import LostReason
from loudou.people.models import Role, Team, User
from loudou.pipelines.models import Stage
from loudou.reports import loader
from loudou.reports.services import run_report


class ReportDbCase(TransactionTestCase):
    # Restore the migrations' data (default pipeline, lost reasons) after each flush.
    serialized_rollback = True

    def setUp(self):
        loader.clear_cache()
        self.manager = User.objects.create_user(username="m", password="x", role=Role.MANAGER)
        self.team = Team.objects.create(name="North", manager=self.manager)
        self.rep = User.objects.create_user(username="rep", password="x", team=self.team)
        self.other = User.objects.create_user(username="other", password="x")
        self.stage = {s.key: s for s in Stage.objects.filter(pipeline__is_default=True)}

    def tearDown(self):
        loader.clear_cache()


class LoaderTests(ReportDbCase):
    def test_frames_hold_exact_values(self):
        at = timezone.now() - dt.timedelta(days=3)
        deal = services.create_deal(
            actor=self.rep,
            name="d",
            amount="1234567.89",
            at=at,
            expected_close_date=dt.date(2026, 12, 31),
            source="web",
        )
        log_activity(actor=self.rep, deal=deal, type="call", at=at + dt.timedelta(hours=5))
        services.lose_deal(actor=self.rep, deal=deal, reason=LostReason.objects.first())
        no_amount = services.create_deal(actor=self.rep, name="e", amount=None)
        frames = loader.load_frames()
        data = frames.pipeline(frames.pipeline_id(None))
        rows = {r["id"]: r for r in data.deals.iter_rows(named=True)}
        row = rows[deal.pk]
        assert row["amount_cents"] == 123456789
        assert rows[no_amount.pk]["amount_cents"] is None
        assert row["created_at"] == deal.created_at
        assert row["closed_at"] == deal.closed_at
        assert row["stage_entered_at"] == deal.closed_at
        # latest of stage change, field edit and activity (to the millisecond on SQLite)
        assert abs(row["last_touch"] - deal.closed_at) < dt.timedelta(milliseconds=2)
        assert row["expected_close_date"] == dt.date(2026, 12, 31)
        assert (row["status"], row["source"], row["team_id"]) == ("lost", "web", self.team.pk)
        assert (row["max_stage"], row["cur_idx"]) == (1, None)
        events = data.events.filter(data.events["deal_id"] == deal.pk)
        assert events["to_kind"].to_list() == ["open", "lost"]
        assert events["created"].to_list() == [True, False]
        assert {s.key: s.probability for s in data.stages}["needs"] == Decimal("0.25")
        assert data.owner_names[self.rep.pk] == "rep"

    def test_empty_database(self):
        result = run_report(name="funnel", user=None)
        assert result.totals["deals"] == 0


class CacheTests(ReportDbCase):
    def test_cache_hit_while_nothing_changes(self):
        services.create_deal(actor=self.rep, name="d")
        first = loader.frames_for()
        assert loader.frames_for() is first
        # A login writes last_login: not something reports read, so the cache stays.
        User.objects.filter(pk=self.rep.pk).update(last_login=timezone.now())
        assert loader.frames_for() is first

    def test_report_after_a_service_write_reflects_it(self):
        deal = services.create_deal(actor=self.rep, name="d", amount="100")
        assert run_report(name="snapshot", user=None).totals["count"] == 1
        services.lose_deal(actor=self.rep, deal=deal, reason=LostReason.objects.first())
        assert run_report(name="snapshot", user=None).totals["count"] == 0
        services.reopen_deal(actor=self.rep, deal=deal)
        assert run_report(name="snapshot", user=None).totals["amount"] == Decimal("100.00")
        services.update_deal(
            actor=self.rep, deal=deal, expected_version=deal.version, changes={"amount": "250"}
        )
        assert run_report(name="snapshot", user=None).totals["amount"] == Decimal("250.00")

    def test_raw_sql_writes_are_seen_too(self):
        services.create_deal(actor=self.rep, name="d", amount="100")
        assert run_report(name="snapshot", user=None).totals["amount"] == Decimal("100.00")
        with connection.cursor() as cursor:
            cursor.execute("UPDATE deals_deal SET amount = 300")
        assert run_report(name="snapshot", user=None).totals["amount"] == Decimal("300.00")
        with connection.cursor() as cursor:
            cursor.execute("UPDATE pipelines_stage SET probability = 0.5 WHERE key = 'contact'")
        assert run_report(name="snapshot", user=None).totals["weighted_amount"] == Decimal("150.00")

    def test_activity_changes_staleness(self):
        old = timezone.now() - dt.timedelta(days=30)
        deal = services.create_deal(actor=self.rep, name="d", at=old)
        assert run_report(name="snapshot", user=None).totals["stale"] == 1
        log_activity(actor=self.rep, deal=deal, type="call")
        assert run_report(name="snapshot", user=None).totals["stale"] == 0

    def test_activities_are_loaded_only_for_the_report_that_reads_them(self):
        at = timezone.now() - dt.timedelta(days=3)
        deal = services.create_deal(actor=self.rep, name="d", at=at)
        log_activity(actor=self.rep, deal=deal, type="visit", at=at + dt.timedelta(hours=1))
        services.lose_deal(actor=self.rep, deal=deal, reason=LostReason.objects.first())
        core = loader.frames_for()
        assert core.pipeline(core.pipeline_id(None)).activities.height == 0
        result = run_report(name="activities", user=None)
        assert result.totals == {"stays": 1, "activities": 1}
        lost = [r for r in result.rows if r["outcome"] == "lost" and r["stays"]]
        assert [(r["stage"], r["type"], r["activities"]) for r in lost] == [("contact", "visit", 1)]
        full = loader.frames_for(activities=True)
        assert loader.frames_for() is full  # the entry with activities serves every report

    def test_no_caching_without_the_triggers(self):
        from loudou.core.db import change_trigger_names

        services.create_deal(actor=self.rep, name="d", amount="100")
        with connection.cursor() as cursor:
            for name in change_trigger_names(connection.vendor):
                if connection.vendor == "postgresql":
                    table = name.removesuffix("_truncate").removesuffix("_change")
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                else:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        try:
            loader.clear_cache()
            assert not loader.tracking()
            assert run_report(name="snapshot", user=None).totals["count"] == 1
            services.create_deal(actor=self.rep, name="e", amount="100")
            assert run_report(name="snapshot", user=None).totals["count"] == 2
        finally:
            from django.core.management import call_command

            call_command("migrate", "core", "0002", verbosity=0)
            call_command("migrate", verbosity=0)
            loader.clear_cache()
        assert loader.tracking()


class VisibilityTests(ReportDbCase):
    def test_each_user_counts_what_they_may_see(self):
        services.create_deal(actor=self.rep, name="mine")
        services.create_deal(actor=self.other, name="theirs")
        services.create_deal(actor=self.manager, name="manager's")

        def count(user):
            return run_report(name="snapshot", user=user).totals["count"]

        assert count(None) == 3
        assert count(self.rep) == 1
        assert count(self.other) == 1
        assert count(self.manager) == 2  # own + the team's (rep)
        self.rep.is_active = False
        assert count(self.rep) == 0
