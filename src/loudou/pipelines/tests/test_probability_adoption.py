"""Adopting the learned stage probabilities: admins only, recorded, reversible."""

import datetime as dt
import io
import tempfile
from decimal import Decimal
from pathlib import Path

from django.core.management import CommandError, call_command
from django.test import TransactionTestCase
from django.utils import timezone

from loudou.core.errors import Conflict, InvalidInput, NotAllowed
from loudou.people.models import Role, User
from loudou.pipelines.models import Pipeline, ProbabilityAdoption, Stage
from loudou.pipelines.services import adopt_learned_probabilities, revert_probability_adoption
from loudou.reports import loader
from loudou.spreadsheets.services import import_deals

HEADER = (
    "external_id,name,owner,status,amount,created_at,entered_needs,entered_proposal,closed_at\n"
)


def history(won: int, lost_after_proposal: int, lost_at_contact: int) -> str:
    """Deals closed in the last months: won ones passed every stage."""
    day = (timezone.now() - dt.timedelta(days=60)).date()
    rows, i = [], 0
    for count, status, stages in (
        (won, "won", 2),
        (lost_after_proposal, "lost", 2),
        (lost_at_contact, "lost", 0),
    ):
        for _ in range(count):
            i += 1
            needs = f"{day}T02:00:00+08:00" if stages else ""
            proposal = f"{day}T03:00:00+08:00" if stages else ""
            rows.append(
                f"H{i},Deal {i},rep,{status},100,{day}T01:00:00+08:00,{needs},{proposal},"
                f"{day}T04:00:00+08:00"
            )
    return HEADER + "\n".join(rows) + "\n"


class AdoptionTests(TransactionTestCase):
    serialized_rollback = True  # keep the migrations' default pipeline

    def setUp(self):
        loader.clear_cache()
        self.admin = User.objects.create_user(username="admin", password="x", role=Role.ADMIN)
        self.rep = User.objects.create_user(username="rep", password="x")
        self.pipeline = Pipeline.objects.get(is_default=True)
        self.dir = Path(tempfile.mkdtemp())

    def tearDown(self):
        loader.clear_cache()

    def load(self, text: str) -> None:
        path = self.dir / "history.csv"
        path.write_text(text, encoding="utf-8")
        import_deals(path=path)

    def probabilities(self) -> dict[str, Decimal]:
        return dict(self.pipeline.stages.filter(kind="open").values_list("key", "probability"))

    def test_adopt_and_revert(self):
        self.load(history(won=20, lost_after_proposal=5, lost_at_contact=5))
        before = self.probabilities()
        adoption = adopt_learned_probabilities(actor=self.admin, pipeline=self.pipeline)
        # contact: 20 of 30 won; needs and proposal: 20 of 25; negotiation: 20 of 20.
        self.assertEqual(
            self.probabilities(),
            {
                "contact": Decimal("0.6667"),
                "needs": Decimal("0.8000"),
                "proposal": Decimal("0.8000"),
                "negotiation": Decimal("1.0000"),
            },
        )
        recorded = {c["key"]: (c["old"], c["new"], c["sample"]) for c in adoption.changes}
        self.assertEqual(recorded["contact"], (str(before["contact"]), "0.6667", 30))
        self.assertEqual(adoption.adopted_by, self.admin)
        # The reports see the new probabilities at once.
        revert_probability_adoption(actor=self.admin, adoption=adoption)
        self.assertEqual(self.probabilities(), before)
        adoption.refresh_from_db()
        self.assertEqual(adoption.reverted_by, self.admin)
        with self.assertRaises(Conflict):
            revert_probability_adoption(actor=self.admin, adoption=adoption)

    def test_only_admins(self):
        self.load(history(won=20, lost_after_proposal=5, lost_at_contact=5))
        with self.assertRaises(NotAllowed):
            adopt_learned_probabilities(actor=self.rep, pipeline=self.pipeline)
        adoption = adopt_learned_probabilities(actor=self.admin, pipeline=self.pipeline)
        with self.assertRaises(NotAllowed):
            revert_probability_adoption(actor=self.rep, adoption=adoption)

    def test_thin_stages_are_left_alone_and_nothing_to_adopt_is_an_error(self):
        self.load(history(won=5, lost_after_proposal=5, lost_at_contact=10))
        adoption = adopt_learned_probabilities(actor=self.admin, pipeline=self.pipeline)
        # Only contact has 20 closed deals (5 won: 0.25); needs and later have 10 or fewer.
        self.assertEqual([c["key"] for c in adoption.changes], ["contact"])
        self.assertEqual(self.probabilities()["contact"], Decimal("0.2500"))
        with self.assertRaises(InvalidInput):  # the same rates again: nothing changes
            adopt_learned_probabilities(actor=self.admin, pipeline=self.pipeline)

    def test_a_later_edit_blocks_the_revert(self):
        self.load(history(won=20, lost_after_proposal=5, lost_at_contact=5))
        adoption = adopt_learned_probabilities(actor=self.admin, pipeline=self.pipeline)
        Stage.objects.filter(pipeline=self.pipeline, key="needs").update(probability="0.3")
        with self.assertRaisesMessage(Conflict, "needs"):
            revert_probability_adoption(actor=self.admin, adoption=adoption)
        self.assertEqual(self.probabilities()["contact"], Decimal("0.6667"))  # unchanged

    def test_command(self):
        self.load(history(won=20, lost_after_proposal=5, lost_at_contact=5))
        out = io.StringIO()
        call_command("probabilities", "adopt", "--user", "admin", stdout=out)
        self.assertIn("contact: 0.1000 -> 0.6667 (n=30", out.getvalue())
        adoption = ProbabilityAdoption.objects.get()
        call_command("probabilities", "list", stdout=out)
        self.assertIn("in force", out.getvalue())
        call_command("probabilities", "revert", str(adoption.pk), "--user", "admin", stdout=out)
        self.assertEqual(self.probabilities()["contact"], Decimal("0.1000"))
        # Commands speak the organisation's language (LOUDOU_LANGUAGE, zh-Hans by default).
        with self.assertRaisesMessage(CommandError, "这次采用已经撤销过了"):
            call_command("probabilities", "revert", str(adoption.pk), "--user", "admin")
        with self.assertRaisesMessage(CommandError, "只有管理员"):
            call_command("probabilities", "adopt", "--user", "rep")
