"""An "at least" criterion already stored on a field that holds no number (saved before
the settings refused it, or by hand) weighs every value without failing: a value that is
no finite number ("NaN", "sNaN", "Infinity", "abc") does not meet it. A deal named "NaN"
made the deal page, a move and the manager's Today fail with a server error."""

import json
from decimal import Decimal

from loudou.api.tokens import create_token
from loudou.core.testing import LoudouTestCase
from loudou.deals import rules, services
from loudou.deals.criteria import unmet_criteria, unmet_of_current_stays
from loudou.pipelines.models import ExitCriterion

NOT_NUMBERS = ["NaN", "sNaN", "-NaN", "Infinity", "-Infinity", "inf", "abc"]


class StoredAtLeastOnTextTests(LoudouTestCase):
    def setUp(self):
        ExitCriterion.objects.filter(stage=self.stages["contact"]).delete()
        # Stored as older versions let an admin save them: no model validation on the way.
        self.on_name = ExitCriterion.objects.create(
            stage=self.stages["contact"],
            kind="field",
            field_name="name",
            field_check="at_least",
            min_value=Decimal(1),
        )
        self.on_text = ExitCriterion.objects.create(
            stage=self.stages["contact"],
            kind="field",
            field_name="custom.decision_maker",
            field_check="at_least",
            min_value=Decimal(1),
        )

    def make(self, value):
        deal = self.make_deal(name=value)
        return services.update_deal(
            actor=self.rep,
            deal=deal,
            expected_version=deal.version,
            changes={"custom": {"decision_maker": value}},
        )

    def test_a_value_that_is_no_finite_number_does_not_meet_it(self):
        deals = [self.make(value) for value in NOT_NUMBERS]
        many = unmet_of_current_stays(deals)
        for deal in deals:
            with self.subTest(value=deal.name):
                unmet = unmet_criteria(deal, [self.stages["contact"]])
                self.assertEqual(
                    [u.criterion_id for u in unmet], [self.on_name.pk, self.on_text.pk]
                )
                self.assertIn("must be at least 1", unmet[0].message_en)
                self.assertEqual(
                    [u.criterion_id for u in many[deal.pk]], [self.on_name.pk, self.on_text.pk]
                )
        # A text that is a finite number is weighed as one.
        counted = self.make("5")
        self.assertEqual(unmet_criteria(counted, [self.stages["contact"]]), [])
        self.assertEqual(rules.unmet_for_next_step([counted]), {counted.pk: []})

    def test_the_pages_and_the_move_answer_without_a_server_error(self):
        deal = self.make("NaN")
        self.make("sNaN")
        self.client.force_login(self.rep)
        self.assertEqual(self.client.get(f"/deals/{deal.pk}/").status_code, 200)
        self.client.force_login(self.manager)
        self.assertEqual(self.client.get("/today/").status_code, 200)
        _token, raw = create_token(actor=self.rep, user=self.rep, name="t")
        response = self.client.post(
            f"/api/v1/deals/{deal.pk}/move",
            json.dumps({"stage": "needs", "version": deal.version}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
        )
        self.assertEqual(response.status_code, 422, response.content)
        unmet = response.json()["details"]["unmet"]
        self.assertEqual([u["criterion_id"] for u in unmet], [self.on_name.pk, self.on_text.pk])
        deal.refresh_from_db()
        self.assertEqual(deal.stage.key, "contact")
