"""Webhooks: an event reaches a local receiver on 127.0.0.1 with a valid signature, a
failing receiver is retried with backoff and every attempt is logged, and a dead receiver
never slows or fails the user's action."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

from django.test import override_settings
from django.utils import timezone

from loudou.activities.services import log_activity
from loudou.core.errors import InvalidInput, NotAllowed
from loudou.core.testing import LoudouTestCase
from loudou.deals import services
from loudou.jobs.testing import queued, run_tasks
from loudou.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from loudou.webhooks.services import subscribe
from loudou.webhooks.signing import verify


class Receiver:
    """An HTTP server on 127.0.0.1 that records what it is sent and answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@override_settings(LOUDOU_WEBHOOK_RETRY_SECONDS=0, LOUDOU_WEBHOOK_TIMEOUT_SECONDS=2)
class WebhookTests(LoudouTestCase):
    def setUp(self):
        self.receiver = Receiver()
        self.addCleanup(self.receiver.close)

    def act(self, action):
        """Run a use case and what its commit triggers, then the queued tasks."""
        with self.captureOnCommitCallbacks(execute=True):
            result = action()
        run_tasks()
        return result

    def test_signed_delivery_of_each_event(self):
        hook = subscribe(
            actor=self.admin,
            url=self.receiver.url,
            events=[
                "deal.created",
                "deal.stage_changed",
                "deal.won",
                "deal.lost",
                "payment.recorded",
            ],
        )
        deal = self.act(lambda: self.make_deal(name="签约", amount="500"))
        self.act(lambda: services.lose_deal(actor=self.rep, deal=deal, reason=self.price))
        self.act(
            lambda: services.update_deal(
                actor=self.rep, deal=deal, expected_version=deal.version, changes={"name": "x"}
            )
        )
        events = [h["X-Loudou-Event"] for h, _b in self.receiver.received]
        self.assertEqual(
            events, ["deal.created", "deal.stage_changed", "deal.lost"]
        )  # no deal.updated
        for headers, body in self.receiver.received:
            self.assertTrue(verify(hook.secret, body, headers["X-Loudou-Signature"]))
            self.assertFalse(verify("whsec_wrong", body, headers["X-Loudou-Signature"]))
            self.assertFalse(verify(hook.secret, body + b" ", headers["X-Loudou-Signature"]))
        created = json.loads(self.receiver.received[0][1])
        self.assertEqual(created["event"], "deal.created")
        self.assertEqual(created["data"]["deal"]["name"], "签约")
        self.assertEqual(created["data"]["actor"], "rep")
        lost = json.loads(self.receiver.received[2][1])
        self.assertEqual(lost["data"]["deal"]["lost_reason"], "price")
        self.assertEqual(lost["data"]["stage_change"]["to_stage"], "lost")
        self.assertEqual(self.receiver.received[0][0]["X-Loudou-Delivery"], created["id"])
        self.assertEqual(WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERED).count(), 3)

    def test_old_signatures_are_refused(self):
        from loudou.webhooks.signing import sign

        header = sign("s", b"{}", int(time.time()) - 3600)
        self.assertFalse(verify("s", b"{}", header))
        self.assertFalse(verify("s", b"{}", "garbage"))

    def test_failures_are_retried_with_backoff_and_logged(self):
        self.receiver.status = 500
        subscribe(actor=self.admin, url=self.receiver.url, events=["deal.created"])
        self.act(lambda: self.make_deal())
        delivery = WebhookDelivery.objects.get()
        self.assertEqual(delivery.status, DeliveryStatus.FAILED)
        attempts = list(WebhookAttempt.objects.filter(delivery=delivery))
        self.assertEqual([a.number for a in attempts], [1, 2, 3, 4, 5, 6])
        self.assertEqual({a.status_code for a in attempts}, {500})
        self.assertEqual(len(self.receiver.received), 6)
        # every attempt carried the same body
        self.assertEqual(len({body for _h, body in self.receiver.received}), 1)

    def test_a_retry_waits_for_its_time_and_then_succeeds(self):
        self.receiver.status = 503
        subscribe(actor=self.admin, url=self.receiver.url, events=["deal.created"])
        with override_settings(LOUDOU_WEBHOOK_RETRY_SECONDS=60):
            self.act(lambda: self.make_deal())
        delivery = WebhookDelivery.objects.get()
        self.assertEqual((delivery.status, delivery.attempts), (DeliveryStatus.PENDING, 1))
        self.assertGreater(delivery.next_attempt_at, timezone.now())
        self.assertEqual(len(queued("deliver")), 1)  # deferred: not run yet
        self.receiver.status = 204
        from django_tasks_db.models import DBTaskResult

        DBTaskResult.objects.update(run_after=timezone.now())
        run_tasks()
        delivery.refresh_from_db()
        self.assertEqual((delivery.status, delivery.attempts), (DeliveryStatus.DELIVERED, 2))

    def test_a_dead_endpoint_never_slows_or_fails_the_action(self):
        self.receiver.close()  # nothing listens there any more
        subscribe(actor=self.admin, url=self.receiver.url, events=["deal.created", "deal.updated"])
        started = time.monotonic()
        with self.captureOnCommitCallbacks(execute=True):
            deal = self.make_deal()
        self.assertLess(time.monotonic() - started, 1.0)
        self.assertTrue(deal.pk)
        self.assertEqual(WebhookAttempt.objects.count(), 0)  # nothing was sent in the action
        run_tasks()
        attempt = WebhookAttempt.objects.first()
        self.assertIsNone(attempt.status_code)
        self.assertIn("Error", attempt.error)

    def test_events_of_activity_do_not_fire_and_nothing_without_subscribers(self):
        with self.captureOnCommitCallbacks(execute=True):
            deal = self.make_deal()
            log_activity(actor=self.rep, deal=deal, type="call")
        self.assertEqual(queued("fan_out"), [])

    def test_only_admins_subscribe_and_urls_are_checked(self):
        with self.assertRaises(NotAllowed):
            subscribe(actor=self.manager, url=self.receiver.url, events=["deal.won"])
        with self.assertRaises(InvalidInput):
            subscribe(actor=self.admin, url="file:///etc/passwd", events=["deal.won"])
        with self.assertRaises(InvalidInput):
            subscribe(actor=self.admin, url=self.receiver.url, events=["deal.exploded"])
