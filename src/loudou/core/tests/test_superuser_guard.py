"""Found in review: an admin who is not a superuser must not reach a superuser's account
by a side door: changing its e-mail address (then asking for a reset link there), its role
or its active flag, on the settings page or through the API. And a reset link stops
working for a deactivated account; public reset links are for accounts with a password."""

import re

from django.core import mail
from django.test import override_settings

from loudou.api.tests.base import ApiTestCase
from loudou.jobs.testing import run_tasks
from loudou.people.models import User

LINK = re.compile(r"https?://[^/\s]+(/password-reset/[^/\s]+/[^/\s]+/)")


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class SuperuserGuardTests(ApiTestCase):
    def setUp(self):
        self.root = User.objects.create_superuser("root", "root@corp.example", "root-pass-xyz")

    def ask(self, email):
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post("/password-reset/", {"email": email})
        run_tasks()
        return response

    def test_the_settings_page_refuses_an_admin_changing_a_superuser(self):
        self.client.force_login(self.admin)
        response = self.client.post(
            f"/settings/users/{self.root.pk}/",
            {"role": self.root.role, "active": "1", "email": "evil@attacker.example"},
            headers={"accept-language": "en"},
            follow=True,
        )
        self.assertContains(response, "Only a superuser may change a superuser")
        self.root.refresh_from_db()
        self.assertEqual(self.root.email, "root@corp.example")
        self.client.logout()
        self.ask("evil@attacker.example")
        self.assertEqual(mail.outbox, [])

    def test_the_api_refuses_an_admin_changing_a_superuser(self):
        for change in ({"email": "evil@attacker.example"}, {"is_active": False}, {"role": "rep"}):
            self.assertError(
                self.call("PATCH", f"/users/{self.root.pk}", self.admin, change),
                403,
                "not_allowed",
            )
        self.root.refresh_from_db()
        self.assertEqual((self.root.email, self.root.is_active), ("root@corp.example", True))

    def test_a_superuser_may_change_another(self):
        other = User.objects.create_superuser("root2", "r2@corp.example", "root-pass-xyz")
        token_user = other
        from loudou.api.tokens import create_token

        _token, raw = create_token(actor=token_user, user=token_user, name="t")
        response = self.client.patch(
            f"/api/v1/users/{self.root.pk}",
            data='{"email": "new-root@corp.example"}',
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.root.refresh_from_db()
        self.assertEqual(self.root.email, "new-root@corp.example")

    def test_a_deactivated_account_cannot_use_an_earlier_link(self):
        User.objects.filter(pk=self.rep.pk).update(email="rep@example.com")
        self.ask("rep@example.com")
        link = LINK.search(mail.outbox[-1].body).group(1)
        User.objects.filter(pk=self.rep.pk).update(is_active=False)
        opened = self.client.get(link, follow=True, headers={"accept-language": "en"})
        self.assertNotContains(opened, "new_password1")
        self.rep.refresh_from_db()
        self.assertTrue(self.rep.check_password("pw-rep"))

    def test_public_reset_skips_accounts_without_a_password(self):
        imported = User(username="imported", email="imported@vendor.example", role="rep")
        imported.set_unusable_password()
        imported.save()
        self.ask("imported@vendor.example")
        self.assertEqual(mail.outbox, [])

    def test_email_addresses_are_for_admins_and_oneself(self):
        User.objects.filter(pk=self.teammate.pk).update(email="mate@corp.example")
        as_rep = {u["username"]: u["email"] for u in self.call("GET", "/users", self.rep).json()}
        self.assertIsNone(as_rep["root"])
        self.assertIsNone(as_rep["teammate"])
        self.assertEqual(
            self.call("GET", "/users/me", self.teammate).json()["email"], "mate@corp.example"
        )
        as_admin = {
            u["username"]: u["email"] for u in self.call("GET", "/users", self.admin).json()
        }
        self.assertEqual(as_admin["teammate"], "mate@corp.example")
