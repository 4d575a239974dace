"""The API tokens page: a user makes a token (shown once), sees and revokes only theirs."""

from django.test import Client

from loudou.api.models import ApiToken

from .base import ApiTestCase


class TokenPageTests(ApiTestCase):
    def test_create_show_once_and_revoke(self):
        self.client.force_login(self.rep)
        page = self.client.get("/account/tokens/", headers={"accept-language": "en"})
        self.assertContains(page, "API tokens")
        created = self.client.post("/account/tokens/", {"name": "笔记本"})
        self.assertEqual(created.status_code, 200)
        raw = created.context["new_token"]
        self.assertTrue(raw.startswith("ldu_"))
        self.assertContains(created, raw)
        self.assertEqual(created["Cache-Control"], "no-store")
        self.assertNotContains(self.client.get("/account/tokens/"), raw)  # once only
        token = ApiToken.objects.get(name="笔记本")
        bearer = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
        program = Client()  # no session: the token alone
        self.assertEqual(program.get("/api/v1/users/me", **bearer).json()["username"], "rep")
        other = ApiToken.objects.get(user=self.teammate)
        self.assertEqual(self.client.post(f"/account/tokens/{other.pk}/revoke").status_code, 404)
        self.assertEqual(self.client.post(f"/account/tokens/{token.pk}/revoke").status_code, 302)
        token.refresh_from_db()
        self.assertIsNotNone(token.revoked_at)
        self.assertEqual(program.get("/api/v1/users/me", **bearer).status_code, 401)

    def test_needs_login(self):
        self.assertEqual(self.client.get("/account/tokens/").status_code, 302)
