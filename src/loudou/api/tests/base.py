"""The base case of the API tests: LoudouTestCase's people, each with an API token."""

import json
from typing import Any

from loudou.api.tokens import create_token
from loudou.core.testing import LoudouTestCase


class ApiTestCase(LoudouTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.tokens = {}
        for user in (
            cls.rep,
            cls.teammate,
            cls.manager,
            cls.other_manager,
            cls.outsider,
            cls.admin,
        ):
            _token, raw = create_token(actor=user, user=user, name="tests")
            cls.tokens[user.username] = raw

    def call(
        self,
        method: str,
        path: str,
        user: Any = None,
        body: Any = None,
        lang: str = "en",
        **extra: Any,
    ) -> Any:
        """``method`` on /api/v1``path`` as ``user`` (by token; None: anonymous)."""
        headers = {"HTTP_ACCEPT_LANGUAGE": lang, **extra}
        if user is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.tokens[user.username]}"
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs = {"data": json.dumps(body), "content_type": "application/json"}
        return getattr(self.client, method.lower())(f"/api/v1{path}", **kwargs, **headers)

    def assertError(self, response: Any, status: int, code: str) -> dict:
        self.assertEqual(response.status_code, status, response.content[:500])
        data = response.json()
        self.assertEqual(set(data), {"code", "message", "details"})
        self.assertEqual(data["code"], code)
        self.assertTrue(data["message"])
        return data
