"""Unless LOUDOU_NOTIFY_PRIVATE_ADDRESSES is on, nothing is sent to this machine or the
local network (a manager's channel must not make the server probe internal addresses),
and no redirect is followed."""

from django.test import override_settings

from loudou.jobs.testing import run_tasks
from loudou.notifications import services
from loudou.notifications.delivery import private_refusal
from loudou.notifications.models import Channel, DeliveryStatus

from .helpers import NotifyTestCase
from .receiver import Receiver


@override_settings(LOUDOU_NOTIFY_PRIVATE_ADDRESSES=False)
class PrivateAddressTests(NotifyTestCase):
    def test_private_hosts_are_refused(self):
        for url in (
            "http://127.0.0.1:8000/x",
            "http://localhost/x",
            "http://10.1.2.3/hook",
            "http://192.168.0.5/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/x",
        ):
            with self.subTest(url=url):
                self.assertIn("private address", private_refusal(url))
        self.assertEqual(private_refusal("http://8.8.8.8/hook"), "")

    def test_the_page_refuses_a_private_address(self):
        self.client.force_login(self.manager)
        answer = self.client.post(
            f"/notifications/teams/{self.north.pk}/channels/new/",
            {
                "name": "x",
                "kind": "webhook",
                "address": "http://127.0.0.1:9/hook",
                "secret": "s",
                "language": "en",
                "active": "on",
            },
        )
        self.assertEqual(answer.status_code, 200)
        self.assertIn("address", answer.context["form"].errors)
        self.assertFalse(Channel.objects.exists())

    def test_a_stored_private_address_fails_at_once_without_a_request(self):
        with Receiver() as r:
            channel = self.channel("webhook", r.url + "/hook", "s")  # stored before
            delivery = self.committed(
                lambda: services.send_test(actor=self.manager, channel=channel)
            )
        delivery.refresh_from_db()
        self.assertEqual(r.requests, [])
        self.assertEqual(delivery.status, DeliveryStatus.FAILED)  # no retries: fix it
        self.assertEqual(delivery.attempts, 1)
        self.assertIn("private address", delivery.last_error)


class RedirectTests(NotifyTestCase):
    def test_a_redirect_is_a_failure_not_followed(self):
        with Receiver() as target, Receiver(answers=[(302, b"")]) as hop:
            # The receiver answers 302 without Location: urllib must not follow anything.
            channel = self.channel("webhook", hop.url + "/hook", "s")
            delivery = self.committed(
                lambda: services.send_test(actor=self.manager, channel=channel)
            )
            run_tasks()
        delivery.refresh_from_db()
        self.assertEqual(delivery.status, DeliveryStatus.RETRYING)
        self.assertEqual(delivery.log.get().status_code, 302)
        self.assertEqual(target.requests, [])
