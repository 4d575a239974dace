"""Every endpoint against every kind of user (rep, teammate, manager, other_manager,
outsider, admin): who gets through, who gets 403, and for whom a deal does not exist
(404). The matrix must name every operation of the schema."""

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from loudou.accounts.models import Contact
from loudou.activities.services import schedule_next_step
from loudou.api.api import api
from loudou.api.models import ApiToken
from loudou.deals import services
from loudou.people.models import Quota
from loudou.pipelines.models import ExitCriterion

from .base import ApiTestCase

COUNTER = itertools.count()
USERS = ("rep", "teammate", "manager", "other_manager", "outsider", "admin")
# Who sees the rep's deal: the rep, their manager, an admin.
SEES_DEAL = {"rep", "manager", "admin"}


def deal_rule(ok: int, *, managers_only: bool = False) -> dict[str, int]:
    """``ok`` for those who see the rep's deal (403 for the rep when only managers and
    admins may), 404 for the rest."""
    rule = {u: (ok if u in SEES_DEAL else 404) for u in USERS}
    if managers_only:
        rule["rep"] = 403
    return rule


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(USERS, status)


def admins(ok: int) -> dict[str, int]:
    return {u: (ok if u == "admin" else 403) for u in USERS}


class PermissionMatrixTests(ApiTestCase):
    def fixture(self) -> dict[str, Any]:
        """Fresh objects for one call."""
        deal = self.make_deal(account=self.account)
        lost = self.make_deal(name="lost")
        services.lose_deal(actor=self.rep, deal=lost, reason=self.price)
        back = self.make_deal(name="back", stage=self.stages["needs"])
        contact = Contact.objects.create(account=self.account, name="张三")
        criterion = ExitCriterion.objects.create(stage=self.stages["needs"], kind="approval")
        n = next(COUNTER)
        start = dt.date(2000, 1, 1) + dt.timedelta(days=2 * n)
        quota = Quota.objects.create(
            user=self.rep, period_start=start, period_end=start + dt.timedelta(days=1), amount=1
        )
        attachment = services.attach_file(
            actor=self.rep,
            deal=deal,
            kind="quote",
            file=SimpleUploadedFile("q.pdf", b"%PDF"),
        )
        step = schedule_next_step(
            actor=self.rep,
            deal=deal,
            type="call",
            due_at=timezone.now() + dt.timedelta(days=1),
        )
        asks = self.make_deal(name="asks", stage=self.stages["needs"])
        ask = services.request_approval(actor=self.rep, deal=asks, note="请批")
        ApiToken.objects.filter(name="to revoke").delete()  # stay under the per-user limit
        token = ApiToken.objects.create(
            user=self.rep,
            name="to revoke",
            prefix="x",
            digest=f"victim{n}",
            created_at=timezone.now(),
        )
        return locals()

    def matrix(self) -> list[tuple[str, str, Callable[[dict], tuple[str, Any]], dict[str, int]]]:
        today = timezone.localdate().isoformat()
        d = "/deals/{deal_id}"
        return [
            ("get", "/deals", lambda f: ("/deals", None), everyone(200)),
            ("post", "/deals", lambda f: ("/deals", {"name": "n"}), everyone(201)),
            ("get", d, lambda f: (f"/deals/{f['deal'].pk}", None), deal_rule(200)),
            (
                "patch",
                d,
                lambda f: (f"/deals/{f['deal'].pk}", {"version": f["deal"].version, "name": "x"}),
                deal_rule(200),
            ),
            (
                "post",
                d + "/move",
                lambda f: (f"/deals/{f['back'].pk}/move", {"stage": "contact"}),
                deal_rule(200),
            ),
            ("post", d + "/win", lambda f: (f"/deals/{f['deal'].pk}/win", {}), deal_rule(422)),
            (
                "post",
                d + "/lose",
                lambda f: (f"/deals/{f['deal'].pk}/lose", {"reason": "price"}),
                deal_rule(200),
            ),
            (
                "post",
                d + "/reopen",
                lambda f: (f"/deals/{f['lost'].pk}/reopen", {}),
                deal_rule(200),
            ),
            (
                "post",
                d + "/approve",
                lambda f: (f"/deals/{f['deal'].pk}/approve", {}),
                deal_rule(201, managers_only=True),
            ),
            (
                "post",
                d + "/override",
                lambda f: (f"/deals/{f['deal'].pk}/override", {"to": "needs", "reason": "r"}),
                deal_rule(200, managers_only=True),
            ),
            (
                "post",
                d + "/activities",
                lambda f: (f"/deals/{f['deal'].pk}/activities", {"type": "call"}),
                deal_rule(201),
            ),
            (
                "post",
                d + "/attachments",
                lambda f: (f"/deals/{f['deal'].pk}/attachments", "multipart"),
                deal_rule(201),
            ),
            (
                "get",
                d + "/attachments/{attachment_id}/file",
                lambda f: (f"/deals/{f['deal'].pk}/attachments/{f['attachment'].pk}/file", None),
                deal_rule(200),
            ),
            (
                "post",
                d + "/payments",
                lambda f: (f"/deals/{f['deal'].pk}/payments", {"amount": "1", "paid_on": today}),
                deal_rule(400),  # open deal: refused by the rule, but only for those who see it
            ),
            ("get", "/lost-reasons", lambda f: ("/lost-reasons", None), everyone(200)),
            ("get", "/accounts", lambda f: ("/accounts", None), everyone(200)),
            (
                "post",
                "/accounts",
                lambda f: ("/accounts", {"name": f"新公司{f['n']}"}),
                everyone(201),
            ),
            (
                "get",
                "/accounts/{account_id}",
                lambda f: (f"/accounts/{self.account.pk}", None),
                everyone(200),
            ),
            (
                "patch",
                "/accounts/{account_id}",
                lambda f: (f"/accounts/{self.account.pk}", {"industry": "IT"}),
                everyone(200),
            ),
            (
                "post",
                "/contacts",
                lambda f: ("/contacts", {"account_id": self.account.pk, "name": "李四"}),
                everyone(201),
            ),
            (
                "get",
                "/contacts/{contact_id}",
                lambda f: (f"/contacts/{f['contact'].pk}", None),
                everyone(200),
            ),
            (
                "patch",
                "/contacts/{contact_id}",
                lambda f: (f"/contacts/{f['contact'].pk}", {"title": "CTO"}),
                everyone(200),
            ),
            ("get", "/pipelines", lambda f: ("/pipelines", None), everyone(200)),
            ("get", "/pipelines/{key}", lambda f: ("/pipelines/default", None), everyone(200)),
            (
                "patch",
                "/stages/{stage_id}",
                lambda f: (f"/stages/{self.stages['needs'].pk}", {"rot_days": 20}),
                admins(200),
            ),
            (
                "post",
                "/stages/{stage_id}/exit-criteria",
                lambda f: (
                    f"/stages/{self.stages['needs'].pk}/exit-criteria",
                    {"kind": "approval"},
                ),
                admins(201),
            ),
            (
                "put",
                "/exit-criteria/{criterion_id}",
                lambda f: (f"/exit-criteria/{f['criterion'].pk}", {"kind": "approval"}),
                admins(200),
            ),
            (
                "delete",
                "/exit-criteria/{criterion_id}",
                lambda f: (f"/exit-criteria/{f['criterion'].pk}", None),
                admins(204),
            ),
            ("get", "/users/me", lambda f: ("/users/me", None), everyone(200)),
            ("get", "/users", lambda f: ("/users", None), everyone(200)),
            (
                "patch",
                "/users/{user_id}",
                lambda f: (f"/users/{self.teammate.pk}", {"display_name": "T"}),
                admins(200),
            ),
            ("get", "/teams", lambda f: ("/teams", None), everyone(200)),
            ("post", "/teams", lambda f: ("/teams", {"name": f"T{f['deal'].pk}"}), admins(201)),
            (
                "patch",
                "/teams/{team_id}",
                lambda f: (f"/teams/{self.north.pk}", {"name": "North"}),
                admins(200),
            ),
            ("get", "/quotas", lambda f: ("/quotas", None), everyone(200)),
            (
                "post",
                "/quotas",
                lambda f: (
                    "/quotas",
                    {
                        "team": "North",
                        "period_start": f["start"].isoformat(),
                        "period_end": (f["start"] + dt.timedelta(days=1)).isoformat(),
                        "amount": "5",
                    },
                ),
                admins(201),
            ),
            (
                "patch",
                "/quotas/{quota_id}",
                lambda f: (f"/quotas/{f['quota'].pk}", {"amount": "7"}),
                # the rep, their manager and an admin see the rep's quota; only admins change
                {
                    **admins(403),
                    "admin": 200,
                    "teammate": 404,
                    "other_manager": 404,
                    "outsider": 404,
                },
            ),
            (
                "delete",
                "/quotas/{quota_id}",
                lambda f: (f"/quotas/{f['quota'].pk}", None),
                {
                    **admins(403),
                    "admin": 204,
                    "teammate": 404,
                    "other_manager": 404,
                    "outsider": 404,
                },
            ),
            ("get", "/reports", lambda f: ("/reports", None), everyone(200)),
            ("get", "/next-steps", lambda f: ("/next-steps", None), everyone(200)),
            (
                "get",
                "/deals/{deal_id}/next-steps",
                lambda f: (f"/deals/{f['deal'].pk}/next-steps", None),
                deal_rule(200),
            ),
            (
                "post",
                "/deals/{deal_id}/next-steps",
                lambda f: (
                    f"/deals/{f['deal'].pk}/next-steps",
                    {"type": "visit", "due_at": f"{today}T10:00:00+08:00", "note": "带样品"},
                ),
                deal_rule(201),
            ),
            (
                "patch",
                "/next-steps/{step_id}",
                lambda f: (f"/next-steps/{f['step'].pk}", {"due_at": f"{today}T16:00:00Z"}),
                deal_rule(200),
            ),
            (
                "post",
                "/next-steps/{step_id}/complete",
                lambda f: (f"/next-steps/{f['step'].pk}/complete", {"note": "谈妥"}),
                deal_rule(201),
            ),
            (
                "delete",
                "/next-steps/{step_id}",
                lambda f: (f"/next-steps/{f['step'].pk}", None),
                deal_rule(204),
            ),
            ("get", "/approval-requests", lambda f: ("/approval-requests", None), everyone(200)),
            (
                "post",
                "/deals/{deal_id}/approval-requests",
                lambda f: (f"/deals/{f['back'].pk}/approval-requests", {"note": "请批"}),
                deal_rule(201),
            ),
            (
                "post",
                "/approval-requests/{request_id}/decide",
                lambda f: (f"/approval-requests/{f['ask'].pk}/decide", {"approve": True}),
                deal_rule(200, managers_only=True),
            ),
            ("get", "/tokens", lambda f: ("/tokens", None), everyone(200)),
            ("post", "/tokens", lambda f: ("/tokens", {"name": "n"}), everyone(201)),
            (
                "delete",
                "/tokens/{token_id}",
                lambda f: (f"/tokens/{f['token'].pk}", None),
                {u: (200 if u in ("rep", "admin") else 404) for u in USERS},
            ),
        ]

    def request(self, method: str, path: str, body: Any, user: Any) -> Any:
        if body == "multipart":
            upload = SimpleUploadedFile("c.pdf", b"%PDF", content_type="application/pdf")
            return self.client.post(
                f"/api/v1{path}",
                {"kind": "contract", "file": upload},
                HTTP_AUTHORIZATION=f"Bearer {self.tokens[user.username]}",
            )
        return self.call(method, path, user, body)

    def test_matrix(self):
        for method, template, make, expected in self.matrix():
            for username, status in expected.items():
                with self.subTest(f"{method.upper()} {template} as {username}"):
                    user = getattr(self, username)
                    fixture = self.fixture()
                    path, body = make(fixture)
                    response = self.request(method, path, body, user)
                    body = getattr(response, "content", b"")[:300]
                    self.assertEqual(response.status_code, status, body)

    def test_every_operation_is_in_the_matrix_and_refuses_anonymous_callers(self):
        schema = api.get_openapi_schema()
        operations = {
            (method, path.removeprefix("/api/v1"))
            for path, ops in schema["paths"].items()
            for method in ops
        }
        covered = {(m, t) for m, t, _make, _e in self.matrix()}
        # The report runs are covered by test_reports.py (they need committed data).
        covered.add(("get", "/reports/{name}"))
        self.assertEqual(operations, covered)
        fixture = self.fixture()
        for method, _template, make, _expected in self.matrix():
            path, body = make(fixture)
            response = self.call(method, path, None, None if body == "multipart" else body)
            self.assertEqual(response.status_code, 401, f"{method} {path}")
