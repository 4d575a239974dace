"""The board: filters and search, totals (count, amount, weighted), badges, lazy paging,
and the "still needed" dialog of a drop on a blocked stage, Won and Lost; who may."""

import datetime as dt
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from loudou.activities.services import log_activity, schedule_next_step
from loudou.core.testing import LoudouTestCase, ago
from loudou.deals import board
from loudou.deals.models import ApprovalRequest, Deal
from loudou.pipelines.models import ExitCriterion

USERS = ("rep", "teammate", "manager", "other_manager", "outsider", "admin")
HTMX = {"HX-Request": "true"}


def columns(response):
    return {c.stage.key: c for c in response.context["columns"]}


def names(response):
    return {d.name for c in response.context["columns"] for d in c.deals}


class FilterTests(LoudouTestCase):
    def setUp(self):
        self.client.force_login(self.manager)
        today = timezone.localdate()
        self.a = self.make_deal(name="Alpha", source="展会", expected_close_date=today)
        self.b = self.make_deal(
            owner=self.teammate, name="Beta", expected_close_date=today - dt.timedelta(days=40)
        )
        self.c = self.make_deal(name="Gamma", account=self.account, at=ago(60))
        schedule_next_step(actor=self.rep, deal=self.a, type="call", due_at=ago(1))

    def test_each_filter(self):
        cases = {
            f"owner={self.teammate.pk}": {"Beta"},
            f"team={self.north.pk}": {"Alpha", "Beta", "Gamma"},
            "source=展会": {"Alpha"},
            "period=this_month": {"Alpha"},
            "period=overdue": {"Beta"},
            "period=none": {"Gamma"},
            "no_next_step=1": {"Beta", "Gamma"},
            "stale=1": {"Gamma"},
            "q=华为": {"Gamma"},
            "q=alp": {"Alpha"},
            # Unknown values are ignored, never an error.
            "owner=999999&period=someday&team=x": {"Alpha", "Beta", "Gamma"},
            f"owner={self.outsider.pk}": {"Alpha", "Beta", "Gamma"},  # not theirs to filter
        }
        for query, expected in cases.items():
            with self.subTest(query=query):
                response = self.client.get(f"/?{query}")
                self.assertEqual(response.status_code, 200)
                self.assertEqual(names(response), expected)

    def test_totals_and_badges(self):
        response = self.client.get("/", HTTP_ACCEPT_LANGUAGE="en")
        contact = columns(response)["contact"]
        self.assertEqual((contact.count, contact.amount), (3, Decimal("30000")))
        self.assertEqual(contact.weighted, Decimal("30000") * contact.stage.probability)
        self.assertEqual(response.context["total"], Decimal("30000"))
        cards = {d.name: d for d in contact.deals}
        self.assertTrue(cards["Beta"].overdue)
        self.assertTrue(cards["Gamma"].stale)
        limit = cards["Gamma"].stage.rot_days
        self.assertEqual(
            cards["Gamma"].stale_reason,
            f"untouched for 60 days; this stage's limit is {limit} days",
        )
        self.assertFalse(cards["Alpha"].no_next_step)
        self.assertTrue(cards["Beta"].no_next_step)
        self.assertContains(
            response, f'title="untouched for 60 days; this stage&#x27;s limit is {limit} days"'
        )
        self.assertContains(response, "no next step")


class PagingTests(LoudouTestCase):
    def test_a_column_shows_a_page_and_loads_more(self):
        for i in range(board.CARDS_PER_PAGE + 5):
            self.make_deal(name=f"d{i:03d}")
        self.client.force_login(self.rep)
        response = self.client.get("/")
        contact = columns(response)["contact"]
        self.assertEqual((contact.count, len(contact.deals), contact.more), (55, 50, True))
        url = f"/board/column/{contact.stage.pk}/?offset=50"
        self.assertContains(response, url)
        more = self.client.get(url)
        self.assertEqual(len(more.context["column"].deals), 5)
        self.assertFalse(more.context["column"].more)
        self.client.force_login(self.outsider)
        self.assertEqual(len(self.client.get(url.replace("50", "0")).context["column"].deals), 0)


class DialogTests(LoudouTestCase):
    def test_fill_the_missing_fields_in_the_dialog_and_the_deal_moves(self):
        deal = self.make_deal(name="拖动", stage=self.stages["needs"])
        self.client.force_login(self.rep)
        response = self.client.post(
            f"/deals/{deal.pk}/move/",
            {"stage": self.stages["proposal"].pk, "version": deal.version, "from": "board"},
            headers=HTMX,
        )
        fixes = response.context["fixes"]
        inputs = {f.input_name for f in fixes if f.kind == "field"}
        self.assertIn("field__custom.budget", inputs)
        # Only one of two given: the dialog stays, saying what is left.
        response = self.client.post(
            f"/deals/{deal.pk}/move-fix/",
            {
                "to": self.stages["proposal"].pk,
                "version": deal.version,
                "field__custom.budget": "5",
            },
            headers=HTMX,
        )
        self.assertTemplateUsed(response, "deals/_move_dialog.html")
        deal.refresh_from_db()
        self.assertEqual((deal.stage.key, deal.custom.get("budget")), ("needs", 5))
        response = self.client.post(
            f"/deals/{deal.pk}/move-fix/",
            {
                "to": self.stages["proposal"].pk,
                "version": deal.version,
                "field__custom.decision_maker": "王总",
            },
            headers=HTMX,
        )
        self.assertTemplateUsed(response, "deals/_board.html")
        self.assertEqual(response["HX-Retarget"], "#board")
        self.assertIn("loudou:closeDialog", response["HX-Trigger"])
        deal.refresh_from_db()
        self.assertEqual(deal.stage.key, "proposal")

    def test_log_upload_and_ask_for_approval_in_the_dialog(self):
        deal = self.make_deal(name="赢单", stage=self.stages["proposal"])
        self.client.force_login(self.rep)
        response = self.client.post(
            f"/deals/{deal.pk}/win/", {"version": deal.version, "from": "board"}, headers=HTMX
        )
        kinds = {f.kind for f in response.context["fixes"]}
        self.assertIn("attachment", kinds)
        response = self.client.post(
            f"/deals/{deal.pk}/move-fix/",
            {
                "to": self.stages["negotiation"].pk,
                "version": deal.version,
                "log_activity": "call",
                "attachment_kind": "quote",
                "attachment": SimpleUploadedFile("q.pdf", b"%PDF"),
            },
            headers=HTMX,
        )
        deal.refresh_from_db()
        self.assertEqual(deal.activities.count(), 1)
        self.assertEqual(deal.attachments.get().kind, "quote")
        self.assertEqual(deal.stage.key, "negotiation")
        # Winning from negotiation needs a manager's approval: ask for it in the dialog.
        response = self.client.post(
            f"/deals/{deal.pk}/move-fix/",
            {"to": "won", "version": deal.version, "ask_approval": "1", "approval_note": "请批"},
            headers=HTMX,
        )
        self.assertTemplateUsed(response, "deals/_move_dialog.html")
        self.assertEqual(ApprovalRequest.objects.get(deal=deal).note, "请批")
        self.assertContains(response, 'data-kind="approval"')
        deal.refresh_from_db()
        self.assertEqual(deal.status, "open")

    def test_manager_override_with_a_reason(self):
        deal = self.make_deal(name="强推")
        self.client.force_login(self.manager)
        response = self.client.post(
            f"/deals/{deal.pk}/move-fix/",
            {"to": self.stages["needs"].pk, "override_reason": "客户紧急"},
            headers=HTMX,
        )
        self.assertTemplateUsed(response, "deals/_board.html")
        deal.refresh_from_db()
        self.assertEqual(deal.stage.key, "needs")
        self.assertContains(
            self.client.get("/", HTTP_ACCEPT_LANGUAGE="en"), "Override reason", count=0
        )

    def test_lost_zone_asks_the_reason(self):
        deal = self.make_deal(name="输单")
        self.client.force_login(self.rep)
        response = self.client.get(f"/deals/{deal.pk}/lose-dialog/")
        self.assertContains(response, 'name="reason"')
        response = self.client.post(
            f"/deals/{deal.pk}/lose/",
            {"version": deal.version, "from": "board", "reason": self.price.pk},
            headers=HTMX,
        )
        self.assertTemplateUsed(response, "deals/_board.html")
        deal.refresh_from_db()
        self.assertEqual(deal.status, "lost")

    def test_who_may_use_the_dialog(self):
        deal = self.make_deal(name="权限")
        for name in USERS:
            with self.subTest(user=name):
                self.client.force_login(getattr(self, name))
                response = self.client.post(
                    f"/deals/{deal.pk}/move-fix/",
                    {"to": self.stages["needs"].pk, "field__source": "官网"},
                    headers=HTMX,
                )
                dialog = self.client.get(f"/deals/{deal.pk}/lose-dialog/")
                if name in ("rep", "manager", "admin"):
                    self.assertEqual(response.status_code, 200)
                    self.assertEqual(dialog.status_code, 200)
                else:
                    self.assertEqual(response.status_code, 404)
                    self.assertEqual(dialog.status_code, 404)
        self.assertEqual(Deal.objects.get(pk=deal.pk).stage.key, "contact")

    def test_bad_input_in_the_dialog_is_a_message(self):
        deal = self.make_deal(name="坏输入", stage=self.stages["needs"])
        self.client.force_login(self.rep)
        response = self.client.post(
            f"/deals/{deal.pk}/move-fix/",
            {"to": self.stages["proposal"].pk, "field__custom.budget": "many"},
            headers=HTMX,
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'class="msg error"')
        log_activity(actor=self.rep, deal=deal, type="call")
        deal.refresh_from_db()
        self.assertEqual(deal.stage.key, "needs")


class DialogWordsTests(LoudouTestCase):
    """The dialog says what a submit left missing, and counts activities down."""

    def test_an_empty_submit_says_what_is_missing(self):
        # 方案报价 needs a quote: "Save and move" without choosing the file.
        deal = self.make_deal(name="空提交", stage=self.stages["proposal"])
        self.client.force_login(self.rep)
        for language, words, hint in (
            ("zh-hans", "未推进：下面还缺的条件都还没有提供。", "未选择文件。"),
            ("en", "Not moved: nothing was given for what is still needed below.", "No file"),
        ):
            with self.subTest(language=language):
                response = self.client.post(
                    f"/deals/{deal.pk}/move-fix/",
                    {"to": self.stages["negotiation"].pk, "version": deal.version},
                    headers={**HTMX, "accept-language": language},
                )
                self.assertTemplateUsed(response, "deals/_move_dialog.html")
                self.assertContains(response, words)
                self.assertContains(response, hint)
        # Opening the dialog (a drop) reproaches nothing.
        response = self.client.post(
            f"/deals/{deal.pk}/move/",
            {"stage": self.stages["negotiation"].pk, "version": deal.version, "from": "board"},
            headers={**HTMX, "accept-language": "en"},
        )
        self.assertNotContains(response, "Not moved")
        self.assertNotContains(response, "No file chosen.")
        deal.refresh_from_db()
        self.assertEqual(deal.stage.key, "proposal")

    def test_activities_needed_are_counted_down_until_the_move(self):
        ExitCriterion.objects.filter(stage=self.stages["contact"]).update(
            activity_type="visit", min_count=2
        )
        deal = self.make_deal(name="两次拜访")
        self.client.force_login(self.rep)
        en = {**HTMX, "accept-language": "en"}
        response = self.client.post(
            f"/deals/{deal.pk}/move/",
            {"stage": self.stages["needs"].pk, "version": deal.version, "from": "board"},
            headers=en,
        )
        self.assertContains(response, "Log a Visit now (2 more needed)")
        fix = {"to": self.stages["needs"].pk, "log_activity": "visit"}
        response = self.client.post(f"/deals/{deal.pk}/move-fix/", fix, headers=en)
        self.assertTemplateUsed(response, "deals/_move_dialog.html")
        self.assertContains(response, "Activity logged.")
        self.assertContains(response, "Log a Visit now (1 more needed)")
        self.assertContains(response, "Not moved yet: 1 criterion below is still unmet.")
        zh = self.client.post(
            f"/deals/{deal.pk}/move/",
            {"stage": self.stages["needs"].pk, "version": deal.version, "from": "board"},
            headers={**HTMX, "accept-language": "zh-hans"},
        )
        self.assertContains(zh, "现在记录一次拜访（还需 1 次）")
        response = self.client.post(f"/deals/{deal.pk}/move-fix/", fix, headers=en)
        self.assertTemplateUsed(response, "deals/_board.html")
        deal.refresh_from_db()
        self.assertEqual((deal.stage.key, deal.activities.count()), ("needs", 2))

    def test_two_activity_criteria_log_their_own_types(self):
        # Skipping a stage: each stage's activity is logged as its own type.
        ExitCriterion.objects.filter(stage=self.stages["contact"]).update(activity_type="visit")
        ExitCriterion.objects.create(
            stage=self.stages["needs"], kind="activity", activity_type="meeting", min_count=1
        )
        deal = self.make_deal(name="两种活动", custom={"budget": 1, "decision_maker": "王总"})
        self.client.force_login(self.rep)
        response = self.client.post(
            f"/deals/{deal.pk}/move-fix/",
            {
                "to": self.stages["proposal"].pk,
                "log_activity": ["visit", "meeting"],
                "activity_note__meeting": "见了 CTO",
            },
            headers=HTMX,
        )
        self.assertTemplateUsed(response, "deals/_board.html")
        self.assertEqual(
            sorted(deal.activities.values_list("type", "note")),
            [("meeting", "见了 CTO"), ("visit", "")],
        )


class QueryBoundTests(LoudouTestCase):
    def test_filtered_board_and_more_cards_do_not_grow_with_deals(self):
        self.client.force_login(self.manager)
        query = f"/?no_next_step=1&stale=1&period=this_month&q=d&team={self.north.pk}"
        self.make_deal(name="d0")
        column = f"/board/column/{self.stages['contact'].pk}/?offset=0&stale=1"
        self.client.get(query)  # warm caches
        with CaptureQueriesContext(connection) as few:
            self.client.get(query)
        with CaptureQueriesContext(connection) as few_more:
            self.client.get(column)
        for i in range(12):
            self.make_deal(name=f"d{i + 1}", at=ago(40), expected_close_date=timezone.localdate())
        with self.assertNumQueries(len(few)):
            response = self.client.get(query)
        self.assertEqual(columns(response)["contact"].count, 12)
        with self.assertNumQueries(len(few_more)):
            self.client.get(column)
