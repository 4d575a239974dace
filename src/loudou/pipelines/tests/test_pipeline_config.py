"""Pipeline configuration: stage and criterion invariants, new pipelines get outcomes."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from loudou.core.testing import LoudouTestCase
from loudou.deals import services
from loudou.pipelines.models import ExitCriterion, Pipeline, Stage
from loudou.pipelines.services import ensure_outcome_stages


class StageTests(LoudouTestCase):
    def test_names_follow_the_language(self):
        stage = self.stages["proposal"]
        with translation.override("zh-hans"):
            self.assertEqual(str(stage), "方案报价")
        with translation.override("en"):
            self.assertEqual(str(stage), "Proposal & quote")

    def test_database_constraints(self):
        cases = [
            {"key": "x", "position": 50, "probability": Decimal("1.5")},
            {"key": "x", "position": 50, "probability": Decimal("-0.1")},
            {"key": "contact", "position": 50, "probability": Decimal("0.1")},
            {"key": "x", "position": 10, "probability": Decimal("0.1")},
            {"key": "won2", "kind": "won", "position": 77, "probability": Decimal(1)},
        ]
        for values in cases:
            with (
                self.subTest(values=values),
                self.assertRaises(IntegrityError),
                transaction.atomic(),
            ):
                Stage.objects.create(pipeline=self.pipeline, name_zh="x", name_en="x", **values)

    def test_clean_probability(self):
        stage = Stage(pipeline=self.pipeline, key="x", position=1, probability=Decimal(2))
        with self.assertRaises(ValidationError):
            stage.clean()

    def test_new_pipeline_gets_outcomes_and_works(self):
        pipeline = Pipeline.objects.create(key="renewals", name_zh="续约", name_en="Renewals")
        for i, key in enumerate(["talk", "offer"], start=1):
            Stage.objects.create(
                pipeline=pipeline,
                key=key,
                position=i * 10,
                name_zh=key,
                name_en=key,
                probability=Decimal("0.5"),
            )
        ensure_outcome_stages(pipeline)
        ensure_outcome_stages(pipeline)  # idempotent
        self.assertEqual(
            list(pipeline.stages.values_list("key", "kind")),
            [("talk", "open"), ("offer", "open"), ("won", "won"), ("lost", "lost")],
        )
        deal = services.create_deal(actor=self.rep, name="renewal", pipeline=pipeline)
        self.assertEqual(deal.stage.key, "talk")
        services.win_deal(actor=self.rep, deal=deal)  # no criteria configured
        self.assertEqual(deal.stage.pipeline, pipeline)


class CriterionTests(LoudouTestCase):
    def test_clean_rejects_incomplete_criteria(self):
        stage = self.stages["needs"]
        bad = [
            ExitCriterion(stage=stage, kind="field", field_name="", field_check="filled"),
            ExitCriterion(stage=stage, kind="field", field_name="nonsense", field_check="filled"),
            ExitCriterion(stage=stage, kind="field", field_name="amount", field_check="at_least"),
            ExitCriterion(stage=stage, kind="attachment"),
            ExitCriterion(stage=self.stages["won"], kind="approval"),
        ]
        for criterion in bad:
            with self.subTest(kind=criterion.kind), self.assertRaises(ValidationError):
                criterion.clean()
        ExitCriterion(
            stage=stage, kind="field", field_name="custom.budget", field_check="filled"
        ).clean()

    def test_database_refuses_incomplete_criteria(self):
        with self.assertDatabaseRefuses():
            ExitCriterion.objects.create(stage=self.stages["needs"], kind="attachment")
        with self.assertDatabaseRefuses():
            ExitCriterion.objects.create(
                stage=self.stages["needs"],
                kind="field",
                field_name="amount",
                field_check="at_least",
            )

    def test_custom_description_replaces_the_message(self):
        ExitCriterion.objects.filter(stage=self.stages["contact"]).update(
            description_zh="先打个电话", description_en="Call them first"
        )
        deal = self.make_deal()
        [unmet] = services.check_move(deal=deal, to_stage=self.stages["needs"])
        self.assertEqual(unmet.message_zh, "初步接洽：先打个电话")
        self.assertEqual(unmet.message_en, "Initial contact: Call them first")
