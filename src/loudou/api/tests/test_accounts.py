"""Accounts and contacts: shapes, paging, validation."""

from loudou.accounts.models import Account

from .base import ApiTestCase


class AccountApiTests(ApiTestCase):
    def test_create_read_update_and_page(self):
        for name in ("B公司", "A公司", "C公司"):
            self.assertEqual(
                self.call("POST", "/accounts", self.rep, {"name": name}).status_code, 201
            )
        self.assertError(
            self.call("POST", "/accounts", self.rep, {"name": "a公司"}), 400, "invalid"
        )
        first = self.call("GET", "/accounts?limit=2", self.rep).json()
        self.assertEqual([a["name"] for a in first["items"]], ["A公司", "B公司"])
        rest = self.call("GET", f"/accounts?limit=2&cursor={first['next_cursor']}", self.rep).json()
        self.assertEqual([a["name"] for a in rest["items"]], ["C公司", "华为技术"])
        self.assertIsNone(rest["next_cursor"])
        account = Account.objects.get(name="A公司")
        patched = self.call("PATCH", f"/accounts/{account.pk}", self.rep, {"industry": "制造"})
        self.assertEqual(patched.json()["industry"], "制造")

    def test_contacts(self):
        body = {"account_id": self.account.pk, "name": "王总", "email": "wang@example.com"}
        created = self.call("POST", "/contacts", self.rep, body)
        self.assertEqual(created.status_code, 201, created.content)
        contact = created.json()
        self.assertEqual(contact["account_id"], self.account.pk)
        detail = self.call("GET", f"/accounts/{self.account.pk}", self.rep).json()
        self.assertEqual([c["name"] for c in detail["contacts"]], ["王总"])
        bad = self.call("PATCH", f"/contacts/{contact['id']}", self.rep, {"email": "not-an-email"})
        self.assertError(bad, 400, "invalid")
        self.assertError(
            self.call("POST", "/contacts", self.rep, {"account_id": 999999, "name": "x"}),
            400,
            "invalid",
        )
        self.assertError(self.call("GET", "/contacts/999999", self.rep), 404, "not_found")
