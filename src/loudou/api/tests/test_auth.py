"""Who may call the API: tokens (hashed, revocable, last use recorded), the browser session
with its CSRF token, and nobody else."""

from django.test import Client
from django.utils import timezone

from loudou.api.models import ApiToken
from loudou.api.tokens import create_token, digest, revoke_token
from loudou.core.errors import NotAllowed

from .base import ApiTestCase


class TokenAuthTests(ApiTestCase):
    def test_no_credentials_is_401_json(self):
        response = self.call("GET", "/deals")
        self.assertError(response, 401, "unauthenticated")

    def test_a_wrong_token_is_401(self):
        response = self.client.get("/api/v1/deals", HTTP_AUTHORIZATION="Bearer ldu_nope")
        self.assertError(response, 401, "unauthenticated")

    def test_token_is_stored_hashed_and_records_its_use(self):
        token = ApiToken.objects.get(user=self.rep)
        raw = self.tokens["rep"]
        self.assertEqual(token.digest, digest(raw))
        self.assertNotIn(raw, str(ApiToken.objects.filter(pk=token.pk).values().get()))
        self.assertIsNone(token.last_used_at)
        self.assertEqual(self.call("GET", "/deals", self.rep).status_code, 200)
        token.refresh_from_db()
        self.assertIsNotNone(token.last_used_at)

    def test_a_revoked_token_or_inactive_user_no_longer_works(self):
        token = ApiToken.objects.get(user=self.rep)
        revoke_token(actor=self.rep, token=token)
        self.assertError(self.call("GET", "/deals", self.rep), 401, "unauthenticated")
        self.teammate.is_active = False
        self.teammate.save()
        self.assertError(self.call("GET", "/deals", self.teammate), 401, "unauthenticated")

    def test_only_the_user_or_an_admin_manage_tokens(self):
        with self.assertRaises(NotAllowed):
            create_token(actor=self.manager, user=self.rep)
        token, _raw = create_token(actor=self.admin, user=self.rep, name="for rep")
        self.assertEqual(token.created_by, self.admin)
        with self.assertRaises(NotAllowed):
            revoke_token(actor=self.teammate, token=token)
        revoke_token(actor=self.admin, token=token)
        self.assertIsNotNone(token.revoked_at)

    def test_token_endpoints(self):
        response = self.call("POST", "/tokens", self.rep, {"name": "laptop"})
        self.assertEqual(response.status_code, 201)
        created = response.json()
        self.assertTrue(created["token"].startswith("ldu_"))
        listed = self.call("GET", "/tokens", self.rep).json()
        self.assertEqual({t["name"] for t in listed}, {"tests", "laptop"})
        self.assertNotIn("token", listed[0])
        # a rep may not make tokens for others, nor see theirs
        self.assertError(
            self.call("POST", "/tokens", self.rep, {"user": "teammate"}), 403, "not_allowed"
        )
        self.assertError(self.call("GET", "/tokens?user=admin", self.rep), 403, "not_allowed")
        admin_token = ApiToken.objects.get(user=self.admin)
        self.assertError(
            self.call("DELETE", f"/tokens/{admin_token.pk}", self.rep), 404, "not_found"
        )
        # an admin may
        response = self.call("POST", "/tokens", self.admin, {"user": "rep", "name": "ci"})
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.json()["user"], "rep")
        response = self.call("DELETE", f"/tokens/{created['id']}", self.rep)
        self.assertEqual(response.status_code, 200)
        self.assertIsNotNone(response.json()["revoked_at"])
        bearer = {"HTTP_AUTHORIZATION": f"Bearer {created['token']}"}
        self.assertEqual(self.client.get("/api/v1/deals", **bearer).status_code, 401)


class SessionAuthTests(ApiTestCase):
    def test_session_works_and_unsafe_methods_need_csrf(self):
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.rep)
        self.assertEqual(client.get("/api/v1/deals").status_code, 200)
        response = client.post("/api/v1/deals", data={"name": "x"}, content_type="application/json")
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json()["code"], "not_allowed")
        client.get("/")  # sets the csrftoken cookie
        csrf = client.cookies["csrftoken"].value
        response = client.post(
            "/api/v1/deals",
            data={"name": "with csrf"},
            content_type="application/json",
            HTTP_X_CSRFTOKEN=csrf,
        )
        self.assertEqual(response.status_code, 201, response.content)

    def test_last_used_is_written_at_most_once_a_minute(self):
        token = ApiToken.objects.get(user=self.rep)
        self.call("GET", "/deals", self.rep)
        token.refresh_from_db()
        first = token.last_used_at
        self.call("GET", "/deals", self.rep)
        token.refresh_from_db()
        self.assertEqual(token.last_used_at, first)
        ApiToken.objects.filter(pk=token.pk).update(
            last_used_at=timezone.now() - timezone.timedelta(minutes=2)
        )
        self.call("GET", "/deals", self.rep)
        token.refresh_from_db()
        self.assertGreater(token.last_used_at, first)
