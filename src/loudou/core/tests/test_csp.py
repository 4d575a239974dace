"""Content-Security-Policy: every page carries it, and no page needs what it forbids
(inline script, event-handler attributes, inline style), so the policy breaks nothing."""

from decimal import Decimal
from html.parser import HTMLParser

from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TransactionTestCase

from loudou.core.testing import LoudouClient, LoudouTestCase
from loudou.deals import services
from loudou.jobs.testing import run_tasks
from loudou.people.models import Role, User
from loudou.pipelines.models import Pipeline
from loudou.reports import loader

# Script elements of these types are data, never run, and allowed by any policy.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


class InlineCode(HTMLParser):
    """Collects what a policy without 'unsafe-inline' would block, or that htmx would eval."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on") or name.startswith("hx-on"):
                self.found.append(f"<{tag} {name}=...>")
            elif name == "style":
                self.found.append(f"<{tag} style=...>")
            elif (value or "").strip().lower().startswith(("javascript:", "js:")):
                self.found.append(f"<{tag} {name}={value}>")
        kind = (values.get("type") or "").lower()
        if tag == "script" and not values.get("src") and kind not in DATA_SCRIPT_TYPES:
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")


def directives(header: str) -> dict[str, list[str]]:
    parts = (p.split() for p in header.split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


class PolicyChecks:
    """Assertions shared by the test cases below."""

    def assertPolicyHolds(self, response, path: str) -> None:
        self.assertIn(response.status_code, {200, 429}, path)
        policy = directives(response["Content-Security-Policy"])
        self.assertEqual(policy["default-src"], ["'self'"], path)
        self.assertEqual(policy["script-src"], ["'self'"], path)
        self.assertEqual(policy["style-src"], ["'self'"], path)
        self.assertEqual(policy["frame-ancestors"], ["'none'"], path)
        self.assertEqual(policy["form-action"], ["'self'"], path)
        self.assertEqual(policy["object-src"], ["'none'"], path)
        scanner = InlineCode()
        scanner.feed(response.content.decode("utf-8"))
        self.assertEqual(scanner.found, [], path)

    def assertPagesHold(self, paths: list[str]) -> None:
        for path in paths:
            for lang in ("zh-CN", "en"):
                response = self.client.get(path, headers={"accept-language": lang})
                self.assertPolicyHolds(response, f"{path} ({lang})")


class PageTests(PolicyChecks, LoudouTestCase):
    def setUp(self):
        self.deal = self.make_deal(name="华为 ERP", amount=Decimal("120000"))
        self.won = self.make_deal(name="Won one")
        services.win_deal(actor=self.admin, deal=self.won, override_reason="set-up")
        # A second pipeline puts the pipeline picker on the board.
        Pipeline.objects.create(key="renewals", name_zh="续约", name_en="Renewals")

    def test_login_page(self):
        self.assertPagesHold(["/login/"])

    def test_pages_of_a_rep(self):
        self.client.force_login(self.rep)
        self.assertContains(self.client.get("/"), "data-autosubmit")
        self.assertPagesHold(
            [
                "/",
                "/deals/",
                f"/deals/{self.deal.pk}/",
                f"/deals/{self.won.pk}/",
                "/deals/new/",
            ]
        )

    def test_board_refreshed_by_htmx(self):
        self.client.force_login(self.rep)
        response = self.client.post(
            f"/deals/{self.deal.pk}/move/",
            {"stage": self.stages["needs"].pk, "version": self.deal.version, "from": "board"},
            headers={"hx-request": "true"},
        )
        self.assertPolicyHolds(response, "move from the board")
        self.assertPolicyHolds(self.client.get("/", headers={"hx-request": "true"}), "partial")

    def test_import_pages(self):
        self.client.force_login(self.manager)
        self.assertPagesHold(["/import/"])
        upload = SimpleUploadedFile(
            "deals.csv", b"name,owner,created_at\nA,rep,2024-01-01\n,rep,x\n"
        )
        with self.captureOnCommitCallbacks(execute=True):  # the check task is queued
            self.client.post("/import/", {"file": upload})
        run_tasks()
        from loudou.spreadsheets.models import ImportJob

        token = ImportJob.objects.get().token
        self.assertPagesHold([f"/import/{token}/"])

    def test_admin_pages(self):
        User.objects.filter(pk=self.admin.pk).update(is_staff=True, is_superuser=True)
        self.client.force_login(self.admin)
        self.assertPagesHold(
            [
                "/admin/",
                "/admin/deals/deal/",
                f"/admin/deals/deal/{self.deal.pk}/change/",
                "/admin/pipelines/pipeline/",
                f"/admin/pipelines/pipeline/{self.pipeline.pk}/change/",
                "/admin/people/user/add/",
            ]
        )

    def test_lockout_page(self):
        with self.settings(AXES_FAILURE_LIMIT=1):
            response = self.client.post("/login/", {"username": "rep", "password": "wrong"})
        self.assertEqual(response.status_code, 429)
        self.assertPolicyHolds(response, "lockout")

    def test_htmx_is_told_not_to_inject_styles_and_the_stylesheet_has_them(self):
        page = self.client.get("/login/").content.decode()
        self.assertIn('<meta name="htmx-config"', page)
        self.assertIn('"includeIndicatorStyles": false', page)
        with open(finders.find("loudou/app.css"), encoding="utf-8") as css:
            self.assertIn(".htmx-request .htmx-indicator", css.read())


class ReportPageTests(PolicyChecks, TransactionTestCase):
    # The report loader reads committed data from another process.
    serialized_rollback = True
    client_class = LoudouClient

    def setUp(self):
        loader.clear_cache()
        rep = User.objects.create_user(username="rep", password="x", role=Role.ADMIN)
        services.create_deal(actor=rep, name="mine", amount="100")
        self.client.force_login(rep)

    def tearDown(self):
        loader.clear_cache()

    def test_report_pages(self):
        self.assertPagesHold(
            ["/reports/", "/reports/?name=funnel&by=owner", "/reports/?name=stage_probability"]
        )
