"""Collection per deal on the web names each deal and links to it (it showed ids); the
downloads keep the id for programs."""

import datetime as dt

from django.test import TransactionTestCase
from django.utils import timezone

from loudou.core.testing import make_user
from loudou.deals import services
from loudou.people.models import Role
from loudou.reports import loader


class CollectionDealNameTests(TransactionTestCase):
    serialized_rollback = True

    def setUp(self):
        loader.clear_cache()
        self.addCleanup(loader.clear_cache)
        self.rep = make_user("rep")
        deal = services.create_deal(actor=self.rep, name="Acme <renewal>", amount="1000")
        admin = make_user("admin", role=Role.ADMIN)
        services.win_deal(actor=admin, deal=deal, override_reason="signed on paper")
        self.deal = deal
        services.record_payment(
            actor=self.rep, deal=deal, amount="400", paid_on=timezone.localdate()
        )
        self.client.force_login(self.rep)

    def test_the_page_links_each_deal_by_name(self):
        today = timezone.localdate()
        response = self.client.get(
            "/reports/",
            {
                "name": "collection",
                "by": "deal",
                "from": (today - dt.timedelta(days=30)).isoformat(),
                "to": (today + dt.timedelta(days=1)).isoformat(),
            },
            headers={"accept-language": "en"},
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(
            response, f'<a href="/deals/{self.deal.pk}/">Acme &lt;renewal&gt;</a>', html=True
        )

    def test_the_download_keeps_the_id(self):
        data = self.client.get("/reports/collection.json?by=deal").json()
        self.assertEqual([r["deal_id"] for r in data["rows"]], [self.deal.pk])
