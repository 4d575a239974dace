"""Webhooks over the API: an admin subscribes (the secret is in the answer), the deliveries
and every attempt are listed; the events are checked."""

from django.test import override_settings

from loudou.jobs.testing import run_tasks
from loudou.webhooks.tests.test_webhooks import Receiver

from .base import ApiTestCase


@override_settings(LOUDOU_WEBHOOK_RETRY_SECONDS=0, LOUDOU_WEBHOOK_TIMEOUT_SECONDS=2)
class WebhookApiTests(ApiTestCase):
    def test_subscribe_and_see_the_attempts(self):
        receiver = Receiver(status=500)
        self.addCleanup(receiver.close)
        response = self.call(
            "POST", "/webhooks", self.admin, {"url": receiver.url, "events": ["deal.created"]}
        )
        self.assertEqual(response.status_code, 201, response.content)
        hook = response.json()
        self.assertTrue(hook["secret"].startswith("whsec_"))
        self.assertNotIn("secret", self.call("GET", "/webhooks", self.admin).json()[0])
        with self.captureOnCommitCallbacks(execute=True):
            self.call("POST", "/deals", self.rep, {"name": "挂钩"})
        run_tasks()
        [delivery] = self.call("GET", f"/webhooks/{hook['id']}/deliveries", self.admin).json()
        self.assertEqual((delivery["event"], delivery["status"]), ("deal.created", "failed"))
        self.assertEqual([a["status_code"] for a in delivery["attempt_log"]], [500] * 6)
        off = self.call("PATCH", f"/webhooks/{hook['id']}", self.admin, {"active": False})
        self.assertFalse(off.json()["active"])

    def test_bad_subscriptions(self):
        for body in (
            {"url": "ftp://example.com/x", "events": ["deal.won"]},
            {"url": "https://example.com/x", "events": []},
            {"url": "https://example.com/x", "events": ["deal.exploded"]},
        ):
            response = self.call("POST", "/webhooks", self.admin, body)
            self.assertEqual(response.status_code, 400, body)
