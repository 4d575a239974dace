"""The deal page: contacts of its account (shown, added, edited), "Mark as won" disabled
with the reason, move choices labelled forward/back, no duplicate element ids."""

import datetime as dt
import re
from collections import Counter

from django.utils import timezone

from loudou.accounts.models import Contact
from loudou.activities.services import schedule_next_step
from loudou.core.testing import LoudouTestCase, ago
from loudou.deals import services

USERS = ("rep", "teammate", "manager", "other_manager", "outsider", "admin")


class ContactTests(LoudouTestCase):
    def test_add_and_edit_a_contact(self):
        deal = self.make_deal(account=self.account)
        allowed = {"rep", "manager", "admin"}
        for name in USERS:
            with self.subTest(user=name):
                self.client.force_login(getattr(self, name))
                before = Contact.objects.count()
                response = self.client.post(
                    f"/deals/{deal.pk}/contacts/",
                    {"name": f"张总 {name}", "title": "CTO", "is_decision_maker": "on"},
                )
                if name in allowed:
                    self.assertRedirects(response, f"/deals/{deal.pk}/")
                    self.assertEqual(Contact.objects.count(), before + 1)
                else:
                    self.assertEqual(response.status_code, 404)
                    self.assertEqual(Contact.objects.count(), before)
        contact = Contact.objects.get(name="张总 rep")
        self.assertTrue(contact.is_decision_maker)
        self.client.force_login(self.rep)
        self.client.post(
            f"/deals/{deal.pk}/contacts/",
            {"contact_id": contact.pk, "name": "张总", "email": "zhang@example.com"},
        )
        contact.refresh_from_db()
        self.assertEqual(
            (contact.name, contact.email, contact.title), ("张总", "zhang@example.com", "")
        )
        response = self.client.get(f"/deals/{deal.pk}/")
        self.assertContains(response, "zhang@example.com")

    def test_refusals(self):
        deal = self.make_deal(account=self.account)
        bare = self.make_deal(name="无客户")
        self.client.force_login(self.rep)
        other = Contact.objects.create(
            account=self.make_deal(account_name="别家").account, name="x"
        )
        cases = [
            (deal, {"name": ""}),
            (deal, {"name": "a", "email": "not-an-email"}),
            (deal, {"contact_id": other.pk, "name": "hijack"}),
            (bare, {"name": "孤儿"}),
        ]
        for target, data in cases:
            with self.subTest(data=data):
                response = self.client.post(f"/deals/{target.pk}/contacts/", data, follow=True)
                self.assertEqual(response.status_code, 200)
                self.assertTrue([m for m in response.context["messages"] if m.level_tag == "error"])
        other.refresh_from_db()
        self.assertEqual(other.name, "x")
        self.assertEqual(Contact.objects.count(), 1)


class DealPageTests(LoudouTestCase):
    def test_win_is_disabled_with_the_reason_for_a_rep(self):
        deal = self.make_deal()
        self.client.force_login(self.rep)
        response = self.client.get(f"/deals/{deal.pk}/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(response, "Not possible yet: 5 exit criteria above are unmet.")
        self.assertRegex(
            response.content.decode(),
            r'<button class="success" id="win-button" disabled aria-describedby="win-blocked">'
            r"Mark as won",
        )
        self.client.force_login(self.manager)  # may override with a reason
        response = self.client.get(f"/deals/{deal.pk}/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertNotContains(response, "disabled")

    def test_move_choices_say_forward_or_back(self):
        deal = self.make_deal(stage=self.stages["proposal"])
        self.client.force_login(self.rep)
        response = self.client.get(f"/deals/{deal.pk}/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(response, f"{self.stages['negotiation'].name_en} (forward)")
        self.assertContains(response, f"{self.stages['contact'].name_en} (back)")

    def test_no_duplicate_element_ids(self):
        deal = self.make_deal(account=self.account, stage=self.stages["negotiation"])
        Contact.objects.create(account=self.account, name="甲")
        Contact.objects.create(account=self.account, name="乙")
        self.client.force_login(self.manager)
        html = self.client.get(f"/deals/{deal.pk}/").content.decode()
        ids = Counter(re.findall(r'\sid="([^"]+)"', html))
        self.assertEqual([i for i, n in ids.items() if n > 1], [])


class ForecastCategoryTests(LoudouTestCase):
    def test_closed_is_translated_as_a_category_not_as_the_closing_time(self):
        from loudou.deals import services

        deal = self.make_deal()
        services.win_deal(actor=self.admin, deal=deal, override_reason="test set-up")
        self.client.force_login(self.rep)
        response = self.client.get(f"/deals/{deal.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
        self.assertContains(response, "<dt>预测类别</dt><dd>已成交</dd>", html=False)
        self.assertContains(response, "<dt>关闭时间</dt>")


class ApprovalHistoryTests(LoudouTestCase):
    def test_requests_and_direct_approvals_show_once_each(self):
        from loudou.deals import services

        deal = self.make_deal(stage=self.stages["negotiation"])
        services.request_approval(actor=self.rep, deal=deal, note="请批")
        services.decide_approval(
            actor=self.manager, request=deal.approval_requests.get(), approve=False, note="再等等"
        )
        services.approve_stage_exit(actor=self.admin, deal=deal, note="直接批准")
        self.client.force_login(self.rep)
        response = self.client.get(f"/deals/{deal.pk}/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(response, "请批", count=1)
        self.assertContains(response, "再等等", count=1)
        self.assertContains(response, "直接批准", count=1)
        self.assertContains(response, "approved leaving")
        self.assertNotContains(response, "/approval-request/")  # approved: nothing to ask


class NextStepDueTests(LoudouTestCase):
    """A next step's due words are Today's and the board's everywhere it is shown: the deal
    page too marks an overdue one (it only said "due <time>")."""

    def test_an_overdue_step_is_marked_on_the_deal_page(self):
        deal = self.make_deal()
        noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
        due = noon - dt.timedelta(days=4)  # four calendar days ago, whatever the time now
        schedule_next_step(actor=self.rep, deal=deal, type="call", due_at=due)
        self.client.force_login(self.rep)
        for language, words in (("zh-hans", "已逾期 4 天"), ("en", "overdue by 4 days")):
            with self.subTest(language=language):
                page = self.client.get(f"/deals/{deal.pk}/", HTTP_ACCEPT_LANGUAGE=language)
                self.assertContains(page, f'<span class="badge lost">{words}</span>', html=True)
        # The same words on Today.
        today = self.client.get("/today/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(today, '<span class="badge lost">overdue by 4 days</span>', html=True)

    def test_a_step_due_later_today_or_later_has_no_alarm(self):
        deal = self.make_deal()
        local = timezone.localtime()
        later_today = local.replace(hour=23, minute=59, second=0, microsecond=0)
        schedule_next_step(actor=self.rep, deal=deal, type="call", due_at=ago(-3))
        self.client.force_login(self.rep)
        page = self.client.get(f"/deals/{deal.pk}/", HTTP_ACCEPT_LANGUAGE="en")
        self.assertNotContains(page, "overdue by")
        self.assertNotContains(page, 'class="badge lost"')
        if later_today > local:
            schedule_next_step(actor=self.rep, deal=deal, type="visit", due_at=later_today)
            page = self.client.get(f"/deals/{deal.pk}/", HTTP_ACCEPT_LANGUAGE="en")
            self.assertContains(
                page, '<span class="badge warn">due today at 23:59</span>', html=True
            )


class MenuWordsTests(LoudouTestCase):
    """Menus say what they ask for: no Django "---------" placeholder, a back move is
    offered as one, and zh-Hans labels end with the full-width colon."""

    def page(self, deal, language="en"):
        self.client.force_login(self.rep)
        return self.client.get(f"/deals/{deal.pk}/", HTTP_ACCEPT_LANGUAGE=language)

    def test_the_last_open_stage_offers_back_moves_as_such(self):
        # Going on from the last open stage is winning: the card offers moves back only.
        deal = self.make_deal(stage=self.stages["negotiation"])
        for language, heading, label, prompt, back in (
            ("en", "Stage", "Move back to", "Choose a stage…", "Contract"),
            ("zh-hans", "阶段", "回退到", "选择阶段…", "方案报价（回退）"),
        ):
            with self.subTest(language=language):
                page = self.page(deal, language)
                self.assertNotContains(page, "---------")
                self.assertContains(page, f"<h2>{heading}</h2>", html=True)
                self.assertNotContains(page, "<h2>Move forward</h2>", html=True)
                self.assertContains(page, label)
                self.assertContains(page, f'<option value="" selected>{prompt}</option>', html=True)
                if language == "zh-hans":
                    self.assertContains(page, back)
        # With a stage ahead, it is the move forward, that stage chosen.
        page = self.page(self.make_deal(stage=self.stages["needs"]))
        self.assertContains(page, "<h2>Move forward</h2>", html=True)
        self.assertContains(
            page,
            f'<option value="{self.stages["proposal"].pk}" selected>'
            "Proposal &amp; quote (forward)</option>",
            html=True,
        )

    def test_lost_reason_and_reopen_menus_have_no_placeholder_dashes(self):
        deal = self.make_deal()
        for language, prompt in (("en", "Choose a reason…"), ("zh-hans", "选择原因…")):
            with self.subTest(language=language):
                page = self.page(deal, language)
                self.assertContains(page, f'<option value="" selected>{prompt}</option>', html=True)
                self.assertNotContains(page, "---------")
                dialog = self.client.get(
                    f"/deals/{deal.pk}/lose-dialog/", HTTP_ACCEPT_LANGUAGE=language
                )
                self.assertContains(dialog, prompt)
                self.assertNotContains(dialog, "---------")
        lost = self.make_deal(name="输了")
        services.lose_deal(actor=self.rep, deal=lost, reason=self.price)
        page = self.page(lost)
        self.assertContains(page, 'name="stage"')
        self.assertNotContains(page, "---------")
        self.assertContains(
            page,
            f'<option value="{self.stages["contact"].pk}" selected>Initial contact</option>',
            html=True,
        )

    def test_zh_hans_labels_end_with_a_full_width_colon(self):
        page = self.page(self.make_deal(), "zh-hans").content.decode()
        for label in ("类型：", "时间：", "结果：", "类别：", "文件："):
            self.assertIn(f"{label}</label>", page)
        self.assertNotIn("类型:</label>", page)
        english = self.page(self.make_deal(name="en"), "en").content.decode()
        self.assertIn("Type:</label>", english)
