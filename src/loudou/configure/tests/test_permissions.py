"""Who may open and change each settings page: admins everything, managers their teams'
quotas, nobody else anything; and the Django admin is for superusers only."""

from decimal import Decimal

from loudou.core.testing import LoudouTestCase
from loudou.core.tests.test_csp import InlineCode
from loudou.people.models import Quota, User
from loudou.pipelines.models import CustomField, ExitCriterion, Pipeline

ROLES = ("rep", "teammate", "manager", "other_manager", "outsider", "admin")
ADMIN_PAGES = (
    "/settings/pipelines/",
    "/settings/pipelines/{pipeline}/",
    "/settings/fields/",
    "/settings/users/",
    "/settings/lost-reasons/",
)
# page -> the roles that may open it
MATRIX = {
    "/settings/": {"manager", "other_manager", "admin"},
    "/settings/quotas/": {"manager", "other_manager", "admin"},
    **{page: {"admin"} for page in ADMIN_PAGES},
}


class SettingsPermissionTests(LoudouTestCase):
    def path(self, page: str) -> str:
        return page.format(pipeline=self.pipeline.pk)

    def test_every_page_for_every_role(self):
        for role in ROLES:
            self.client.force_login(getattr(self, role))
            for page, allowed in MATRIX.items():
                with self.subTest(role=role, page=page):
                    response = self.client.get(self.path(page))
                    self.assertEqual(response.status_code, 200 if role in allowed else 403)
                    if response.status_code == 200:
                        parser = InlineCode()
                        parser.feed(response.content.decode())
                        self.assertEqual(parser.found, [])

    def test_anonymous_is_sent_to_login(self):
        for page in MATRIX:
            self.assertEqual(self.client.get(self.path(page)).status_code, 302)

    def test_changes_are_refused_to_all_but_admins(self):
        stage = self.stages["contact"]
        criterion = ExitCriterion.objects.get(stage=stage)
        posts = [
            ("/settings/pipelines/", {"key": "x", "name_zh": "新", "name_en": "New"}),
            (
                f"/settings/stages/{stage.pk}/",
                {"name_zh": "改", "name_en": "Changed", "probability": "50", "rot_days": "3"},
            ),
            (f"/settings/stages/{stage.pk}/criteria/", {"kind": "approval"}),
            (f"/settings/criteria/{criterion.pk}/", {"kind": "approval"}),
            (f"/settings/stages/{stage.pk}/archive/", {}),
            (f"/settings/pipelines/{self.pipeline.pk}/order/", {"order": ""}),
            ("/settings/fields/", {"key": "k", "name_zh": "字", "name_en": "F", "type": "text"}),
            ("/settings/users/", {"username": "new", "password": "a-long-passphrase-9"}),
            (f"/settings/users/{self.rep.pk}/", {"role": "admin"}),
            (f"/settings/users/{self.rep.pk}/password/", {"password": "a-long-passphrase-9"}),
            (f"/settings/users/{self.rep.pk}/reset-link/", {}),
            ("/settings/teams/", {"name": "West"}),
            ("/settings/lost-reasons/", {"key": "k", "name_zh": "原因", "name_en": "R"}),
        ]
        posts.append(("/settings/quotas/", {"year": "2026", f"q-{self.rep.pk}-2026-01-01": "9"}))
        posts.append(("/settings/quotas/", {"year": "2026", f"t-{self.north.pk}-2026-01-01": "9"}))
        criteria = ExitCriterion.objects.count()
        for role in ("rep", "teammate", "manager", "other_manager", "outsider"):
            self.client.force_login(getattr(self, role))
            for path, data in posts:
                if path == "/settings/quotas/" and role in ("manager", "other_manager"):
                    continue  # their own teams' quotas: test_a_manager_sets_quotas_...
                with self.subTest(role=role, path=path):
                    self.assertEqual(self.client.post(path, data).status_code, 403)
        self.assertEqual(Pipeline.objects.count(), 1)
        stage.refresh_from_db()
        self.assertEqual((stage.name_en, stage.archived), ("Initial contact", False))
        self.assertEqual(ExitCriterion.objects.count(), criteria)
        self.assertEqual(ExitCriterion.objects.get(pk=criterion.pk).kind, "activity")
        self.assertFalse(CustomField.objects.filter(key="k").exists())
        self.assertFalse(User.objects.filter(username="new").exists())
        self.rep.refresh_from_db()
        self.assertEqual(self.rep.role, "rep")
        self.assertTrue(self.rep.check_password("pw-rep"))
        self.assertFalse(Quota.objects.exists())

    def test_a_manager_sets_quotas_of_their_team_only(self):
        self.client.force_login(self.manager)
        page = self.client.get("/settings/quotas/?year=2026")
        names = {row["rep"].username for row in page.context["rows"]}
        self.assertEqual(names, {"manager", "rep", "teammate"})
        response = self.client.post(
            "/settings/quotas/",
            {
                "year": "2026",
                f"q-{self.rep.pk}-2026-01-01": "120万",
                f"q-{self.outsider.pk}-2026-01-01": "999",  # not in their grid: ignored
            },
        )
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Quota.objects.get(user=self.rep).amount, Decimal("1200000.00"))
        self.assertFalse(Quota.objects.filter(user=self.outsider).exists())
        self.client.force_login(self.other_manager)
        page = self.client.get("/settings/quotas/")
        self.assertEqual(
            {r["rep"].username for r in page.context["rows"]}, {"other_manager", "outsider"}
        )
        self.assertEqual([r["team"] for r in page.context["team_rows"]], [self.south])

    def test_the_django_admin_is_for_superusers_only(self):
        User.objects.filter(pk=self.admin.pk).update(is_staff=True)
        self.client.force_login(self.admin)
        self.assertEqual(self.client.get("/admin/").status_code, 302)  # to the admin login
        User.objects.filter(pk=self.admin.pk).update(is_superuser=True)
        self.assertEqual(self.client.get("/admin/").status_code, 200)

    def test_nav_links(self):
        self.client.force_login(self.rep)
        self.assertNotContains(self.client.get("/deals/"), 'href="/settings/"')
        self.client.force_login(self.manager)
        page = self.client.get("/settings/")
        self.assertContains(page, 'href="/settings/"')
        self.assertNotContains(page, 'href="/admin/"')


class SettingsQueryCountTests(LoudouTestCase):
    """Pages whose queries do not grow with what they list."""

    def test_bounded_queries(self):
        from loudou.core.testing import make_user
        from loudou.pipelines import services as config

        self.client.force_login(self.admin)
        pages = {
            f"/settings/pipelines/{self.pipeline.pk}/": 8,  # incl. the approvals count
            "/settings/users/": 6,
            "/settings/quotas/?year=2026": 6,  # reps, teams, and their quotas in one
        }
        counts = {}
        for page in pages:
            self.client.get(page)
            with self.assertNumQueries(pages[page]):
                self.client.get(page)
            counts[page] = pages[page]
        # More users, teams and criteria: the same number of queries.
        from loudou.people.models import Team

        for i in range(5):
            make_user(f"extra{i}", team=Team.objects.create(name=f"Extra {i}"))
            config.add_criterion(actor=self.admin, stage=self.stages["needs"], kind="approval")
        for page, count in counts.items():
            with self.assertNumQueries(count):
                self.client.get(page)
