"""Pipelines, stages and exit criteria: everyone reads, administrators change."""

from loudou.pipelines.models import ExitCriterion

from .base import ApiTestCase


class ConfigApiTests(ApiTestCase):
    def test_read_pipeline_with_stages_and_criteria(self):
        data = self.call("GET", "/pipelines/default", self.rep).json()
        keys = [s["key"] for s in data["stages"]]
        self.assertEqual(keys[0], "contact")
        self.assertEqual(keys[-2:], ["won", "lost"])
        contact = data["stages"][0]
        self.assertEqual(contact["exit_criteria"][0]["kind"], "activity")
        self.assertError(self.call("GET", "/pipelines/nope", self.rep), 404, "not_found")

    def test_admin_changes_a_stage_and_its_criteria(self):
        needs = self.stages["needs"]
        response = self.call(
            "PATCH", f"/stages/{needs.pk}", self.admin, {"probability": "0.3", "rot_days": 9}
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(
            (response.json()["probability"], response.json()["rot_days"]), ("0.3000", 9)
        )
        won = self.stages["won"]
        self.assertError(
            self.call("PATCH", f"/stages/{won.pk}", self.admin, {"probability": "0.5"}),
            400,
            "invalid",
        )
        bad = self.call(
            "POST",
            f"/stages/{needs.pk}/exit-criteria",
            self.admin,
            {"kind": "field", "field_name": "nothing", "field_check": "filled"},
        )
        self.assertError(bad, 400, "invalid")
        good = self.call(
            "POST",
            f"/stages/{needs.pk}/exit-criteria",
            self.admin,
            {"kind": "attachment", "attachment_kind": "proposal"},
        )
        self.assertEqual(good.status_code, 201, good.content)
        criterion = ExitCriterion.objects.get(pk=good.json()["id"])
        self.assertEqual(criterion.stage, needs)
        changed = self.call(
            "PUT",
            f"/exit-criteria/{criterion.pk}",
            self.admin,
            {"kind": "activity", "activity_type": "visit", "min_count": 2},
        )
        self.assertEqual(changed.status_code, 200, changed.content)
        self.assertEqual(changed.json()["stage"], "needs")
        criterion.refresh_from_db()
        self.assertEqual(
            (criterion.kind, criterion.activity_type, criterion.min_count, criterion.stage),
            ("activity", "visit", 2, needs),
        )
        refused = self.call(
            "PUT",
            f"/exit-criteria/{criterion.pk}",
            self.admin,
            {"kind": "field", "field_name": "nothing", "field_check": "filled"},
        )
        self.assertError(refused, 400, "invalid")
        criterion.refresh_from_db()
        self.assertEqual(criterion.kind, "activity")  # a refused edit changes nothing
        self.assertError(
            self.call("PUT", "/exit-criteria/999999", self.admin, {"kind": "approval"}),
            404,
            "not_found",
        )
        self.assertEqual(
            self.call("DELETE", f"/exit-criteria/{criterion.pk}", self.admin).status_code, 204
        )
        self.assertFalse(ExitCriterion.objects.filter(pk=criterion.pk).exists())
