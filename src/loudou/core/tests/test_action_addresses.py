"""Opening an action's address in the browser (a GET) gives a page in the app's layout
and language with a way back, never an empty 405 (issue 13), on every app's actions."""

from loudou.core.testing import LoudouTestCase


class ActionAddressTests(LoudouTestCase):
    def test_a_get_on_an_action_is_a_page(self):
        self.client.force_login(self.admin)
        for url in (
            "/reports/probabilities/adopt/",
            "/reports/probabilities/1/revert/",
            "/import/abc/confirm/",
            "/account/tokens/1/revoke",
            "/deals/1/edit/",
        ):
            with self.subTest(url):
                response = self.client.get(url, headers={"accept-language": "en"})
                self.assertEqual(response.status_code, 405)
                self.assertEqual(response["Allow"], "POST")
                self.assertContains(response, "Nothing to show here", status_code=405)
