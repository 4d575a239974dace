"""403, 404, 405 and 500 answer with pages in the app's layout and the user's language,
with a way back; the favicon is served."""

from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.utils import translation
from django.views import defaults

from loudou.core.testing import LoudouTestCase


class ErrorPageTests(LoudouTestCase):
    def setUp(self):
        self.client.force_login(self.rep)

    def test_404_in_both_languages(self):
        response = self.client.get("/deals/999999/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, 404)
        self.assertContains(response, "Page not found", status_code=404)
        self.assertContains(response, 'href="/today/"', status_code=404)
        self.assertContains(response, 'class="topbar"', status_code=404)
        response = self.client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="zh-hans")
        self.assertContains(response, "页面不存在", status_code=404)

    def test_405_is_a_page(self):
        deal = self.make_deal()
        response = self.client.get(f"/deals/{deal.pk}/edit/", HTTP_ACCEPT_LANGUAGE="zh-hans")
        self.assertEqual(response.status_code, 405)
        self.assertContains(response, "返回今天", status_code=405)

    def test_403_and_500_templates(self):
        request = RequestFactory().get("/")
        request.user = self.rep
        with translation.override("en"):
            response = defaults.permission_denied(request, PermissionDenied())
            self.assertEqual(response.status_code, 403)
            self.assertIn("Not allowed", response.content.decode())
            response = defaults.server_error(request)
            self.assertEqual(response.status_code, 500)
            body = response.content.decode()
            self.assertIn("Something went wrong", body)
            self.assertIn('href="/today/"', body)
        with translation.override("zh-hans"):
            self.assertIn("出错了", defaults.server_error(request).content.decode())

    def test_favicon(self):
        response = self.client.get("/today/")
        self.assertContains(response, 'rel="icon"')
        response = self.client.get("/static/loudou/favicon.svg")
        self.assertEqual(response.status_code, 200)
