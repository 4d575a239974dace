"""Admins' webhook subscriptions receive deal events as signed JSON, outside the user's
request; a dead or slow endpoint never slows or fails the user's action."""

import datetime as dt
import hashlib
import hmac
import time

from django.utils import timezone

from loudou.core.testing import ready_to_leave
from loudou.deals import services as deals
from loudou.jobs.testing import queued, run_tasks
from loudou.notifications.models import Delivery, DeliveryStatus

from .helpers import NotifyTestCase
from .receiver import Receiver, dead_url


def verify(got, secret: str) -> bool:
    timestamp = got.headers["x-loudou-timestamp"]
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + got.body, hashlib.sha256)
    return hmac.compare_digest(got.headers["x-loudou-signature"], "sha256=" + mac.hexdigest())


class WebhookTests(NotifyTestCase):
    def test_subscribed_events_arrive_signed_others_do_not(self):
        with Receiver() as r:
            self.subscription(r.url + "/hook", ["deal.created", "deal.won", "payment.recorded"])
            deal = self.committed(lambda: self.make_deal(name="华为 项目"))
            self.committed(
                lambda: deals.update_deal(
                    actor=self.rep,
                    deal=deal,
                    expected_version=deal.version,
                    changes={"name": "华为 项目二期"},
                )
            )
            self.committed(
                lambda: deals.win_deal(actor=self.admin, deal=deal, override_reason="test")
            )
            self.committed(
                lambda: deals.record_payment(
                    actor=self.rep, deal=deal, amount="100", paid_on=timezone.localdate()
                )
            )
        events = [got.json()["event"] for got in r.requests]
        self.assertEqual(events, ["deal.created", "deal.won", "payment.recorded"])
        for got in r.requests:
            self.assertTrue(verify(got, "s3cret"))
            self.assertEqual(got.headers["x-loudou-event"], got.json()["event"])
        created, won, paid = (got.json() for got in r.requests)
        self.assertEqual(created["deal"]["id"], deal.pk)
        self.assertEqual(created["actor"]["username"], "rep")
        self.assertEqual(won["deal"]["status"], "won")
        self.assertEqual(won["data"]["to_stage"], "won")
        self.assertEqual(paid["data"]["amount"], "100.00")

    def test_stage_changed_and_lost(self):
        with Receiver() as r:
            self.subscription(r.url, ["deal.stage_changed", "deal.lost", "deal.updated"])
            deal = self.make_deal()
            deal = ready_to_leave(deal, self.rep)
            run_tasks()
            r.requests.clear()
            self.committed(
                lambda: deals.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["needs"])
            )
            self.committed(lambda: deals.lose_deal(actor=self.rep, deal=deal, reason=self.price))
        events = [(g.json()["event"], g.json()["data"].get("to_stage")) for g in r.requests]
        self.assertEqual(
            events,
            [
                ("deal.stage_changed", "needs"),
                ("deal.stage_changed", "lost"),
                ("deal.lost", "lost"),
            ],
        )

    def test_nothing_for_a_refused_action(self):
        with Receiver() as r:
            self.subscription(r.url, ["deal.stage_changed"])
            deal = self.make_deal()
            with (
                self.captureOnCommitCallbacks(execute=True),
                self.assertRaises(deals.CriteriaNotMet),
            ):
                deals.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["needs"])
            run_tasks()
        self.assertEqual(r.requests, [])
        self.assertFalse(Delivery.objects.exists())

    def test_nothing_is_queued_when_nothing_listens(self):
        with self.captureOnCommitCallbacks(execute=True):
            self.make_deal()
        self.assertEqual(queued(), [])

    def test_a_dead_endpoint_never_fails_or_slows_the_users_action(self):
        self.subscription(dead_url(), ["deal.created", "deal.updated"])
        self.client.force_login(self.rep)
        with Receiver(delay=3) as slow:  # and one that hangs for 3 s
            self.subscription(slow.url, ["deal.created"])
            started = time.monotonic()
            with self.captureOnCommitCallbacks(execute=True):
                answer = self.client.post(
                    "/deals/new/",
                    {
                        "name": "Dead hook deal",
                        "amount": "1000",
                        "currency": "CNY",
                        "owner": self.rep.pk,
                        "stage": self.stages["contact"].pk,
                    },
                )
            took = time.monotonic() - started
            self.assertEqual(answer.status_code, 302, answer.content[:500])
            self.assertLess(took, 1.5)
            self.assertEqual(slow.requests, [])  # nothing was sent during the request
            run_tasks()
        dead = Delivery.objects.get(status=DeliveryStatus.RETRYING)
        self.assertIn("Connection", dead.last_error)
        self.assertEqual(dead.log.count(), 1)
        self.assertTrue(Delivery.objects.filter(status=DeliveryStatus.SENT).exists())
        self.assertGreater(dead.next_attempt_at, timezone.now() + dt.timedelta(seconds=20))
