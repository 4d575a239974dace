"""A number custom field takes finite numbers within the bounds of an amount, on every path
that sets custom values: the API (create, edit), the deal page's forms (create, edit), the
board's "still needed" dialog. Infinity, 1e1000000, NaN or sNaN was a server error (an
overflow, a million-digit integer, a NaN no JSON column takes) that any rep could cause;
each is now a message naming the field, and nothing changes."""

import json

from django.utils import translation

from loudou.api.tokens import create_token
from loudou.core.errors import InvalidInput
from loudou.core.testing import LoudouTestCase
from loudou.deals import services
from loudou.deals.models import Deal

NOT_NUMBERS = [
    "Infinity",
    "-Infinity",
    "inf",
    "NaN",
    "-NaN",
    "sNaN",
    "abc",
    "1e99999999999999999999",
]
TOO_LARGE = ["1e1000000", "-1e1000000", "1e20", "10000000000000"]
HTMX = {"HX-Request": "true"}


class CustomNumberTests(LoudouTestCase):
    def setUp(self):
        self.deal = self.make_deal(name="Budgeted")
        self.deal = services.update_deal(
            actor=self.rep,
            deal=self.deal,
            expected_version=self.deal.version,
            changes={"custom": {"budget": 5}},
        )

    def unchanged(self):
        deal = Deal.objects.get(pk=self.deal.pk)
        self.assertEqual((deal.custom, deal.version), ({"budget": 5}, self.deal.version))

    def test_the_service_refuses_them_naming_the_field(self):
        for value in [*NOT_NUMBERS, *TOO_LARGE, float("inf"), float("nan"), True, [1], {}]:
            with self.subTest(value=value), self.assertRaises(InvalidInput) as caught:
                services.update_deal(
                    actor=self.rep,
                    deal=self.deal,
                    expected_version=self.deal.version,
                    changes={"custom": {"budget": value}},
                )
            self.assertEqual(list(caught.exception.errors), ["custom.budget"])
            self.unchanged()
        for language, words in (("en", "“Budget” is not a number"), ("zh-hans", "“预算”不是数字")):
            with translation.override(language), self.assertRaises(InvalidInput) as caught:
                services.update_deal(
                    actor=self.rep,
                    deal=self.deal,
                    expected_version=self.deal.version,
                    changes={"custom": {"budget": "NaN"}},
                )
            self.assertIn(words, str(caught.exception.errors["custom.budget"]))
        with translation.override("en"), self.assertRaises(InvalidInput) as caught:
            services.update_deal(
                actor=self.rep,
                deal=self.deal,
                expected_version=self.deal.version,
                changes={"custom": {"budget": "1e20"}},
            )
        self.assertIn("9,999,999,999,999.99", str(caught.exception.errors["custom.budget"]))

    def test_numbers_within_the_bounds_are_kept(self):
        for value, kept in (
            ("9999999999999.99", 9999999999999.99),
            ("-9999999999999", -9999999999999),
            ("1e3", 1000),
            (" 12.5 ", 12.5),
            (2.25, 2.25),
            ("0", 0),
        ):
            with self.subTest(value=value):
                deal = Deal.objects.get(pk=self.deal.pk)
                deal = services.update_deal(
                    actor=self.rep,
                    deal=deal,
                    expected_version=deal.version,
                    changes={"custom": {"budget": value}},
                )
                deal.refresh_from_db()
                self.assertEqual(deal.custom["budget"], kept)

    def test_the_api_answers_400_on_edit_and_create(self):
        _token, raw = create_token(actor=self.rep, user=self.rep, name="t")
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_ACCEPT_LANGUAGE": "en"}
        bodies = [json.dumps(v) for v in [*NOT_NUMBERS, *TOO_LARGE]]
        bodies += ["Infinity", "-Infinity", "NaN", "1e1000000"]  # JSON's number forms
        for value in bodies:
            with self.subTest(value=value):
                response = self.client.patch(
                    f"/api/v1/deals/{self.deal.pk}",
                    f'{{"version": {self.deal.version}, "custom": {{"budget": {value}}}}}',
                    content_type="application/json",
                    **headers,
                )
                self.assertEqual(response.status_code, 400, response.content)
                self.assertIn("custom.budget", response.json()["details"])
                self.assertIn("Budget", response.json()["message"])
                self.unchanged()
                response = self.client.post(
                    "/api/v1/deals",
                    f'{{"name": "New", "custom": {{"budget": {value}}}}}',
                    content_type="application/json",
                    **headers,
                )
                self.assertEqual(response.status_code, 400, response.content)
                self.assertEqual(Deal.objects.count(), 1)

    def test_the_deal_forms_say_so(self):
        self.client.force_login(self.rep)
        for value in [*NOT_NUMBERS, *TOO_LARGE]:
            with self.subTest(value=value):
                response = self.client.post(
                    f"/deals/{self.deal.pk}/edit/",
                    {
                        "name": "Budgeted",
                        "owner": self.rep.pk,
                        "version": self.deal.version,
                        "custom_budget": value,
                    },
                    headers={"accept-language": "en"},
                    follow=True,
                )
                self.assertEqual(response.status_code, 200)
                errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
                self.assertEqual(len(errors), 1, errors)
                self.assertIn("Budget", errors[0])
                self.unchanged()
                response = self.client.post(
                    "/deals/new/",
                    {
                        "name": "New",
                        "owner": self.rep.pk,
                        "stage": self.stages["contact"].pk,
                        "custom_budget": value,
                    },
                    headers={"accept-language": "en"},
                )
                self.assertEqual(response.status_code, 200)
                # The form's own check (not a number), or the service's (too large).
                refused = response.context["form"].errors.get("custom_budget") or [
                    str(m) for m in response.context["messages"] if m.level_tag == "error"
                ]
                self.assertEqual(len(refused), 1, refused)
                if "custom_budget" not in response.context["form"].errors:
                    self.assertIn("Budget", refused[0])
                self.assertEqual(Deal.objects.count(), 1)

    def test_the_boards_dialog_says_so(self):
        deal = self.make_deal(name="拖动", stage=self.stages["needs"])
        self.client.force_login(self.rep)
        for value in [*NOT_NUMBERS, *TOO_LARGE]:
            with self.subTest(value=value):
                response = self.client.post(
                    f"/deals/{deal.pk}/move-fix/",
                    {
                        "to": self.stages["proposal"].pk,
                        "version": deal.version,
                        "field__custom.budget": value,
                    },
                    headers={"accept-language": "en", **HTMX},
                )
                self.assertEqual(response.status_code, 200)
                self.assertTemplateUsed(response, "deals/_move_dialog.html")
                errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
                self.assertTrue(any("Budget" in e for e in errors), errors)
                after = Deal.objects.get(pk=deal.pk)
                self.assertEqual((after.custom, after.stage.key), ({}, "needs"))
