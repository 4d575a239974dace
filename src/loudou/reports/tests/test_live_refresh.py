"""Live reports (issue 12): after writes by any path, the frames brought up to date by
reading only what changed equal a full load, and so does every report.

A property test (Hypothesis) drives random sequences of service writes, raw-SQL edits,
ORM deletes, small-table changes and imports; after each step the refreshed frames and
every report are compared with a fresh full load. Runs on SQLite and PostgreSQL."""

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import polars as pl
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TransactionTestCase as HypothesisTransactionTestCase

from loudou.activities.services import log_activity
from loudou.analytics.catalog import CATALOG
from loudou.analytics.params import ReportParams
from loudou.core.errors import ServiceError
from loudou.core.testing import make_user
from loudou.deals import services
from loudou.deals.models import Deal, LostReason
from loudou.people.models import Quota, Role, Team, User
from loudou.pipelines.models import Stage
from loudou.reports import loader
from loudou.spreadsheets.services import import_deals

from .loading import LoadCountingCase

NOW = timezone.now()
SORT = {
    "deals": ["id"],
    "open_deals": ["id"],
    "events": ["deal_id", "at", "to_stage_id"],
    "stays": ["deal_id", "exited_at", "stage_idx"],
    "payments": ["deal_id", "paid_on", "amount_cents"],
    "activities": ["deal_id", "at", "type"],
    "quotas": ["user_id", "team_id", "period_start"],
}


def canonical(frames) -> dict:
    """Frames as comparable plain data (row order is not part of the contract)."""
    out = {}
    for pipeline_id, data in frames.derived.items():
        for part, keys in SORT.items():
            frame = getattr(data, part)
            frame = frame.with_columns(
                [pl.col(c).cast(pl.String) for c, t in frame.schema.items() if t == pl.Categorical]
            )
            out[(pipeline_id, part)] = frame.sort(keys).to_dicts()
        out[(pipeline_id, "meta")] = (
            data.latest_event_at,
            data.owner_names,
            data.team_names,
            data.user_teams,
            data.n,
        )
    return out


def reports(frames) -> dict:
    params = ReportParams(now=NOW, time_zone="Asia/Shanghai", target=Decimal(100_000))
    data = frames.pipeline(frames.pipeline_id(None))
    return {
        name: (r.rows, r.totals) for name, report in CATALOG.items() for r in [report(data, params)]
    }


STEPS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "create",
                "create",
                "move",
                "win",
                "lose",
                "reopen",
                "activity",
                "payment",
                "edit",
                "raw_amount",
                "delete",
                "team",
                "quota",
                "import",
                "probability",
            ]
        ),
        st.integers(0, 10_000),
    ),
    min_size=1,
    max_size=7,
)


class LiveRefreshTests(HypothesisTransactionTestCase):
    # Each example starts from a flushed database with the migrations' data restored.
    serialized_rollback = True

    def make_world(self):
        loader.clear_cache()
        self.manager = make_user("boss", Role.MANAGER)
        self.team = Team.objects.create(name="North", manager=self.manager)
        self.reps = [make_user(f"rep{i}", Role.REP, self.team) for i in range(2)]
        self.admin = make_user("admin", Role.ADMIN)
        self.stages = list(Stage.objects.filter(pipeline__is_default=True, kind="open"))
        self.reason = LostReason.objects.first()

    def tearDown(self):
        loader.clear_cache()

    def deal(self, n: int, **filters) -> Deal | None:
        deals = list(Deal.objects.filter(**filters).order_by("id"))
        return deals[n % len(deals)] if deals else None

    def apply(self, kind: str, n: int) -> None:
        rep = self.reps[n % 2]
        at = NOW - dt.timedelta(days=n % 40, hours=n % 7)
        if kind == "create":
            services.create_deal(
                actor=self.admin,
                owner=rep,
                name=f"d{n}",
                amount=str(n * 10) if n % 3 else None,
                stage=self.stages[n % len(self.stages)],
                override_reason="set-up",
                source=["web", "fair", ""][n % 3],
                expected_close_date=dt.date(2026, 1 + n % 12, 1),
            )
        elif kind == "move" and (deal := self.deal(n, status="open")):
            target = self.stages[n % len(self.stages)]
            if target.pk != deal.stage_id:
                services.move_deal(
                    actor=self.admin, deal=deal, to_stage=target, override_reason="x"
                )
        elif kind == "win" and (deal := self.deal(n, status="open")):
            services.win_deal(actor=self.admin, deal=deal, override_reason="x")
        elif kind == "lose" and (deal := self.deal(n, status="open")):
            services.lose_deal(actor=self.admin, deal=deal, reason=self.reason)
        elif kind == "reopen" and (deal := self.deal(n, status="lost")):
            services.reopen_deal(actor=self.admin, deal=deal)
        elif kind == "activity" and (deal := self.deal(n)):
            log_activity(actor=self.admin, deal=deal, type="call", at=at)
        elif kind == "payment" and (deal := self.deal(n, status="won")):
            services.record_payment(
                actor=self.admin, deal=deal, amount=str(1 + n % 50), paid_on=NOW.date()
            )
        elif kind == "edit" and (deal := self.deal(n)):
            services.update_deal(
                actor=self.admin,
                deal=deal,
                expected_version=deal.version,
                changes={"amount": str(n), "source": "ads", "owner": self.reps[(n + 1) % 2]},
            )
        elif kind == "raw_amount" and (deal := self.deal(n)):
            with connection.cursor() as cursor:
                cursor.execute("UPDATE deals_deal SET amount = %s WHERE id = %s", [n, deal.pk])
        elif kind == "delete" and (deal := self.deal(n)):
            Deal.objects.filter(pk=deal.pk).delete()  # the ORM's cascade, not a service
        elif kind == "team":
            if n % 2:
                Team.objects.filter(pk=self.team.pk).update(name=f"North {n}")
            else:
                User.objects.filter(pk=rep.pk).update(team=None if rep.team_id else self.team)
        elif kind == "quota":
            Quota.objects.create(
                user=rep,
                period_start=dt.date(2026, 1, 1),
                period_end=dt.date(2026, 4, 1),
                amount=Decimal(n),
            )
        elif kind == "import":
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "deals.csv"
                path.write_text(
                    f"name,owner,amount,created_at\nimported {n},{rep.username},{n},2026-01-02\n"
                )
                summary = import_deals(path=path, actor=None, lang="en")
                assert summary.ok, summary
        elif kind == "probability":
            Stage.objects.filter(pk=self.stages[n % len(self.stages)].pk).update(
                probability=Decimal(n % 100) / 100
            )

    @settings(
        max_examples=4,
        deadline=None,
        derandomize=True,
        # Each step loads everything twice in a child process: shrinking would take
        # minutes; the failing sequence is printed as drawn.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(steps=STEPS)
    def test_refreshed_frames_equal_a_full_load(self, steps):
        self.make_world()
        for activities in (False, True):
            loader.frames_for(activities=activities)
        for kind, n in steps:
            try:
                self.apply(kind, n)
            except ServiceError:
                continue  # a refused write changes nothing
            for activities in (False, True):
                live = loader.frames_for(activities=activities)
                # An entry holding the activities serves every report: compare like with like.
                held = loader._cache["default"].activities
                full = loader.load_frames(activities=held)
                assert canonical(live) == canonical(full), (kind, n, activities)
                assert reports(live) == reports(full), (kind, n, activities)


class RefreshPathTests(LoadCountingCase):
    """The refresh reads only what changed, and falls back to a full load when it must."""

    def test_a_deal_write_is_patched_in_without_a_full_load(self):
        deal = services.create_deal(actor=self.rep, name="d", amount="100")
        loader.frames_for()
        assert self.loads == 1
        services.update_deal(
            actor=self.rep, deal=deal, expected_version=deal.version, changes={"amount": "250"}
        )
        log_activity(actor=self.rep, deal=deal, type="call")
        frames = loader.frames_for()
        assert self.loads == 1
        data = frames.pipeline(frames.pipeline_id(None))
        assert data.deals["amount_cents"].to_list() == [25000]

    def test_stage_changes_and_bulk_loads_load_everything(self):
        services.create_deal(actor=self.rep, name="d", amount="100")
        loader.frames_for()
        Stage.objects.filter(key="contact").update(rot_days=3)
        loader.frames_for()
        assert self.loads == 2
