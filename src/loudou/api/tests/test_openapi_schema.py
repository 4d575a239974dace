"""The committed schema (docs/openapi.json) is the API's: an API change must change it."""

import json

from django.test import SimpleTestCase

from loudou.api.schema import COMMITTED, live_schema, render


class CommittedSchemaTests(SimpleTestCase):
    def test_committed_schema_is_current(self):
        self.assertTrue(COMMITTED.exists(), "docs/openapi.json is missing: run `loudou openapi`")
        committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
        live = live_schema()
        self.assertEqual(sorted(committed["paths"]), sorted(live["paths"]), "run `loudou openapi`")
        self.assertEqual(committed, live, "docs/openapi.json is stale: run `loudou openapi`")
        self.assertEqual(COMMITTED.read_text(encoding="utf-8"), render(live))

    def test_served_schema_is_the_same(self):
        response = self.client.get("/api/v1/openapi.json", HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), live_schema())

    def test_docs_page_loads_nothing_from_elsewhere(self):
        page = self.client.get("/api/docs").content.decode()
        self.assertIn("/static/ninja/swagger-ui-bundle.js", page)
        self.assertNotIn("cdn", page.lower())
        self.assertNotIn("https://", page)
