"""Users, teams and quotas on the settings pages."""

import datetime as dt
from decimal import Decimal

from django.core import mail
from django.test import override_settings

from loudou.core import passwords
from loudou.core.errors import InvalidInput, NotAllowed
from loudou.core.testing import LoudouTestCase
from loudou.jobs.testing import run_tasks
from loudou.people import services
from loudou.people.models import Quota, Team, User


class PeopleSettingsTests(LoudouTestCase):
    def test_create_user_with_role_and_team(self):
        self.client.force_login(self.admin)
        self.client.post(
            "/settings/users/",
            {
                "username": "newrep",
                "display_name": "新人",
                "password": "a-long-passphrase-9",
                "role": "rep",
                "team": self.north.pk,
            },
        )
        user = User.objects.get(username="newrep")
        self.assertEqual((user.role, user.team, user.display_name), ("rep", self.north, "新人"))
        self.assertTrue(user.check_password("a-long-passphrase-9"))
        response = self.client.post(
            "/settings/users/", {"username": "weak", "password": "123", "role": "rep"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertFalse(User.objects.filter(username="weak").exists())
        response = self.client.post(
            "/settings/users/",
            {"username": "rep", "password": "a-long-passphrase-9", "role": "rep"},
        )
        self.assertEqual(User.objects.filter(username="rep").count(), 1)

    def test_change_role_team_and_deactivate(self):
        self.client.force_login(self.admin)
        self.client.post(
            f"/settings/users/{self.rep.pk}/",
            {"role": "manager", "team": self.south.pk, "display_name": "R"},
        )
        self.rep.refresh_from_db()
        self.assertEqual(
            (self.rep.role, self.rep.team, self.rep.is_active), ("manager", self.south, False)
        )
        with self.assertRaises(InvalidInput):
            services.update_user(
                actor=self.admin,
                user=self.admin,
                role="rep",
                team=None,
                display_name="",
                active=True,
            )
        with self.assertRaises(InvalidInput):
            services.update_user(
                actor=self.admin,
                user=self.rep,
                role="boss",
                team=None,
                display_name="",
                active=True,
            )

    def test_teams(self):
        self.client.force_login(self.admin)
        self.client.post("/settings/teams/", {"name": "West", "manager": self.other_manager.pk})
        self.assertEqual(Team.objects.get(name="West").manager, self.other_manager)
        with self.assertRaises(InvalidInput):  # a manager has the manager role
            services.save_team(actor=self.admin, name="East", manager=self.rep)
        with self.assertRaises(NotAllowed):
            services.save_team(actor=self.manager, name="East", manager=None)

    def test_quota_grid_saves_clears_and_refuses_bad_cells(self):
        self.client.force_login(self.admin)
        key = f"q-{self.rep.pk}-2026-04-01"
        self.client.post("/settings/quotas/", {"year": "2026", key: "1,500,000"})
        quota = Quota.objects.get(user=self.rep)
        self.assertEqual(
            (quota.period_start.isoformat(), quota.period_end.isoformat(), quota.amount),
            ("2026-04-01", "2026-07-01", Decimal("1500000.00")),
        )
        # Grouped as the help text writes amounts, in both languages; saved back unchanged.
        for language in ("en", "zh-hans"):
            page = self.client.get(
                "/settings/quotas/?year=2026", headers={"accept-language": language}
            )
            self.assertContains(page, 'value="1,500,000"')
        self.client.post("/settings/quotas/", {"year": "2026", key: "1,500,000.50"})
        page = self.client.get("/settings/quotas/?year=2026")
        self.assertContains(page, 'value="1,500,000.50"')
        self.client.post("/settings/quotas/", {"year": "2026", key: "1,500,000.50"})
        self.assertEqual(Quota.objects.get(user=self.rep).amount, Decimal("1500000.50"))
        response = self.client.post("/settings/quotas/", {"year": "2026", key: "lots"})
        self.assertEqual(response.status_code, 200)  # the grid again, with the message
        self.assertEqual(Quota.objects.get(user=self.rep).amount, Decimal("1500000.50"))
        self.client.post("/settings/quotas/", {"year": "2026", key: ""})
        self.assertFalse(Quota.objects.filter(user=self.rep).exists())
        with self.assertRaises(NotAllowed):
            services.set_quotas(actor=self.rep, cells=[])


class TeamQuotaGridTests(LoudouTestCase):
    """Team quotas (``Quota.team``) in a second grid on the quotas page: admins every team,
    a manager the teams they manage, under each cell the sum of the team's reps' quotas."""

    def grid(self, user, language="en"):
        self.client.force_login(user)
        return self.client.get("/settings/quotas/?year=2026", headers={"accept-language": language})

    def test_an_admin_sets_and_clears_every_teams_quota_beside_the_reps(self):
        self.client.force_login(self.admin)
        response = self.client.post(
            "/settings/quotas/",
            {
                "year": "2026",
                f"t-{self.north.pk}-2026-01-01": "300万",
                f"t-{self.south.pk}-2026-04-01": "1,000,000",
                f"q-{self.rep.pk}-2026-01-01": "100万",
                f"q-{self.teammate.pk}-2026-01-01": "50万",
            },
        )
        self.assertRedirects(response, "/settings/quotas/?year=2026")
        north = Quota.objects.get(team=self.north)
        self.assertEqual(
            (north.user, north.period_start.isoformat(), north.period_end.isoformat()),
            (None, "2026-01-01", "2026-04-01"),
        )
        self.assertEqual(north.amount, Decimal("3000000"))
        self.assertEqual(Quota.objects.get(team=self.south).amount, Decimal("1000000"))
        self.assertEqual(Quota.objects.filter(user__isnull=False).count(), 2)
        page = self.grid(self.admin)
        self.assertEqual([r["team"] for r in page.context["team_rows"]], [self.north, self.south])
        north_q1 = page.context["team_rows"][0]["cells"][0]
        self.assertEqual(
            (north_q1["name"], north_q1["value"], north_q1["reps_total"]),
            (f"t-{self.north.pk}-2026-01-01", "3,000,000", "1,500,000"),
        )
        self.assertContains(page, "Reps: 1,500,000")
        self.assertContains(page, "Team quotas")
        self.assertContains(self.grid(self.admin, "zh-hans"), "销售：1,500,000")
        self.client.post("/settings/quotas/", {"year": "2026", f"t-{self.north.pk}-2026-01-01": ""})
        self.assertFalse(Quota.objects.filter(team=self.north).exists())
        self.assertTrue(Quota.objects.filter(team=self.south).exists())

    def test_a_manager_sets_only_the_teams_they_manage(self):
        page = self.grid(self.manager)
        self.assertEqual([r["team"] for r in page.context["team_rows"]], [self.north])
        self.assertNotContains(page, f"t-{self.south.pk}-")
        self.client.post(
            "/settings/quotas/",
            {
                "year": "2026",
                f"t-{self.north.pk}-2026-07-01": "80万",
                f"t-{self.south.pk}-2026-07-01": "1",  # not in their grid: ignored
            },
        )
        self.assertEqual(Quota.objects.get(team=self.north).amount, Decimal("800000"))
        self.assertFalse(Quota.objects.filter(team=self.south).exists())
        with self.assertRaises(NotAllowed):
            services.set_quotas(
                actor=self.manager,
                cells=[
                    services.QuotaCell(
                        start=dt.date(2026, 1, 1),
                        end=dt.date(2026, 4, 1),
                        amount=Decimal(1),
                        team=self.south,
                    )
                ],
            )
        page = self.grid(self.other_manager)
        self.assertEqual([r["team"] for r in page.context["team_rows"]], [self.south])
        for user in (self.rep, self.teammate, self.outsider):
            self.assertEqual(services.quota_teams(user), [])
            with self.assertRaises(NotAllowed):
                services.set_quotas(actor=user, cells=[])

    def test_a_manager_of_a_team_without_members_still_sets_its_quota(self):
        lone = User.objects.create_user(username="lone", password="x", role="manager")
        east = Team.objects.create(name="East", manager=lone)
        self.client.force_login(lone)
        self.assertEqual(self.client.get("/settings/").status_code, 200)
        page = self.client.get("/settings/quotas/?year=2026")
        self.assertEqual(page.context["rows"], [])
        self.assertEqual([r["team"] for r in page.context["team_rows"]], [east])
        self.client.post("/settings/quotas/", {"year": "2026", f"t-{east.pk}-2026-10-01": "5"})
        self.assertEqual(Quota.objects.get(team=east).amount, Decimal("5"))

    def test_bad_cells_are_messages_and_change_nothing(self):
        Quota.objects.create(
            team=self.north,
            period_start=dt.date(2026, 1, 1),
            period_end=dt.date(2026, 4, 1),
            amount=Decimal("7"),
        )
        self.client.force_login(self.admin)
        response = self.client.post(
            "/settings/quotas/",
            {
                "year": "2026",
                f"t-{self.north.pk}-2026-01-01": "9",
                f"t-{self.south.pk}-2026-01-01": "lots",
            },
            headers={"accept-language": "en"},
        )
        self.assertEqual(response.status_code, 200)
        errors = [str(m) for m in response.context["messages"]]
        self.assertEqual(len(errors), 1)
        self.assertTrue(errors[0].startswith("South Q1: "), errors)
        self.assertEqual(Quota.objects.get(team=self.north).amount, Decimal("7"))
        self.assertFalse(Quota.objects.filter(team=self.south).exists())
        # The grid comes back with what was typed.
        self.assertContains(response, 'value="lots"')
        start, end = dt.date(2026, 1, 1), dt.date(2026, 4, 1)
        for cell in (
            services.QuotaCell(start=start, end=end, amount=Decimal(1)),
            services.QuotaCell(
                start=start, end=end, amount=Decimal(1), user=self.rep, team=self.north
            ),
            services.QuotaCell(start=start, end=end, amount=Decimal(-1), team=self.north),
            services.QuotaCell(start=end, end=start, amount=Decimal(1), team=self.north),
        ):
            with self.subTest(cell=cell), self.assertRaises(InvalidInput):
                services.set_quotas(actor=self.admin, cells=[cell])
        self.assertEqual(Quota.objects.get(team=self.north).amount, Decimal("7"))


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class AdminPasswordActionTests(LoudouTestCase):
    """On the users page an admin sets a user's new password, or e-mails them a link to
    choose one (``core.passwords``)."""

    def setUp(self):
        self.client.force_login(self.admin)

    def test_e_mail_addresses_are_set_with_the_user(self):
        self.client.post(
            "/settings/users/",
            {
                "username": "newrep",
                "password": "a-long-passphrase-9",
                "role": "rep",
                "email": " New.Rep@EXAMPLE.com ",
            },
        )
        self.assertEqual(User.objects.get(username="newrep").email, "New.Rep@example.com")
        self.client.post(
            f"/settings/users/{self.rep.pk}/",
            {"role": "rep", "team": self.north.pk, "active": "1", "email": "rep@example.com"},
        )
        self.rep.refresh_from_db()
        self.assertEqual(self.rep.email, "rep@example.com")
        response = self.client.post(
            f"/settings/users/{self.rep.pk}/",
            {"role": "manager", "active": "1", "email": "not an address"},
            headers={"accept-language": "en"},
            follow=True,
        )
        # The field by its label in the page's language, not its name in the code.
        self.assertContains(response, "Email address: Enter a valid email address.")
        response = self.client.post(
            f"/settings/users/{self.rep.pk}/",
            {"role": "manager", "active": "1", "email": "not an address"},
            headers={"accept-language": "zh-hans"},
            follow=True,
        )
        self.assertContains(response, "电子邮件地址：输入一个有效的 Email 地址。")
        self.assertNotContains(response, "email:")
        self.rep.refresh_from_db()
        self.assertEqual((self.rep.email, self.rep.role), ("rep@example.com", "rep"))
        page = self.client.get("/settings/users/", headers={"accept-language": "en"})
        self.assertContains(page, 'value="rep@example.com"')
        self.assertContains(page, "E-mail a reset link to rep@example.com")
        self.assertContains(page, "No e-mail address: add one to send a reset link.")

    def test_set_a_new_password(self):
        response = self.client.post(
            f"/settings/users/{self.rep.pk}/password/",
            {"password": "123"},
            headers={"accept-language": "en"},
            follow=True,
        )
        self.assertContains(
            response,
            "Password: This password is too short. It must contain at least 8 characters. "
            "This password is too common.",
        )
        # Django's own zh-Hans catalogue lacks this message in the words Django 5.2 uses;
        # ours has it. Chinese sentences follow each other without a space.
        response = self.client.post(
            f"/settings/users/{self.rep.pk}/password/",
            {"password": "123"},
            headers={"accept-language": "zh-hans"},
            follow=True,
        )
        self.assertContains(
            response, "密码：密码长度太短。密码必须包含至少 8 个字符。这个密码太常见了。"
        )
        self.assertNotContains(response, "too short")
        self.assertTrue(User.objects.get(pk=self.rep.pk).check_password("pw-rep"))
        response = self.client.post(
            f"/settings/users/{self.rep.pk}/password/",
            {"password": "a-new-passphrase-7"},
            headers={"accept-language": "en"},
            follow=True,
        )
        self.assertContains(response, "New password set for Rep: pass it on to them.")
        self.assertTrue(User.objects.get(pk=self.rep.pk).check_password("a-new-passphrase-7"))
        response = self.client.post(
            f"/settings/users/{self.rep.pk}/password/",
            {"password": "another-passphrase-8"},
            headers={"accept-language": "zh-hans"},
            follow=True,
        )
        self.assertContains(response, "已为 Rep 设置新密码")
        # The user's own sessions end: a session on the old password is logged out.
        rep_client = self.client_class()
        rep_client.force_login(User.objects.get(pk=self.rep.pk))
        passwords.admin_set_password(actor=self.admin, user=self.rep, password="third-pass-99x")
        self.assertEqual(rep_client.get("/today/").status_code, 302)

    def test_setting_a_password_unlocks_a_locked_out_account(self):
        with self.settings(AXES_FAILURE_LIMIT=2):
            other = self.client_class()
            for _ in range(2):
                other.post("/login/", {"username": "rep", "password": "wrong"})
            self.assertFalse(other.login(username="rep", password="pw-rep"))
            self.client.post(
                f"/settings/users/{self.rep.pk}/password/", {"password": "a-new-passphrase-7"}
            )
            self.assertTrue(other.login(username="rep", password="a-new-passphrase-7"))

    def test_an_admin_setting_their_own_password_stays_logged_in(self):
        self.client.post(
            f"/settings/users/{self.admin.pk}/password/", {"password": "my-own-passphrase-1"}
        )
        self.assertEqual(self.client.get("/settings/users/").status_code, 200)

    def test_only_a_superuser_sets_a_superusers_password(self):
        boss = User.objects.create_superuser(username="boss", password="pw-boss-123456")
        with self.assertRaises(NotAllowed):
            passwords.admin_set_password(actor=self.admin, user=boss, password="taken-over-1")
        response = self.client.post(
            f"/settings/users/{boss.pk}/password/",
            {"password": "taken-over-1"},
            headers={"accept-language": "en"},
            follow=True,
        )
        self.assertContains(response, "Only a superuser may change a superuser&#x27;s account.")
        self.assertTrue(User.objects.get(pk=boss.pk).check_password("pw-boss-123456"))
        other = User.objects.create_superuser(username="boss2", password="x")
        passwords.admin_set_password(actor=other, user=boss, password="reset-by-a-peer-1")
        self.assertTrue(User.objects.get(pk=boss.pk).check_password("reset-by-a-peer-1"))

    def test_e_mail_a_reset_link_in_the_organisations_language(self):
        User.objects.filter(pk=self.rep.pk).update(email="rep@example.com")
        User.objects.filter(pk=self.admin.pk).update(display_name="管理员王五")
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                f"/settings/users/{self.rep.pk}/reset-link/",
                headers={"accept-language": "en"},
                follow=True,
            )
        self.assertContains(response, "A link to choose a new password is on its way to rep@")
        run_tasks()
        self.assertEqual([m.to for m in mail.outbox], [["rep@example.com"]])
        self.assertIn("设置新密码", mail.outbox[0].subject)  # LOUDOU_LANGUAGE: zh-hans
        self.assertIn("http://testserver/password-reset/", mail.outbox[0].body)
        # An administrator sent it, named by their display name: no request to disown.
        body = mail.outbox[0].body
        self.assertIn("管理员王五（漏斗 testserver 的管理员）给您发送了设置新密码的链接", body)
        self.assertNotIn("有人", body)
        self.assertNotIn("。 ", body)  # no space after a Chinese full stop
        with self.settings(LANGUAGE_CODE="en"), self.captureOnCommitCallbacks(execute=True):
            self.client.post(f"/settings/users/{self.rep.pk}/reset-link/")
        run_tasks()
        self.assertEqual(mail.outbox[1].subject, "Loudou: choose a new password")
        body = mail.outbox[1].body
        self.assertIn("管理员王五, an administrator of Loudou at testserver, sent you a link", body)
        self.assertIn("If you do not need a new password, ignore this message", body)
        self.assertNotIn("Someone", body)

    def test_no_link_without_an_address_or_for_a_deactivated_user(self):
        for user, says in (
            (self.rep, "This user has no e-mail address"),
            (self.outsider, "This user is deactivated"),
        ):
            if user == self.outsider:
                User.objects.filter(pk=user.pk).update(email="o@example.com", is_active=False)
            with self.subTest(user=user), self.captureOnCommitCallbacks(execute=True):
                response = self.client.post(
                    f"/settings/users/{user.pk}/reset-link/",
                    headers={"accept-language": "en"},
                    follow=True,
                )
                self.assertContains(response, says)
        run_tasks()
        self.assertEqual(mail.outbox, [])

    def test_nobody_but_an_admin_sets_passwords_or_sends_links(self):
        User.objects.filter(pk=self.teammate.pk).update(email="mate@example.com")
        for role in ("rep", "teammate", "manager", "other_manager", "outsider"):
            self.client.force_login(getattr(self, role))
            for path, data in (
                (f"/settings/users/{self.teammate.pk}/password/", {"password": "hijacked-pw-1"}),
                (f"/settings/users/{self.teammate.pk}/reset-link/", {}),
            ):
                with (
                    self.subTest(role=role, path=path),
                    self.captureOnCommitCallbacks(execute=True),
                ):
                    self.assertEqual(self.client.post(path, data).status_code, 403)
            with self.assertRaises(NotAllowed):
                passwords.admin_set_password(
                    actor=getattr(self, role), user=self.teammate, password="hijacked-pw-1"
                )
        self.client.logout()
        for path in (
            f"/settings/users/{self.teammate.pk}/password/",
            f"/settings/users/{self.teammate.pk}/reset-link/",
        ):
            self.assertRedirects(
                self.client.post(path, {"password": "hijacked-pw-1"}),
                f"/login/?next={path}",
                fetch_redirect_response=False,
            )
        self.assertTrue(User.objects.get(pk=self.teammate.pk).check_password("pw-teammate"))
        run_tasks()
        self.assertEqual(mail.outbox, [])
        # Opened in a browser, an action is a page saying so.
        self.client.force_login(self.admin)
        response = self.client.get(f"/settings/users/{self.rep.pk}/password/")
        self.assertEqual(response.status_code, 405)
