"""Pipelines on the settings pages: stages, percentages, order, archiving a stage in use
(history kept), exit criteria in the words reps read."""

from decimal import Decimal

from django.utils import translation

from loudou.core.errors import InvalidInput, NotAllowed
from loudou.core.testing import LoudouTestCase
from loudou.deals import services
from loudou.deals.criteria import rule_words, unmet_criteria
from loudou.deals.models import StageEvent
from loudou.pipelines import services as config
from loudou.pipelines.models import ExitCriterion, Pipeline, Stage, StageKind


class PipelineSettingsTests(LoudouTestCase):
    def test_create_a_pipeline_and_add_a_stage_in_percent(self):
        self.client.force_login(self.admin)
        response = self.client.post(
            "/settings/pipelines/", {"key": "renewals", "name_zh": "续约", "name_en": "Renewals"}
        )
        pipeline = Pipeline.objects.get(key="renewals")
        self.assertRedirects(response, f"/settings/pipelines/{pipeline.pk}/")
        kinds = sorted(pipeline.stages.values_list("kind", flat=True))
        self.assertEqual(kinds, ["lost", "open", "won"])
        self.client.post(
            f"/settings/pipelines/{pipeline.pk}/",
            {
                "action": "add_stage",
                "key": "quote",
                "name_zh": "报价",
                "name_en": "Quote",
                "probability": "37.5",
                "rot_days": "10",
            },
        )
        stage = pipeline.stages.get(key="quote")
        self.assertEqual(
            (stage.probability, stage.rot_days, stage.position), (Decimal("0.375"), 10, 20)
        )
        page = self.client.get(
            f"/settings/pipelines/{pipeline.pk}/", headers={"accept-language": "en"}
        )
        self.assertContains(page, 'value="37.5"')

    def test_bad_input_is_a_message_and_changes_nothing(self):
        self.client.force_login(self.admin)
        stage = self.stages["contact"]
        for probability in ("abc", "101", "-1", "NaN"):
            response = self.client.post(
                f"/settings/stages/{stage.pk}/",
                {"name_zh": "改", "name_en": "X", "probability": probability, "rot_days": "5"},
                follow=True,
            )
            self.assertEqual(response.status_code, 200)
            self.assertTrue(list(response.context["messages"]))
        stage.refresh_from_db()
        self.assertEqual((stage.name_en, stage.probability), ("Initial contact", Decimal("0.1")))
        response = self.client.post(
            "/settings/pipelines/", {"key": "bad key!", "name_zh": "", "name_en": ""}
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(Pipeline.objects.count(), 1)

    def test_reorder_keeps_events_pointing_at_their_stages(self):
        deal = self.make_deal(stage=self.stages["needs"])
        events = list(StageEvent.objects.filter(deal=deal).values_list("to_stage_id", flat=True))
        order = [self.stages[k].pk for k in ("needs", "contact", "proposal", "negotiation")]
        self.client.force_login(self.admin)
        self.client.post(
            f"/settings/pipelines/{self.pipeline.pk}/order/", {"order": ",".join(map(str, order))}
        )
        positions = list(
            Stage.objects.filter(pipeline=self.pipeline, kind=StageKind.OPEN)
            .order_by("position")
            .values_list("pk", flat=True)
        )
        self.assertEqual(positions, order)
        self.assertEqual(
            list(StageEvent.objects.filter(deal=deal).values_list("to_stage_id", flat=True)), events
        )
        with self.assertRaises(InvalidInput):  # not every stage, once
            config.reorder_stages(actor=self.admin, pipeline=self.pipeline, stage_ids=order[:2])

    def test_a_stage_in_use_is_archived_an_unused_one_deleted(self):
        deal = self.make_deal(stage=self.stages["contact"])
        self.assertEqual(
            config.archive_stage(actor=self.admin, stage=self.stages["contact"]), "archived"
        )
        contact = Stage.objects.get(pk=self.stages["contact"].pk)
        self.assertTrue(contact.archived)
        self.assertEqual(StageEvent.objects.get(deal=deal).to_stage_id, contact.pk)
        # No deal enters it any more; the deal in it may still leave.
        with self.assertRaises(InvalidInput):
            services.create_deal(actor=self.rep, owner=self.rep, name="x", stage=contact)
        other = self.make_deal(stage=self.stages["needs"])
        with self.assertRaises(InvalidInput):
            services.move_deal(actor=self.admin, deal=other, to_stage=contact)
        extra = config.add_stage(
            actor=self.admin,
            pipeline=self.pipeline,
            key="unused",
            name_zh="空",
            name_en="Unused",
            probability_percent="5",
        )
        self.assertEqual(config.archive_stage(actor=self.admin, stage=extra), "deleted")
        self.assertFalse(Stage.objects.filter(pk=extra.pk).exists())
        with self.assertRaises(InvalidInput):  # the outcomes stay
            config.archive_stage(actor=self.admin, stage=self.stages["won"])
        config.restore_stage(actor=self.admin, stage=contact)
        self.assertFalse(Stage.objects.get(pk=contact.pk).archived)

    def test_exit_criterion_with_pickers_shows_the_reps_words(self):
        self.client.force_login(self.admin)
        stage = self.stages["negotiation"]
        response = self.client.post(
            f"/settings/stages/{stage.pk}/criteria/",
            {
                "kind": "activity",
                "activity_type": "visit",
                "min_count": "2",
                "field_name": "amount",
                "attachment_kind": "quote",
            },
            headers={"accept-language": "en"},
            follow=True,
        )
        criterion = ExitCriterion.objects.filter(stage=stage, kind="activity").get()
        # Only the chosen kind's fields are kept.
        self.assertEqual(
            (
                criterion.activity_type,
                criterion.min_count,
                criterion.field_name,
                criterion.attachment_kind,
            ),
            ("visit", 2, "", ""),
        )
        with translation.override("en"):
            words = rule_words(criterion)
        self.assertIn("at least 2 activities (Visit)", words)
        self.assertContains(response, "at least 2 activities (Visit)")
        with translation.override("zh-hans"):
            self.assertIn("合同谈判", rule_words(criterion))
        field = config.add_criterion(
            actor=self.admin,
            stage=stage,
            kind="field",
            field_name="amount",
            field_check="at_least",
            min_value=Decimal("50000"),
        )
        with translation.override("en"):
            self.assertIn("must be at least 50000", rule_words(field))
        with self.assertRaises(InvalidInput):
            config.add_criterion(
                actor=self.admin,
                stage=stage,
                kind="field",
                field_name="no_such_field",
                field_check="filled",
            )
        with self.assertRaises(InvalidInput):
            config.add_criterion(
                actor=self.admin,
                stage=stage,
                kind="field",
                field_name="amount",
                field_check="at_least",
            )
        with self.assertRaises(NotAllowed):
            config.add_criterion(actor=self.manager, stage=stage, kind="approval")
        self.client.post(f"/settings/criteria/{criterion.pk}/delete/")
        self.assertFalse(ExitCriterion.objects.filter(pk=criterion.pk).exists())

    def test_the_pipeline_page_states_each_rule_without_a_deals_state(self):
        """Settings list rules, not a deal's progress: no "there are 0" of a deal that
        does not exist, one colon after the stage however the rule is worded, and the
        rules are not styled as errors."""
        stage = self.stages["contact"]
        config.add_criterion(
            actor=self.admin, stage=stage, kind="activity", activity_type="", min_count=2
        )
        config.add_criterion(
            actor=self.admin,
            stage=stage,
            kind="field",
            field_name="amount",
            field_check="filled",
            description_zh="必须填写金额",
            description_en="The amount must be filled in",
        )
        self.client.force_login(self.admin)
        url = f"/settings/pipelines/{stage.pipeline_id}/"
        zh = self.client.get(url, headers={"accept-language": "zh-hans"})
        self.assertContains(zh, "初步接洽：进入该阶段后至少需要 2 次活动（任意类型）。")
        self.assertContains(zh, "初步接洽：必须填写金额")
        self.assertNotContains(zh, "目前有")
        self.assertNotContains(zh, "初步接洽: ")
        en = self.client.get(url, headers={"accept-language": "en"})
        self.assertContains(
            en, "Initial contact: at least 2 activities (any type) after entering this stage."
        )
        self.assertContains(en, "Initial contact: The amount must be filled in")
        self.assertNotContains(en, "there are")
        # A rep whose deal falls short still reads how far it is.
        deal = self.make_deal(owner=self.rep, stage=stage, amount=None)
        with translation.override("zh-hans"):
            unmet = [u.message for u in unmet_criteria(deal, [stage])]
        self.assertIn("初步接洽：必须填写金额", unmet)
        self.assertTrue(any("目前有 0 次" in m for m in unmet), unmet)

    def test_custom_fields_and_lost_reasons(self):
        self.client.force_login(self.admin)
        self.client.post(
            "/settings/fields/",
            {"key": "region", "name_zh": "区域", "name_en": "Region", "type": "text"},
        )
        self.client.post(
            "/settings/lost-reasons/",
            {"key": "timing", "name_zh": "时机", "name_en": "Timing", "active": "1"},
        )
        from loudou.deals.models import LostReason
        from loudou.pipelines.models import CustomField

        field = CustomField.objects.get(key="region")
        self.client.post(
            "/settings/fields/", {"id": field.pk, "name_zh": "地区", "name_en": "Area"}
        )
        field.refresh_from_db()
        self.assertEqual((field.key, field.name_en), ("region", "Area"))
        reason = LostReason.objects.get(key="timing")
        self.client.post(
            "/settings/lost-reasons/", {"id": reason.pk, "name_zh": "时机", "name_en": "Timing"}
        )
        reason.refresh_from_db()
        self.assertFalse(reason.active)
        # The new field can be required by a criterion at once.
        config.add_criterion(
            actor=self.admin,
            stage=self.stages["contact"],
            kind="field",
            field_name="custom.region",
            field_check="filled",
        )


class ArchivedStageOnPagesTests(LoudouTestCase):
    def test_an_archived_stage_is_not_offered_and_leaves_the_board_when_empty(self):
        deal = self.make_deal(stage=self.stages["needs"])
        config.archive_stage(actor=self.admin, stage=self.stages["proposal"])
        self.client.force_login(self.rep)
        detail = self.client.get(f"/deals/{deal.pk}/")
        offered = [s.key for s in detail.context["move_form"].fields["stage"].queryset]
        self.assertNotIn("proposal", offered)
        self.assertIn("negotiation", offered)
        board = self.client.get("/")
        self.assertNotContains(board, f'data-stage="{self.stages["proposal"].pk}"')
        config.archive_stage(actor=self.admin, stage=self.stages["needs"])  # the deal is in it
        board = self.client.get("/")
        self.assertContains(board, f'data-stage="{self.stages["needs"].pk}"')


class PipelineArchiveTests(LoudouTestCase):
    def test_an_archived_pipeline_takes_no_new_deals_and_leaves_the_picker(self):
        renewals = config.create_pipeline(
            actor=self.admin, key="renewals", name_zh="续约", name_en="Renewals"
        )
        first = renewals.stages.get(key="stage-1")
        kept = services.create_deal(
            actor=self.rep, owner=self.rep, name="old", pipeline=renewals, stage=first
        )
        self.client.force_login(self.admin)
        self.client.post(f"/settings/pipelines/{renewals.pk}/", {"action": "archive"})
        renewals.refresh_from_db()
        self.assertTrue(renewals.archived)
        with self.assertRaises(InvalidInput):
            services.create_deal(
                actor=self.rep, owner=self.rep, name="new", pipeline=renewals, stage=first
            )
        board = self.client.get("/")
        self.assertNotIn(renewals, list(board.context["pipelines"]))
        # Its deals stay, and can still be worked.
        services.lose_deal(actor=self.rep, deal=kept, reason=self.price)
        with self.assertRaises(InvalidInput):
            config.archive_pipeline(actor=self.admin, pipeline=self.pipeline)
        with self.assertRaises(NotAllowed):
            config.archive_pipeline(actor=self.manager, pipeline=renewals, archived=False)
        self.client.post(f"/settings/pipelines/{renewals.pk}/", {"action": "restore"})
        renewals.refresh_from_db()
        self.assertFalse(renewals.archived)


class EditCriterionTests(LoudouTestCase):
    """An exit criterion changes in place through ``pipelines.services.update_criterion``:
    the same checks as adding one, the rule re-shown in the words reps read, and nothing
    recorded before is rewritten."""

    def setUp(self):
        self.stage = self.stages["contact"]  # default: at least 1 activity (any type)
        self.criterion = ExitCriterion.objects.get(stage=self.stage)
        self.client.force_login(self.admin)

    def edit(self, language="en", **data):
        return self.client.post(
            f"/settings/criteria/{self.criterion.pk}/",
            data,
            headers={"accept-language": language},
            follow=True,
        )

    def test_change_the_kind_and_read_the_new_rule_in_both_languages(self):
        response = self.edit(
            kind="field",
            field_name="amount",
            field_check="at_least",
            min_value="5万",
            activity_type="visit",  # another kind's picker: not kept
            min_count="3",
            attachment_kind="quote",
        )
        self.assertRedirects(response, f"/settings/pipelines/{self.pipeline.pk}/")
        criterion = ExitCriterion.objects.get(pk=self.criterion.pk)
        self.assertEqual(
            (
                criterion.stage_id,
                criterion.kind,
                criterion.field_name,
                criterion.field_check,
                criterion.min_value,
                criterion.activity_type,
                criterion.min_count,
                criterion.attachment_kind,
            ),
            (self.stage.pk, "field", "amount", "at_least", Decimal("50000"), "", 1, ""),
        )
        with translation.override("en"):
            words = rule_words(criterion)
        self.assertIn("must be at least 50000", words)
        self.assertContains(response, f"Reps will read: {words}")
        # The edit form shows the saved values.
        self.assertContains(response, 'name="min_value" inputmode="decimal" size="8" value="50000"')
        response = self.edit(
            language="zh-hans", kind="activity", activity_type="visit", min_count="2"
        )
        criterion.refresh_from_db()
        self.assertEqual(
            (criterion.kind, criterion.activity_type, criterion.min_count, criterion.field_name),
            ("activity", "visit", 2, ""),
        )
        with translation.override("zh-hans"):
            words = rule_words(criterion)
        self.assertIn("初步接洽", words)
        self.assertContains(response, words)
        self.assertContains(response, "升迁标志已保存")
        # Then an attachment, then an approval: each kind's own columns only.
        self.edit(kind="attachment", attachment_kind="contract", min_count="5")
        criterion.refresh_from_db()
        self.assertEqual((criterion.attachment_kind, criterion.min_count), ("contract", 1))
        response = self.edit(kind="approval", description_en="Ask your manager first.")
        criterion.refresh_from_db()
        self.assertEqual((criterion.kind, criterion.attachment_kind), ("approval", ""))
        self.assertContains(response, "Reps will read: Initial contact: Ask your manager first.")

    def test_bad_input_is_a_message_and_changes_nothing(self):
        bad = [
            {"kind": "magic"},
            {"kind": "field", "field_name": "no_such_field", "field_check": "filled"},
            {"kind": "field", "field_name": "amount", "field_check": "at_least"},
            {"kind": "field", "field_name": "amount", "field_check": "at_least", "min_value": "x"},
            {"kind": "field", "field_name": "amount", "field_check": "maybe"},
            {"kind": "activity", "activity_type": "telepathy", "min_count": "1"},
            {"kind": "activity", "min_count": "0"},
            {"kind": "activity", "min_count": "1001"},
            {"kind": "attachment", "attachment_kind": ""},
            {"kind": "attachment", "attachment_kind": "photo"},
        ]
        for data in bad:
            with self.subTest(data=data):
                response = self.edit(**data)
                self.assertEqual(response.status_code, 200)
                errors = [m for m in response.context["messages"] if m.level_tag == "error"]
                self.assertEqual(len(errors), 1, data)
                criterion = ExitCriterion.objects.get(pk=self.criterion.pk)
                self.assertEqual(
                    (criterion.kind, criterion.activity_type, criterion.min_count),
                    ("activity", "", 1),
                )
        self.assertContains(self.edit(kind="activity", min_count="0"), "A count from 1 to 1,000.")
        with self.assertRaises(NotAllowed):
            config.update_criterion(actor=self.manager, criterion=self.criterion, kind="approval")
        self.assertEqual(ExitCriterion.objects.get(pk=self.criterion.pk).kind, "activity")

    def test_adding_refuses_an_activity_type_or_attachment_kind_nobody_could_read(self):
        # Saved, such a criterion broke the pipeline page and every move past it (its
        # words name the type).
        for data in (
            {"kind": "activity", "activity_type": "telepathy"},
            {"kind": "attachment", "attachment_kind": "photo"},
        ):
            with self.subTest(data=data), self.assertRaises(InvalidInput):
                config.add_criterion(actor=self.admin, stage=self.stage, **data)
        self.client.post(
            f"/settings/stages/{self.stage.pk}/criteria/",
            {"kind": "activity", "activity_type": "telepathy", "min_count": "1"},
        )
        self.assertEqual(ExitCriterion.objects.filter(stage=self.stage).count(), 1)
        self.assertEqual(
            self.client.get(f"/settings/pipelines/{self.pipeline.pk}/").status_code, 200
        )

    def test_an_edit_holds_for_moves_to_come_and_rewrites_no_history(self):
        deal = self.make_deal()
        forced = services.move_deal(
            actor=self.manager,
            deal=deal,
            to_stage=self.stages["needs"],
            override_reason="客户催得急",
        ).event
        recorded = StageEvent.objects.get(pk=forced.pk).overridden
        self.assertEqual([u["criterion_id"] for u in recorded], [self.criterion.pk])
        self.assertIn("activit", recorded[0]["message_en"])
        self.edit(kind="attachment", attachment_kind="contract")
        event = StageEvent.objects.get(pk=forced.pk)
        self.assertEqual(event.overridden, recorded)
        self.assertEqual(
            (event.from_stage_id, event.to_stage_id), (self.stage.pk, forced.to_stage_id)
        )
        # The next deal is held by the new rule, in its words.
        other = self.make_deal(name="Next")
        from loudou.activities.services import log_activity
        from loudou.deals.rules import CriteriaNotMet

        log_activity(actor=self.rep, deal=other, type="call")  # met the old rule
        with translation.override("en"), self.assertRaises(CriteriaNotMet) as refused:
            services.move_deal(actor=self.rep, deal=other, to_stage=self.stages["needs"])
        self.assertEqual(
            [(u.criterion_id, u.kind) for u in refused.exception.unmet],
            [(self.criterion.pk, "attachment")],
        )
        self.assertIn("Contract", refused.exception.unmet[0].message_en)
