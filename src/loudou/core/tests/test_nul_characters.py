"""A NUL character anywhere in a query string or form is a 400 page, never a 500
(PostgreSQL cannot store or compare text holding one; a board search for it was a 500)."""

from loudou.core.testing import LoudouTestCase
from loudou.deals.models import Deal


class NulCharacterTests(LoudouTestCase):
    def test_searches_and_filters(self):
        self.client.force_login(self.manager)
        for url in ("/?q=%00", "/deals/?q=a%00b", "/deals/?owner=%00", "/reports/?name=%00"):
            with self.subTest(url):
                response = self.client.get(url, headers={"accept-language": "en"})
                self.assertEqual(response.status_code, 400)
                self.assertContains(response, "could not be read", status_code=400)

    def test_forms_change_nothing(self):
        self.client.force_login(self.rep)
        response = self.client.post(
            "/deals/new/",
            {"name": "A\x00B", "owner": self.rep.pk, "stage": self.stages["contact"].pk},
        )
        self.assertEqual(response.status_code, 400)
        self.assertFalse(Deal.objects.exists())

    def test_ordinary_text_passes(self):
        self.client.force_login(self.manager)
        self.assertEqual(self.client.get("/deals/?q=100%25").status_code, 200)
