"""Amounts are bounded by what the column can hold and give back (loudou/limits.py): one
rep's huge amount must never break a page for the team (issue 11)."""

from decimal import Decimal

from django.db import connection

from loudou.core.errors import InvalidInput
from loudou.core.testing import LoudouTestCase
from loudou.deals import services
from loudou.deals.models import Deal
from loudou.limits import MAX_AMOUNT

TOO_BIG = ["99999999999999.99", "999999999999999", "1e20", "1e30", "10000000000000"]


class AmountLimitTests(LoudouTestCase):
    def test_services_refuse_amounts_beyond_the_limit(self):
        for value in TOO_BIG:
            with self.subTest(value), self.assertRaises(InvalidInput) as ctx:
                self.make_deal(amount=value)
            self.assertIn("9,999,999,999,999.99", str(ctx.exception))
        deal = self.make_deal(amount=str(MAX_AMOUNT))
        deal.refresh_from_db()
        self.assertEqual(deal.amount, MAX_AMOUNT)  # the largest one reads back exactly

    def test_the_form_refuses_them_with_a_message(self):
        self.client.force_login(self.rep)
        for value in TOO_BIG:
            with self.subTest(value):
                response = self.client.post(
                    "/deals/new/",
                    {
                        "name": "Big",
                        "owner": self.rep.pk,
                        "stage": self.stages["contact"].pk,
                        "amount": value,
                    },
                    headers={"accept-language": "en"},
                )
                self.assertEqual(response.status_code, 200)
                self.assertContains(response, "at most 9,999,999,999,999.99")
        self.assertFalse(Deal.objects.exists())

    def test_payments_too(self):
        deal = self.make_deal(amount=None)
        services.win_deal(actor=self.admin, deal=deal, override_reason="x")
        with self.assertRaises(InvalidInput):
            services.record_payment(
                actor=self.rep, deal=deal, amount="1e20", paid_on=deal.closed_at.date()
            )

    def test_the_database_refuses_them_whatever_the_path(self):
        deal = self.make_deal()
        # Just above the limit but within the column: the named CHECK refuses it on both
        # databases. Far beyond the column, PostgreSQL's numeric(16,2) refuses it first
        # (a DataError) and SQLite's CHECK does (an IntegrityError): refused either way.
        for value in ("10000000000000", "1e20"):
            with self.subTest(value), self.assertDatabaseRefuses(), connection.cursor() as c:
                c.execute(f"UPDATE deals_deal SET amount = {value} WHERE id = %s", [deal.pk])
        self.client.force_login(self.rep)
        for url in ("/", "/deals/", f"/deals/{deal.pk}/", "/export/deals.csv"):
            self.assertEqual(self.client.get(url).status_code, 200, url)

    def test_the_admin_refuses_them_for_quotas(self):
        from loudou.people.models import Quota

        self.admin.is_staff = True
        self.admin.is_superuser = True
        self.admin.save()
        self.client.force_login(self.admin)
        form = {
            "user": self.rep.pk,
            "period_start": "2026-01-01",
            "period_end": "2026-04-01",
            "currency": "CNY",
        }
        response = self.client.post("/admin/people/quota/add/", form | {"amount": "1e20"})
        self.assertEqual(response.status_code, 200)  # the form again, with the error
        self.assertFalse(Quota.objects.exists())
        self.client.post("/admin/people/quota/add/", form | {"amount": "500000"})
        self.assertEqual(Quota.objects.get().amount, Decimal("500000"))
