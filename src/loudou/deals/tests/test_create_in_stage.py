"""Creating a deal in a later stage is a forward move from the first stage: what is given
must meet the criteria of every earlier stage, or a manager overrides with a reason."""

from decimal import Decimal

from loudou.core.errors import NotAllowed
from loudou.core.testing import LoudouTestCase
from loudou.deals import services
from loudou.deals.models import Deal, StageEvent
from loudou.deals.rules import CriteriaNotMet
from loudou.pipelines import services as config
from loudou.pipelines.models import ExitCriterion, Pipeline, Stage


class CreateInStageTests(LoudouTestCase):
    def test_a_rep_cannot_create_straight_into_negotiation(self):
        with self.assertRaises(CriteriaNotMet) as ctx:
            services.create_deal(actor=self.rep, name="跳级", stage=self.stages["negotiation"])
        self.assertEqual(
            {u.stage_key for u in ctx.exception.unmet}, {"contact", "needs", "proposal"}
        )
        self.assertFalse(Deal.objects.exists())

    def test_a_rep_cannot_override(self):
        with self.assertRaises(NotAllowed):
            services.create_deal(
                actor=self.rep,
                name="跳级",
                stage=self.stages["negotiation"],
                override_reason="trust me",
            )
        self.assertFalse(Deal.objects.exists())

    def test_a_manager_overrides_and_the_creation_event_says_so(self):
        deal = services.create_deal(
            actor=self.manager,
            owner=self.rep,
            name="老客户续约",
            stage=self.stages["negotiation"],
            override_reason="续约，前期已完成",
        )
        [event] = StageEvent.objects.filter(deal=deal)
        self.assertIsNone(event.from_stage)
        self.assertEqual(event.to_stage.key, "negotiation")
        self.assertEqual(event.override_reason, "续约，前期已完成")
        self.assertEqual(
            {c["stage_key"] for c in event.overridden}, {"contact", "needs", "proposal"}
        )

    def test_criteria_met_by_what_is_given_need_no_override(self):
        # A pipeline whose first stage asks only for fields: what creation gives can meet it.
        contact = self.stages["contact"]
        ExitCriterion.objects.filter(stage=contact).delete()
        ExitCriterion.objects.create(
            stage=contact, kind="field", field_name="custom.budget", field_check="filled"
        )
        with self.assertRaises(CriteriaNotMet):
            services.create_deal(actor=self.rep, name="A", stage=self.stages["needs"])
        deal = services.create_deal(
            actor=self.rep,
            name="A",
            stage=self.stages["needs"],
            amount=Decimal(1000),
            custom={"budget": 50000},
        )
        event = StageEvent.objects.get(deal=deal)
        self.assertEqual((event.to_stage.key, event.override_reason), ("needs", ""))

    def test_the_first_stage_needs_nothing(self):
        deal = services.create_deal(actor=self.rep, name="新线索", stage=self.stages["contact"])
        self.assertEqual(deal.stage.key, "contact")


class CreatePageTests(LoudouTestCase):
    def test_the_form_refuses_a_late_stage_and_says_why(self):
        self.client.force_login(self.rep)
        page = self.client.get("/deals/new/", headers={"accept-language": "en"})
        self.assertNotContains(page, "Override reason")  # not for reps
        response = self.client.post(
            "/deals/new/",
            {"name": "跳级", "owner": self.rep.pk, "stage": self.stages["negotiation"].pk},
            headers={"accept-language": "en"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "does not meet the exit criteria")
        self.assertContains(response, "a manager must approve", count=0)  # not this stage's
        self.assertContains(response, "Initial contact")
        self.assertFalse(Deal.objects.exists())

    def test_a_manager_may_override_on_the_form(self):
        self.client.force_login(self.manager)
        response = self.client.post(
            "/deals/new/",
            {
                "name": "续约",
                "owner": self.rep.pk,
                "stage": self.stages["proposal"].pk,
                "override_reason": "续约",
            },
        )
        deal = Deal.objects.get()
        self.assertRedirects(response, f"/deals/{deal.pk}/")
        self.assertEqual(StageEvent.objects.get(deal=deal).override_reason, "续约")


class ArchivedOnCreateTests(LoudouTestCase):
    """No deal is created into an archived stage or pipeline (``rules.creation``), on the
    page as in the services; the same rule refuses imports (spreadsheets tests)."""

    def renewals(self) -> Pipeline:
        pipeline = config.create_pipeline(
            actor=self.admin, key="renewals", name_zh="续约", name_en="Renewals"
        )
        Pipeline.objects.filter(pk=pipeline.pk).update(archived=True)
        return pipeline

    def test_the_page_refuses_an_archived_stage(self):
        Stage.objects.filter(pk=self.stages["contact"].pk).update(archived=True)
        self.client.force_login(self.rep)
        response = self.client.post(
            "/deals/new/",
            {"name": "新线索", "owner": self.rep.pk, "stage": self.stages["contact"].pk},
            headers={"accept-language": "en"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Select a valid choice")  # not offered at all
        self.assertFalse(Deal.objects.exists())

    def test_the_page_refuses_an_archived_pipeline(self):
        pipeline = self.renewals()
        self.client.force_login(self.rep)
        response = self.client.post(
            "/deals/new/?pipeline=renewals",
            {"name": "续约", "owner": self.rep.pk, "stage": pipeline.stages.get(key="stage-1").pk},
            headers={"accept-language": "en"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "This pipeline is archived: it takes no new deals.")
        self.assertFalse(Deal.objects.exists())
