"""A stage key with an underscore (a mirrored pipeline's `closed_won`, an admin's
`needs_analysis`) names its 'entered' column as any other: `entered_needs_analysis` is read
back as that stage on both import paths, so an English export re-imports unchanged."""

from unittest import mock

from loudou.deals.models import Deal, StageEvent
from loudou.pipelines.models import Stage
from loudou.spreadsheets import services as import_services
from loudou.spreadsheets.export import rows

from .base import SheetTestCase


class UnderscoreKeyTests(SheetTestCase):
    def setUp(self):
        super().setUp()
        needs = self.stages["needs"]
        needs.key = "needs_analysis"
        needs.save(update_fields=["key"])

    def file(self) -> str:
        return (
            "external_id,name,owner,created_at,entered_needs_analysis\n"
            "u-1,Underscored,rep,2026-01-05T09:00:00+08:00,2026-01-20T09:00:00+08:00\n"
        )

    def check(self, fast: bool) -> None:
        with mock.patch.object(import_services, "FAST", fast):
            self.run_import(self.csv(self.file()), actor=self.admin)
        deal = Deal.objects.get(external_id="u-1")
        self.assertEqual(deal.stage.key, "needs_analysis")
        # As for any key (entered_needs alike): the deal is in that stage, and its
        # history holds the entry, where before the column was refused as unknown.
        moves = StageEvent.objects.filter(deal=deal)
        self.assertEqual([e.to_stage.key for e in moves], ["needs_analysis"])

    def test_the_row_by_row_path_reads_the_column(self):
        self.check(fast=False)

    def test_the_vectorised_path_reads_the_column(self):
        self.check(fast=True)

    def test_an_english_export_reimports_unchanged(self):
        self.check(fast=True)
        header, data = rows("deals", self.admin, language="en")
        self.assertIn("entered_needs_analysis", header)
        lines = [",".join(header)] + [
            ",".join("" if v is None else str(v) for v in row) for row in data
        ]
        summary = self.run_import(self.csv("\n".join(lines) + "\n", "again.csv"), actor=self.admin)
        self.assertEqual((summary.created, summary.events_added), (0, 0))
        self.assertEqual(Stage.objects.filter(key="needs_analysis").count(), 1)
