"""Users, teams and quotas on the settings pages."""

from decimal import Decimal

from loudou.core.errors import InvalidInput, NotAllowed
from loudou.core.testing import LoudouTestCase
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
        page = self.client.get("/settings/quotas/?year=2026")
        self.assertContains(page, 'value="1500000"')
        response = self.client.post("/settings/quotas/", {"year": "2026", key: "lots"})
        self.assertEqual(response.status_code, 200)  # the grid again, with the message
        self.assertEqual(Quota.objects.get(user=self.rep).amount, Decimal("1500000.00"))
        self.client.post("/settings/quotas/", {"year": "2026", key: ""})
        self.assertFalse(Quota.objects.filter(user=self.rep).exists())
        with self.assertRaises(NotAllowed):
            services.set_quotas(actor=self.rep, cells=[])
