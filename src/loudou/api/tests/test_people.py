"""Users, teams and quotas: everyone reads (quotas as far as they see), admins change."""

from loudou.people.models import Quota

from .base import ApiTestCase


class PeopleApiTests(ApiTestCase):
    def test_me_users_teams(self):
        me = self.call("GET", "/users/me", self.manager).json()
        self.assertEqual((me["username"], me["role"], me["team"]), ("manager", "manager", "North"))
        teams = {t["name"]: t for t in self.call("GET", "/teams", self.rep).json()}
        self.assertEqual(teams["North"]["members"], ["manager", "rep", "teammate"])

    def test_admin_changes_users_and_teams(self):
        response = self.call("PATCH", f"/users/{self.teammate.pk}", self.admin, {"team": "South"})
        self.assertEqual(response.json()["team"], "South")
        response = self.call("PATCH", f"/users/{self.teammate.pk}", self.admin, {"team": ""})
        self.assertIsNone(response.json()["team"])
        self.assertError(
            self.call("PATCH", f"/users/{self.admin.pk}", self.admin, {"is_active": False}),
            400,
            "invalid",
        )
        self.assertError(
            self.call("POST", "/teams", self.admin, {"name": "East", "manager": "rep"}),
            400,
            "invalid",
        )
        created = self.call("POST", "/teams", self.admin, {"name": "East", "manager": "manager"})
        self.assertEqual(created.status_code, 201, created.content)
        self.assertError(self.call("POST", "/teams", self.admin, {"name": "East"}), 400, "invalid")

    def test_admin_sets_an_email_address(self):
        path = f"/users/{self.teammate.pk}"
        response = self.call("PATCH", path, self.admin, {"email": "  T.Mate@Example.COM "})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["email"], "T.Mate@example.com")
        self.assertError(
            self.call("PATCH", path, self.admin, {"email": "not an address"}), 400, "invalid"
        )
        self.teammate.refresh_from_db()
        self.assertEqual(self.teammate.email, "T.Mate@example.com")
        # Leaving it out keeps it.
        self.call("PATCH", path, self.admin, {"display_name": "Tea"})
        self.teammate.refresh_from_db()
        self.assertEqual(self.teammate.email, "T.Mate@example.com")
        self.assertError(
            self.call("PATCH", path, self.rep, {"email": "x@example.com"}), 403, "not_allowed"
        )

    def test_quotas_visibility_and_validation(self):
        Quota.objects.create(
            user=self.rep, period_start="2026-01-01", period_end="2026-04-01", amount=1
        )
        Quota.objects.create(
            user=self.outsider, period_start="2026-01-01", period_end="2026-04-01", amount=2
        )
        Quota.objects.create(
            team=self.north, period_start="2026-01-01", period_end="2026-04-01", amount=3
        )

        def seen(user):
            return sorted(q["amount"] for q in self.call("GET", "/quotas", user).json())

        self.assertEqual(seen(self.rep), ["1.00", "3.00"])
        self.assertEqual(seen(self.teammate), ["3.00"])
        self.assertEqual(seen(self.manager), ["1.00", "3.00"])
        self.assertEqual(seen(self.admin), ["1.00", "2.00", "3.00"])
        body = {
            "user": "rep",
            "period_start": "2026-05-01",
            "period_end": "2026-04-01",
            "amount": "1",
        }
        self.assertError(self.call("POST", "/quotas", self.admin, body), 400, "invalid")
        body = {"period_start": "2026-05-01", "period_end": "2026-06-01", "amount": "1"}
        self.assertError(self.call("POST", "/quotas", self.admin, body), 400, "invalid")
        body["team"] = "South"
        self.assertEqual(self.call("POST", "/quotas", self.admin, body).status_code, 201)
        self.assertError(self.call("POST", "/quotas", self.admin, body), 400, "invalid")
