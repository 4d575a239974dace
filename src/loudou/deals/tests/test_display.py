"""How the deal page, the list, the board, Today and the approval queue show values (a
user walk's findings): "Mark as won" looks disabled and says why; custom numbers and dates
are formatted in the user's language; a deal without an amount shows "—", never "— CNY";
one date format per language on the deal page; probabilities as percentages."""

import datetime as dt
import re
from decimal import Decimal
from html import unescape
from pathlib import Path

from django.core.files.base import ContentFile
from django.utils import timezone

from loudou.activities.services import log_activity, schedule_next_step
from loudou.core.testing import LoudouTestCase, ago
from loudou.deals import services
from loudou.pipelines.models import CustomField, FieldType

CSS = Path(__file__).resolve().parents[2] / "core" / "static" / "loudou" / "app.css"


def visible(response) -> str:
    """The page's text as a reader sees it: no scripts, tags, attributes or input values."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))


class WinButtonTests(LoudouTestCase):
    def test_a_rep_sees_a_disabled_looking_button_and_why(self):
        deal = self.make_deal()
        self.client.force_login(self.rep)
        for language, reason in (
            ("en", "Not possible yet: 5 exit criteria above are unmet."),
            ("zh-hans", "暂不能标记为赢单：上面还有 5 项升迁标志未满足。"),
        ):
            with self.subTest(language=language):
                response = self.client.get(f"/deals/{deal.pk}/", HTTP_ACCEPT_LANGUAGE=language)
                html = response.content.decode()
                button = re.search(r"<button[^>]*win-button[^>]*>[^<]*</button>", html)
                self.assertIsNotNone(button, "the win button")
                self.assertIn(" disabled", button[0])
                self.assertIn('aria-describedby="win-blocked"', button[0])
                self.assertRegex(html, rf'<span id="win-blocked" class="blocked">{reason}</span>')
        # It looks disabled: a rule greys out disabled buttons, coloured ones included.
        css = CSS.read_text()
        rule = re.search(r"([^{}]*button[^{}]*:disabled[^{}]*)\{([^}]*)\}", css)
        self.assertIsNotNone(rule, "app.css styles disabled buttons")
        self.assertIn("button.success:disabled", rule[1])
        self.assertIn("cursor:not-allowed", rule[2].replace(" ", ""))

    def test_a_manager_may_win_with_an_override_and_is_told_so(self):
        deal = self.make_deal()
        self.client.force_login(self.manager)
        response = self.client.get(f"/deals/{deal.pk}/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertNotContains(response, "disabled")
        self.assertContains(
            response, "The criteria above are unmet: winning now needs an override reason."
        )

    def test_nothing_is_said_when_the_criteria_are_met(self):
        deal = self.make_deal(stage=self.stages["negotiation"])
        services.approve_stage_exit(actor=self.manager, deal=deal)
        deal.refresh_from_db()
        self.client.force_login(self.rep)
        response = self.client.get(f"/deals/{deal.pk}/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertNotContains(response, "win-blocked")
        self.assertNotContains(response, "disabled")


class CustomFieldTests(LoudouTestCase):
    def test_numbers_dates_and_yes_no_in_the_users_language(self):
        CustomField.objects.create(
            key="signed_on", name_zh="签约日", name_en="Signed on", type=FieldType.DATE
        )
        CustomField.objects.create(
            key="tender", name_zh="招标", name_en="Tender", type=FieldType.BOOLEAN
        )
        CustomField.objects.create(
            key="share", name_zh="份额", name_en="Share", type=FieldType.NUMBER
        )
        deal = self.make_deal()
        deal = services.update_deal(
            actor=self.rep,
            deal=deal,
            expected_version=deal.version,
            changes={
                "custom": {
                    "budget": "1234567.00",
                    "share": "1234.5",
                    "signed_on": "2026-11-30",
                    "tender": True,
                }
            },
        )
        self.client.force_login(self.rep)
        cases = {
            "en": ["1,234,567", "1,234.50", "Nov. 30, 2026", "Yes"],
            "zh-hans": ["1,234,567", "1,234.50", "2026年11月30日", "是"],
        }
        for language, shown in cases.items():
            with self.subTest(language=language):
                response = self.client.get(f"/deals/{deal.pk}/", HTTP_ACCEPT_LANGUAGE=language)
                facts = re.search(r'<dl class="facts">.*?</dl>', response.content.decode(), re.S)
                for text in shown:
                    self.assertIn(f"<dd>{text}</dd>", facts[0])
                for raw in ("1234567", "1234.5<", "2026-11-30", "True"):
                    self.assertNotIn(raw, facts[0])


class MissingAmountTests(LoudouTestCase):
    def test_a_missing_amount_is_a_dash_without_a_currency_everywhere(self):
        deal = self.make_deal(name="无金额", amount=None, stage=self.stages["negotiation"])
        services.request_approval(actor=self.rep, deal=deal, note="请批")
        pages = {
            self.rep: ["/", "/deals/", f"/deals/{deal.pk}/", "/today/"],
            self.manager: ["/approvals/", "/today/", "/"],
        }
        for user, urls in pages.items():
            self.client.force_login(user)
            for url in urls:
                with self.subTest(user=user.username, url=url):
                    response = self.client.get(url)
                    self.assertContains(response, "无金额")
                    text = re.sub(r"\s+", " ", visible(response))
                    self.assertNotRegex(text, r"—\s*CNY")
        # A deal with an amount still shows its currency.
        self.client.force_login(self.rep)
        self.make_deal(name="有金额", amount=Decimal("1200"))
        self.assertContains(self.client.get("/deals/"), "1,200.00 CNY")


class DateFormatTests(LoudouTestCase):
    def test_one_date_format_per_language_on_the_deal_page(self):
        deal = self.make_deal(
            account=self.account,
            expected_close_date=timezone.localdate() + dt.timedelta(days=30),
            at=ago(10),
        )
        log_activity(actor=self.rep, deal=deal, type="call", at=ago(2))
        schedule_next_step(
            actor=self.rep, deal=deal, type="visit", due_at=timezone.now() + dt.timedelta(days=2)
        )
        services.attach_file(
            actor=self.rep, deal=deal, kind="quote", file=ContentFile(b"%PDF", name="q.pdf")
        )
        services.approve_stage_exit(actor=self.manager, deal=deal, note="ok")
        won = self.make_deal(name="已赢", at=ago(5))
        services.win_deal(actor=self.admin, deal=won, override_reason="test set-up")
        services.record_payment(actor=self.rep, deal=won, amount="10", paid_on=timezone.localdate())
        self.client.force_login(self.manager)
        iso = r"\b\d{4}-\d{2}-\d{2}\b"
        for pk in (deal.pk, won.pk):
            en = visible(self.client.get(f"/deals/{pk}/", HTTP_ACCEPT_LANGUAGE="en"))
            zh = visible(self.client.get(f"/deals/{pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans"))
            with self.subTest(deal=pk):
                self.assertNotRegex(en, iso)
                self.assertNotRegex(en, r"\b\d{2}/\d{2}/\d{4}\b")
                self.assertNotRegex(zh, iso)
                self.assertNotRegex(zh, r"\b[A-Z][a-z]{2}\.? \d{1,2}, \d{4}")
                # Every date is written the language's one way (with a time where it has one).
                self.assertGreaterEqual(len(re.findall(r"\d{4}年\d{1,2}月\d{1,2}日", zh)), 4)
                self.assertGreaterEqual(
                    len(re.findall(r"\b(?:[A-Z][a-z]{2,4}\.?|May) \d{1,2}, \d{4}", en)), 4
                )
        # The next step, the activity, the approval and the attachment, as one format.
        zh = visible(self.client.get(f"/deals/{deal.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans"))
        self.assertRegex(zh, r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}")
        en = visible(self.client.get(f"/deals/{deal.pk}/", HTTP_ACCEPT_LANGUAGE="en"))
        self.assertRegex(en, r"\b[A-Z][a-z]{2,4}\.? \d{1,2}, \d{4}, \d{2}:\d{2}")


class ProbabilityTests(LoudouTestCase):
    def test_probabilities_show_as_percentages(self):
        deal = self.make_deal(stage=self.stages["needs"])
        probability = self.stages["needs"].probability
        percent = f"{probability * 100:.0f}%"
        self.client.force_login(self.rep)
        for url in ("/", "/deals/", f"/deals/{deal.pk}/"):
            with self.subTest(url=url):
                text = visible(self.client.get(url, HTTP_ACCEPT_LANGUAGE="en"))
                for raw in {str(probability), str(probability.normalize())}:
                    self.assertNotRegex(text, rf"(?<![\d,.]){re.escape(raw)}(?![\d%])")
                if url == "/":  # the board's columns say their stage's probability
                    self.assertIn(f"({percent})", text)
