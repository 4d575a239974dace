"""Admins see every delivery and its attempts in the Django admin, subscribe webhooks to
events there, and never see a stored secret."""

from django.urls import reverse

from loudou.notifications.models import Attempt, Delivery, Subscription

from .helpers import NotifyTestCase


class AdminTests(NotifyTestCase):
    def setUp(self):
        self.admin.is_staff = self.admin.is_superuser = True
        self.admin.save()
        self.client.force_login(self.admin)

    def test_subscribing_a_url_to_events(self):
        answer = self.client.post(
            reverse("admin:notifications_subscription_add"),
            {
                "url": "https://erp.example.com/loudou",
                "description": "ERP",
                "secret": "erp-secret-value",
                "events": ["deal.won", "payment.recorded"],
                "active": "on",
            },
        )
        self.assertEqual(answer.status_code, 302, answer.content[:2000])
        subscription = Subscription.objects.get()
        self.assertEqual(subscription.events, ["deal.won", "payment.recorded"])
        page = self.client.get(
            reverse("admin:notifications_subscription_change", args=[subscription.pk])
        )
        self.assertNotContains(page, "erp-secret-value")
        # Saved again with the secret left blank: it is kept.
        self.client.post(
            reverse("admin:notifications_subscription_change", args=[subscription.pk]),
            {
                "url": subscription.url,
                "description": "ERP",
                "secret": "",
                "events": ["deal.won"],
                "active": "on",
            },
        )
        subscription.refresh_from_db()
        self.assertEqual(
            (subscription.secret, subscription.events), ("erp-secret-value", ["deal.won"])
        )

    def test_deliveries_and_attempts_are_listed(self):
        channel = self.channel("wecom", "wecom-key-secret-1234")
        delivery = Delivery.objects.create(channel=channel, kind="test", title="Hello", payload={})
        Attempt.objects.create(
            delivery=delivery,
            number=1,
            at=delivery.created_at,
            ok=False,
            status_code=502,
            error="bad gateway",
            duration_ms=12,
        )
        listing = self.client.get(reverse("admin:notifications_delivery_changelist"))
        self.assertContains(listing, "Hello")
        detail = self.client.get(reverse("admin:notifications_delivery_change", args=[delivery.pk]))
        self.assertContains(detail, "bad gateway")
        channels = self.client.get(reverse("admin:notifications_channel_changelist"))
        self.assertNotContains(channels, "wecom-key-secret-1234")
        self.assertContains(channels, "••••1234")

    def test_managers_have_no_admin(self):
        self.client.force_login(self.manager)
        answer = self.client.get(reverse("admin:notifications_delivery_changelist"))
        self.assertEqual(answer.status_code, 302)


class RetryNowTests(NotifyTestCase):
    def test_only_failed_deliveries_are_tried_again(self):
        from loudou.jobs.testing import queued
        from loudou.notifications.models import DeliveryStatus

        self.admin.is_staff = self.admin.is_superuser = True
        self.admin.save()
        self.client.force_login(self.admin)
        channel = self.channel("wecom", "wecom-key-secret-1234")
        failed = Delivery.objects.create(
            channel=channel, kind="test", payload={}, status=DeliveryStatus.FAILED, attempts=6
        )
        retrying = Delivery.objects.create(
            channel=channel, kind="test", payload={}, status=DeliveryStatus.RETRYING, attempts=2
        )
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post(
                reverse("admin:notifications_delivery_changelist"),
                {"action": "retry_now", "_selected_action": [failed.pk, retrying.pk]},
            )
        failed.refresh_from_db()
        retrying.refresh_from_db()
        self.assertEqual((failed.status, failed.attempts), (DeliveryStatus.PENDING, 0))
        self.assertEqual((retrying.status, retrying.attempts), (DeliveryStatus.RETRYING, 2))
        self.assertEqual(len(queued("deliver")), 1)
