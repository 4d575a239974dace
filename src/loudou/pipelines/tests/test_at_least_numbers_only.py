"""An "at least" exit criterion compares a number: only the amount or a number custom
field may carry one. On a text field a deal named "NaN" made every page that weighs the
criterion fail; adding or editing one is refused (the field named, in both languages) on
every path: the services, the API, the settings page, whose form offers "at least" only
for number fields."""

import json
import re
from decimal import Decimal

from django.utils import translation

from loudou.api.tokens import create_token
from loudou.core.errors import InvalidInput
from loudou.core.testing import LoudouTestCase
from loudou.pipelines import services as config
from loudou.pipelines.models import CustomField, ExitCriterion

NOT_NUMBERS = ["name", "account", "currency", "expected_close_date", "custom.decision_maker"]


class AtLeastNumbersOnlyTests(LoudouTestCase):
    def setUp(self):
        self.stage = self.stages["contact"]
        self.criterion = ExitCriterion.objects.get(stage=self.stage)  # 1 activity
        config.create_custom_field(
            actor=self.admin, key="signed", name_zh="已签字", name_en="Signed", type="boolean"
        )

    def snapshot(self):
        return list(ExitCriterion.objects.order_by("pk").values())

    def test_the_services_refuse_it_naming_the_field_in_both_languages(self):
        before = self.snapshot()
        for field_name in [*NOT_NUMBERS, "custom.signed"]:
            for call, target in (
                (config.add_criterion, {"stage": self.stage}),
                (config.update_criterion, {"criterion": self.criterion}),
            ):
                for language, words in (
                    ("en", "“at least” compares numbers"),
                    ("zh-hans", "“至少”只能用于数字"),
                ):
                    with (
                        self.subTest(field=field_name, call=call.__name__, language=language),
                        translation.override(language),
                        self.assertRaises(InvalidInput) as caught,
                    ):
                        call(
                            actor=self.admin,
                            kind="field",
                            field_name=field_name,
                            field_check="at_least",
                            min_value=Decimal(1),
                            **target,
                        )
                    self.assertIn(words, str(caught.exception.errors["field_name"]))
        self.assertEqual(self.snapshot(), before)
        with translation.override("en"):
            with self.assertRaises(InvalidInput) as caught:
                config.add_criterion(
                    actor=self.admin,
                    stage=self.stage,
                    kind="field",
                    field_name="custom.decision_maker",
                    field_check="at_least",
                    min_value=Decimal(1),
                )
            self.assertIn("Decision maker", str(caught.exception.errors["field_name"]))
        with translation.override("zh-hans"):
            with self.assertRaises(InvalidInput) as caught:
                config.add_criterion(
                    actor=self.admin,
                    stage=self.stage,
                    kind="field",
                    field_name="name",
                    field_check="at_least",
                    min_value=Decimal(1),
                )
            self.assertIn("名称", str(caught.exception.errors["field_name"]))

    def test_the_amount_and_a_number_custom_field_take_it(self):
        for field_name in ("amount", "custom.budget"):
            with self.subTest(field=field_name):
                added = config.add_criterion(
                    actor=self.admin,
                    stage=self.stage,
                    kind="field",
                    field_name=field_name,
                    field_check="at_least",
                    min_value=Decimal(5),
                )
                self.assertEqual((added.field_name, added.min_value), (field_name, Decimal(5)))
                config.update_criterion(
                    actor=self.admin,
                    criterion=self.criterion,
                    kind="field",
                    field_name=field_name,
                    field_check="at_least",
                    min_value=Decimal(7),
                )
                self.criterion.refresh_from_db()
                self.assertEqual(self.criterion.field_name, field_name)
        # Other checks on text fields stay allowed.
        config.update_criterion(
            actor=self.admin,
            criterion=self.criterion,
            kind="field",
            field_name="name",
            field_check="filled",
        )

    def test_the_api_refuses_it_with_a_400(self):
        _token, raw = create_token(actor=self.admin, user=self.admin, name="t")
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_ACCEPT_LANGUAGE": "en"}
        body = {"kind": "field", "field_name": "name", "field_check": "at_least", "min_value": "1"}
        before = self.snapshot()
        for method, url in (
            ("put", f"/api/v1/exit-criteria/{self.criterion.pk}"),
            ("post", f"/api/v1/stages/{self.stage.pk}/exit-criteria"),
        ):
            with self.subTest(method=method):
                response = getattr(self.client, method)(
                    url, json.dumps(body), content_type="application/json", **headers
                )
                self.assertEqual(response.status_code, 400, response.content)
                self.assertIn("field_name", response.json()["details"])
                self.assertIn("“at least” compares numbers", response.json()["message"])
        self.assertEqual(self.snapshot(), before)

    def test_the_settings_page_refuses_it_and_offers_it_for_numbers_only(self):
        self.client.force_login(self.admin)
        before = self.snapshot()
        response = self.client.post(
            f"/settings/criteria/{self.criterion.pk}/",
            {"kind": "field", "field_name": "name", "field_check": "at_least", "min_value": "1"},
            headers={"accept-language": "zh-hans"},
            follow=True,
        )
        errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
        self.assertEqual(len(errors), 1)
        self.assertIn("“至少”只能用于数字", errors[0])
        self.assertEqual(self.snapshot(), before)
        # The field picker says which fields are numbers; the page's script offers
        # "at least" only for them.
        page = self.client.get(
            f"/settings/pipelines/{self.pipeline.pk}/", headers={"accept-language": "en"}
        ).content.decode()
        options = re.findall(r'<option value="([\w.]+)"( data-number)?[^>]*>', page)
        pickable = {value: bool(flag) for value, flag in options}
        self.assertTrue(pickable["amount"])
        self.assertTrue(pickable["custom.budget"])
        for field_name in [*NOT_NUMBERS, "custom.signed"]:
            self.assertFalse(pickable[field_name], field_name)
        self.assertIn("data-needs-number", page)  # the "at least" option of the check
        self.assertTrue(CustomField.objects.filter(key="budget", type="number").exists())
