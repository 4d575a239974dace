"""A method an address does not answer is a JSON 405 like every other API error, with the
Allow header and the allowed methods in ``details`` (ninja's own answer is plain text)."""

from .base import ApiTestCase


class WrongMethodTests(ApiTestCase):
    def test_a_report_refuses_put_in_json(self) -> None:
        data = self.assertError(
            self.call("PUT", "/reports/funnel", self.manager), 405, "method_not_allowed"
        )
        self.assertEqual(data["details"], {"allowed": ["GET"]})
        self.assertIn("GET", data["message"])

    def test_the_allow_header_is_kept(self) -> None:
        deal = self.make_deal(owner=self.rep)
        response = self.call("PUT", f"/deals/{deal.pk}/move", self.rep)
        self.assertError(response, 405, "method_not_allowed")
        self.assertEqual(response["Allow"], "POST")

    def test_in_the_users_language(self) -> None:
        data = self.assertError(
            self.call("DELETE", "/reports/funnel", self.manager, lang="zh-hans"),
            405,
            "method_not_allowed",
        )
        self.assertIn("不支持", data["message"])

    def test_anonymous_gets_the_same_json(self) -> None:
        self.assertError(self.call("PATCH", "/reports/funnel"), 405, "method_not_allowed")
