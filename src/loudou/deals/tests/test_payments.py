"""Payments collected (回款) against won deals."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from loudou.core.errors import InvalidInput, NotAllowed
from loudou.core.testing import LoudouTestCase
from loudou.deals import services


class PaymentTests(LoudouTestCase):
    def setUp(self):
        self.deal = self.make_deal(amount="1000")
        services.win_deal(actor=self.admin, deal=self.deal, override_reason="signed")
        self.today = timezone.localdate()

    def test_record_payments_up_to_the_amount(self):
        services.record_payment(actor=self.rep, deal=self.deal, amount="600", paid_on=self.today)
        p = services.record_payment(actor=self.rep, deal=self.deal, amount=400, paid_on=self.today)
        self.assertEqual(p.amount, Decimal("400.00"))
        with self.assertRaises(InvalidInput) as ctx:
            services.record_payment(
                actor=self.rep, deal=self.deal, amount="0.01", paid_on=self.today
            )
        self.assertIn("amount", ctx.exception.errors)
        self.assertEqual(self.deal.payments.count(), 2)

    def test_only_won_deals(self):
        open_deal = self.make_deal()
        with self.assertRaises(InvalidInput):
            services.record_payment(actor=self.rep, deal=open_deal, amount="1", paid_on=self.today)

    def test_positive_amount_and_no_future_date(self):
        for bad in ("0", "-5", "abc"):
            with self.assertRaises(InvalidInput):
                services.record_payment(
                    actor=self.rep, deal=self.deal, amount=bad, paid_on=self.today
                )
        with self.assertRaises(InvalidInput):
            services.record_payment(
                actor=self.rep,
                deal=self.deal,
                amount="1",
                paid_on=self.today + dt.timedelta(days=2),
            )

    def test_outsider_cannot_record(self):
        with self.assertRaises(NotAllowed):
            services.record_payment(
                actor=self.outsider, deal=self.deal, amount="1", paid_on=self.today
            )
