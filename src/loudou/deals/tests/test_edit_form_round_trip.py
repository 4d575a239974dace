"""The edit form, rendered in zh-Hans and posted back unchanged, keeps every field (dates
included: a date input only takes ISO values)."""

import datetime as dt
from decimal import Decimal
from html.parser import HTMLParser

from loudou.core.testing import LoudouTestCase
from loudou.deals.models import Deal
from loudou.pipelines.models import CustomField


class _Form(HTMLParser):
    """The fields of the form posting to ``action``: name -> value, as a browser sends."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.select = action, False, None
        self.data: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("action") == self.action
        elif self.inside and tag == "input" and attrs.get("name"):
            if attrs.get("type") == "checkbox" and "checked" not in attrs:
                return
            self.data[attrs["name"]] = attrs.get("value") or ""
        elif self.inside and tag == "select":
            self.select = attrs.get("name")
            self.data.setdefault(self.select, "")
        elif self.inside and tag == "option" and self.select and "selected" in attrs:
            self.data[self.select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None


class EditRoundTripTests(LoudouTestCase):
    def test_posting_the_zh_hans_form_back_keeps_every_field(self):
        CustomField.objects.create(key="signed_on", name_zh="签约日", name_en="Signed", type="date")
        deal = self.make_deal(
            name="华为扩容",
            amount=Decimal("120000.50"),
            expected_close_date=dt.date(2027, 1, 15),
            source="展会",
            account=self.account,
            custom={"budget": 90000, "decision_maker": "王总", "signed_on": "2026-12-01"},
        )
        before = Deal.objects.values().get(pk=deal.pk)
        self.client.force_login(self.rep)
        page = self.client.get(f"/deals/{deal.pk}/", headers={"accept-language": "zh-hans"})
        html = page.content.decode()
        self.assertIn('value="2027-01-15"', html)
        self.assertIn('value="2026-12-01"', html)
        form = _Form(f"/deals/{deal.pk}/edit/")
        form.feed(html)
        self.assertEqual(form.data["expected_close_date"], "2027-01-15")
        response = self.client.post(
            f"/deals/{deal.pk}/edit/", form.data, headers={"accept-language": "zh-hans"}
        )
        self.assertEqual(response.status_code, 302)
        after = Deal.objects.values().get(pk=deal.pk)
        self.assertEqual(after["version"], before["version"] + 1)  # saved, and nothing lost:
        for key in ("version", "updated_at"):
            before.pop(key)
            after.pop(key)
        self.assertEqual(after, before)

    def test_the_payment_date_is_iso_too(self):
        deal = self.make_deal()
        from loudou.deals import services

        services.win_deal(actor=self.admin, deal=deal, override_reason="x")
        self.client.force_login(self.rep)
        page = self.client.get(f"/deals/{deal.pk}/", headers={"accept-language": "zh-hans"})
        form = _Form(f"/deals/{deal.pk}/payments/")
        form.feed(page.content.decode())
        dt.date.fromisoformat(form.data["paid_on"])  # ISO, or this raises
