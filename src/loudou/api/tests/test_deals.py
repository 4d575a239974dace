"""The deals resource: list (filters, ordering, cursor), detail, create, edit, and the
stage actions with their error codes (404 unseen, 409 stale, 422 unmet criteria)."""

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone

from loudou.activities.services import log_activity
from loudou.core.testing import ago, ready_to_leave
from loudou.deals import services
from loudou.deals.models import Deal, StageEvent
from loudou.pipelines import services as config
from loudou.pipelines.models import Pipeline, Stage

from .base import ApiTestCase


class DealListTests(ApiTestCase):
    def test_list_shows_only_visible_deals(self):
        mine = self.make_deal(name="mine")
        self.make_deal(owner=self.outsider, name="south")
        ids = [d["id"] for d in self.call("GET", "/deals", self.rep).json()["items"]]
        self.assertEqual(ids, [mine.pk])
        manager = self.call("GET", "/deals", self.manager).json()["items"]
        self.assertEqual([d["name"] for d in manager], ["mine"])
        self.assertEqual(len(self.call("GET", "/deals", self.admin).json()["items"]), 2)

    def test_filters(self):
        a = self.make_deal(
            name="Alpha", source="expo", expected_close_date=dt.date(2026, 3, 1), at=ago(400)
        )
        b = self.make_deal(
            owner=self.teammate, name="Beta", expected_close_date=dt.date(2026, 5, 1)
        )
        services.lose_deal(actor=self.teammate, deal=b, reason=self.price)

        def names(query: str) -> list[str]:
            response = self.call("GET", f"/deals?{query}", self.manager)
            self.assertEqual(response.status_code, 200, response.content)
            return sorted(d["name"] for d in response.json()["items"])

        self.assertEqual(names("status=lost"), ["Beta"])
        self.assertEqual(names("owner=rep"), ["Alpha"])
        self.assertEqual(names("team=North"), ["Alpha", "Beta"])
        self.assertEqual(names("source=expo"), ["Alpha"])
        self.assertEqual(names("stage=lost"), ["Beta"])
        self.assertEqual(names("pipeline=default&stage=contact"), ["Alpha"])
        self.assertEqual(names("expected_close_from=2026-04-01"), ["Beta"])
        self.assertEqual(names("expected_close_to=2026-04-01"), ["Alpha"])
        self.assertEqual(names("q=alp"), ["Alpha"])
        self.assertEqual(names("stale=true"), ["Alpha"])
        self.assertEqual(names("stale=false"), ["Beta"])
        log_activity(actor=self.rep, deal=a, type="call")
        self.assertEqual(names("stale=true"), [])
        self.assertError(self.call("GET", "/deals?stage=nope", self.rep), 400, "invalid")
        self.assertError(self.call("GET", "/deals?status=maybe", self.rep), 400, "malformed")
        self.assertError(
            self.call("GET", "/deals?expected_close_from=3000-01-01", self.rep), 400, "malformed"
        )

    def test_cursor_pagination_in_every_ordering(self):
        for i in range(7):
            self.make_deal(name=f"D{i}", amount=str(1000 * (i % 3)) if i != 4 else None)
        for ordering in ("-created_at", "name", "-amount", "amount", "expected_close_date"):
            seen, cursor = [], None
            for _page in range(10):
                query = f"/deals?limit=3&ordering={ordering}" + (
                    f"&cursor={cursor}" if cursor else ""
                )
                data = self.call("GET", query, self.rep).json()
                seen += [d["id"] for d in data["items"]]
                cursor = data["next_cursor"]
                if cursor is None:
                    break
            self.assertEqual(len(seen), 7, ordering)
            self.assertEqual(len(set(seen)), 7, ordering)
        self.assertError(self.call("GET", "/deals?cursor=garbage!", self.rep), 400, "invalid")

    def test_list_query_count_does_not_grow_with_deals(self):
        for i in range(3):
            self.make_deal(name=f"D{i}")
        self.call("GET", "/deals", self.rep)  # token last_used write
        with self.assertNumQueries(2):  # the token, the deals
            self.call("GET", "/deals", self.rep)
        for i in range(5):
            self.make_deal(name=f"E{i}")
        with self.assertNumQueries(2):
            self.call("GET", "/deals", self.rep)


class DealDetailTests(ApiTestCase):
    def test_detail_includes_history(self):
        deal = self.make_deal(account=self.account)
        log_activity(actor=self.rep, deal=deal, type="call", note="hello")
        data = self.call("GET", f"/deals/{deal.pk}", self.rep).json()
        self.assertEqual(data["stage"], "contact")
        self.assertEqual(data["stage_events"][0]["to_stage"], "contact")
        self.assertEqual(data["activities"][0]["note"], "hello")
        self.assertEqual(data["account"], "华为技术")
        self.assertEqual(data["version"], 1)

    def test_an_invisible_deal_is_404_like_a_missing_one(self):
        deal = self.make_deal(owner=self.outsider)
        self.assertError(self.call("GET", f"/deals/{deal.pk}", self.rep), 404, "not_found")
        self.assertError(self.call("GET", "/deals/999999", self.rep), 404, "not_found")
        self.assertError(
            self.call("POST", f"/deals/{deal.pk}/win", self.manager, {}), 404, "not_found"
        )
        self.assertEqual(self.call("GET", f"/deals/{deal.pk}", self.other_manager).status_code, 200)
        self.assertError(self.call("GET", f"/deals/{2**60}", self.rep), 400, "malformed")


class DealWriteTests(ApiTestCase):
    def test_create_and_edit_with_optimistic_locking(self):
        response = self.call(
            "POST", "/deals", self.rep, {"name": "New", "amount": "1200.5", "account_name": "腾讯"}
        )
        self.assertEqual(response.status_code, 201, response.content)
        deal = response.json()
        self.assertEqual(
            (deal["owner"], deal["amount"], deal["account"]), ("rep", "1200.50", "腾讯")
        )
        path = f"/deals/{deal['id']}"
        edited = self.call("PATCH", path, self.rep, {"version": 1, "name": "Renamed"})
        self.assertEqual(edited.status_code, 200, edited.content)
        self.assertEqual(edited.json()["version"], 2)
        stale = self.call("PATCH", path, self.rep, {"version": 1, "name": "Lost update"})
        self.assertError(stale, 409, "conflict")
        self.assertEqual(Deal.objects.get(pk=deal["id"]).name, "Renamed")
        self.assertError(
            self.call("PATCH", path, self.rep, {"version": 2, "amount": "-1"}), 400, "malformed"
        )
        self.assertError(
            self.call("PATCH", path, self.rep, {"version": 2, "owner": "outsider"}),
            403,
            "not_allowed",
        )

    def test_create_for_another_rep_is_refused(self):
        self.assertError(
            self.call("POST", "/deals", self.rep, {"name": "x", "owner": "teammate"}),
            403,
            "not_allowed",
        )
        self.assertError(self.call("POST", "/deals", self.rep, {"name": ""}), 400, "invalid")
        self.assertError(self.call("POST", "/deals", self.rep, {"nam": "x"}), 400, "malformed")
        response = self.client.post(
            "/api/v1/deals",
            data="{not json",
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {self.tokens['rep']}",
        )
        self.assertEqual(response.status_code, 400)

    def test_blocked_move_is_422_with_unmet_criteria_in_the_users_language(self):
        deal = self.make_deal()
        response = self.call(
            "POST", f"/deals/{deal.pk}/move", self.rep, {"stage": "needs"}, lang="zh-hans"
        )
        data = self.assertError(response, 422, "criteria_not_met")
        [unmet] = data["details"]["unmet"]
        self.assertEqual((unmet["stage"], unmet["kind"]), ("contact", "activity"))
        self.assertIn("初步接洽", unmet["message"])
        en = self.call("POST", f"/deals/{deal.pk}/move", self.rep, {"stage": "needs"}).json()
        self.assertIn("Initial contact", en["details"]["unmet"][0]["message"])
        self.assertEqual(StageEvent.objects.filter(deal=deal).count(), 1)

    def test_move_win_lose_reopen(self):
        deal = self.make_deal()
        log_activity(actor=self.rep, deal=deal, type="call")
        moved = self.call(
            "POST", f"/deals/{deal.pk}/move", self.rep, {"stage": "needs", "version": 1}
        )
        self.assertEqual(moved.status_code, 200, moved.content)
        self.assertEqual(moved.json()["deal"]["stage"], "needs")
        self.assertError(
            self.call(
                "POST", f"/deals/{deal.pk}/move", self.rep, {"stage": "contact", "version": 1}
            ),
            409,
            "conflict",
        )
        lost = self.call("POST", f"/deals/{deal.pk}/lose", self.rep, {"reason": "price"})
        self.assertEqual(lost.json()["status"], "lost")
        self.assertError(
            self.call("POST", f"/deals/{deal.pk}/lose", self.rep, {"reason": "price"}),
            400,
            "invalid",
        )
        reopened = self.call("POST", f"/deals/{deal.pk}/reopen", self.rep, {})
        self.assertEqual(reopened.json()["stage"], "needs")

    def test_override_needs_a_manager_and_a_reason(self):
        deal = self.make_deal()
        body = {"to": "needs", "reason": "customer called us"}
        self.assertError(
            self.call("POST", f"/deals/{deal.pk}/override", self.rep, body), 403, "not_allowed"
        )
        back = self.make_deal(stage=self.stages["needs"])
        backward = {"to": "contact", "reason": "nothing to override"}
        self.assertError(
            self.call("POST", f"/deals/{back.pk}/override", self.rep, backward), 403, "not_allowed"
        )
        response = self.call("POST", f"/deals/{deal.pk}/override", self.manager, body)
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["overridden"][0]["kind"], "activity")
        event = StageEvent.objects.filter(deal=deal).last()
        self.assertEqual(event.override_reason, "customer called us")
        self.assertError(
            self.call(
                "POST", f"/deals/{deal.pk}/override", self.manager, {"to": "won", "reason": ""}
            ),
            400,
            "malformed",
        )

    def test_approve(self):
        deal = self.make_deal()
        self.assertError(
            self.call("POST", f"/deals/{deal.pk}/approve", self.rep, {}), 403, "not_allowed"
        )
        response = self.call("POST", f"/deals/{deal.pk}/approve", self.manager, {"note": "ok"})
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["approved_by"], "manager")
        own = self.make_deal(owner=self.manager)
        self.assertError(
            self.call("POST", f"/deals/{own.pk}/approve", self.manager, {}), 403, "not_allowed"
        )

    def test_win_then_payments(self):
        deal = self.make_deal(stage=self.stages["negotiation"])
        deal = ready_to_leave(deal, self.rep, approver=self.manager)
        won = self.call("POST", f"/deals/{deal.pk}/win", self.rep, {})
        self.assertEqual(won.status_code, 200, won.content)
        today = timezone.localdate().isoformat()
        paid = self.call(
            "POST", f"/deals/{deal.pk}/payments", self.rep, {"amount": "100", "paid_on": today}
        )
        self.assertEqual(paid.status_code, 201, paid.content)
        self.assertEqual(paid.json()["amount"], "100.00")
        too_much = self.call(
            "POST", f"/deals/{deal.pk}/payments", self.rep, {"amount": "9999999", "paid_on": today}
        )
        self.assertError(too_much, 400, "invalid")
        detail = self.call("GET", f"/deals/{deal.pk}", self.rep).json()
        self.assertEqual(len(detail["payments"]), 1)

    def test_activity_and_attachment_upload(self):
        deal = self.make_deal()
        response = self.call("POST", f"/deals/{deal.pk}/activities", self.rep, {"type": "visit"})
        self.assertEqual(response.status_code, 201, response.content)
        auth = {"HTTP_AUTHORIZATION": f"Bearer {self.tokens['rep']}"}
        upload = SimpleUploadedFile("quote.pdf", b"%PDF-1.4 test", content_type="application/pdf")
        response = self.client.post(
            f"/api/v1/deals/{deal.pk}/attachments", {"kind": "quote", "file": upload}, **auth
        )
        self.assertEqual(response.status_code, 201, response.content)
        url = response.json()["url"]
        download = self.client.get(url, **auth)
        self.assertEqual(b"".join(download.streaming_content), b"%PDF-1.4 test")
        self.assertEqual(
            self.client.get(
                url, HTTP_AUTHORIZATION=f"Bearer {self.tokens['outsider']}"
            ).status_code,
            404,
        )
        with override_settings(LOUDOU_MAX_ATTACHMENT_BYTES=5):
            big = SimpleUploadedFile("big.pdf", b"0123456789")
            response = self.client.post(
                f"/api/v1/deals/{deal.pk}/attachments", {"kind": "quote", "file": big}, **auth
            )
        self.assertError(response, 413, "too_large")


class MalformedRequestTests(ApiTestCase):
    def test_unreadable_bodies_and_unknown_addresses_are_json(self):
        auth = {"HTTP_AUTHORIZATION": f"Bearer {self.tokens['rep']}"}
        for ctype, body in [("text/plain", b"hi"), ("application/json", b"{" * 5000)]:
            response = self.client.generic(
                "POST", "/api/v1/deals", body, content_type=ctype, **auth
            )
            self.assertError(response, 400, "malformed")
        big = b'{"name": "' + b"x" * (11 * 1024 * 1024) + b'"}'
        response = self.client.generic(
            "POST", "/api/v1/deals", big, content_type="application/json", **auth
        )
        self.assertError(response, 413, "too_large")
        self.assertError(self.client.get("/api/v1/nothing", **auth), 404, "not_found")
        self.assertError(self.client.get("/api/elsewhere"), 404, "not_found")


class ArchivedCreateTests(ApiTestCase):
    def test_no_deal_is_created_into_an_archived_stage_or_pipeline(self):
        Stage.objects.filter(pk=self.stages["contact"].pk).update(archived=True)
        data = self.assertError(
            self.call("POST", "/deals", self.rep, {"name": "x", "stage": "contact"}), 400, "invalid"
        )
        self.assertIn("archived", data["message"] + str(data["details"]))
        renewals = config.create_pipeline(
            actor=self.admin, key="renewals", name_zh="续约", name_en="Renewals"
        )
        Pipeline.objects.filter(pk=renewals.pk).update(archived=True)
        data = self.assertError(
            self.call("POST", "/deals", self.rep, {"name": "x", "pipeline": "renewals"}),
            400,
            "invalid",
        )
        self.assertEqual(
            data["details"], {"pipeline": "This pipeline is archived: it takes no new deals."}
        )
        self.assertFalse(Deal.objects.exists())
