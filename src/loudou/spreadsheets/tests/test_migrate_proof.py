"""Proof: after migrating an export, the funnel, win rate, cycle and time in stage that
Loudou computes equal the figures computed straight from the export's files."""

import datetime as dt
import tempfile
from pathlib import Path

from django.test import TransactionTestCase

from loudou.reports import loader
from loudou.reports.services import run_report
from loudou.spreadsheets.vendors.migrate import migrate

from . import other_exports as ox
from . import vendor_exports as vx

NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
PERIOD = {"date_from": dt.date(2020, 1, 1), "date_to": dt.date(2030, 1, 1)}


class ProofTestCase(TransactionTestCase):
    """Reports read the database from a child process: the migration must be committed."""

    serialized_rollback = True

    def setUp(self) -> None:
        self.dir = Path(tempfile.mkdtemp())
        loader.clear_cache()

    def assert_same_figures(self, pipeline: str, expected: vx.Figures, labels: dict[str, str]):
        """``labels``: source stage label -> Loudou stage key."""

        def report(name: str):
            return run_report(name=name, user=None, now=NOW, pipeline=pipeline, **PERIOD)

        funnel = {r["stage"]: r["reached"] for r in report("funnel").rows}
        for label, count in expected.reached.items():
            self.assertEqual(funnel[labels[label]], count, label)
        win_rate = report("win_rate").totals
        self.assertEqual((win_rate["won"], win_rate["lost"]), (expected.won, expected.lost))
        cycle = report("cycle").totals
        for outcome in ("won", "lost"):
            count, mean, median = expected.cycle[outcome]
            self.assertEqual(cycle[outcome]["count"], count)
            self.assertAlmostEqual(cycle[outcome]["mean_days"], mean, places=3)
            self.assertAlmostEqual(cycle[outcome]["median_days"], median, places=3)
        stays = {r["stage"]: r for r in report("time_in_stage").rows}
        for label, (count, mean, median) in expected.stays.items():
            row = stays[labels[label]]
            self.assertEqual(row["count"], count, label)
            if count:
                self.assertAlmostEqual(row["mean_days"], mean, places=3)
                self.assertAlmostEqual(row["median_days"], median, places=3)


class SalesforceProofTest(ProofTestCase):
    def test_mirrored_pipeline_keeps_every_figure(self):
        folder = vx.write_salesforce(vx.generate(400, seed=3), self.dir / "export")
        expected = vx.salesforce_figures(folder)
        summary = migrate(
            vendor="salesforce", path=folder, mirror_pipeline="Salesforce", create_owners=True
        )
        self.assertEqual(summary.created, 400)
        self.assertGreater(expected.won, 50)
        self.assertGreater(expected.lost, 50)
        keys = {s.label: s.target.key for s in summary.stages if s.target is not None}
        self.assert_same_figures("salesforce", expected, keys)


class OtherVendorsProofTest(ProofTestCase):
    def migrate_and_check(self, vendor: str, folder, expected: vx.Figures, **options) -> None:
        summary = migrate(
            vendor=vendor, path=folder, mirror_pipeline=vendor, create_owners=True, **options
        )
        self.assertEqual(summary.created, 300)
        self.assertGreater(expected.won, 40)
        self.assertGreater(expected.lost, 40)
        keys = {s.label: s.target.key for s in summary.stages if s.target is not None}
        self.assert_same_figures(vendor, expected, keys)

    def test_hubspot(self):
        folder = ox.write_hubspot(vx.generate(300, seed=4, backward=False), self.dir / "hs")
        self.migrate_and_check("hubspot", folder, ox.hubspot_figures(folder))

    def test_pipedrive(self):
        folder = ox.write_pipedrive(vx.generate(300, seed=5), self.dir / "pd")
        # Pipedrive's export does not tell the stages' order: the user does.
        order = [label for label, _o, _p in vx.SF_OPEN]
        self.migrate_and_check("pipedrive", folder, ox.pipedrive_figures(folder), stage_order=order)

    def test_zoho(self):
        folder = ox.write_zoho(vx.generate(300, seed=6), self.dir / "zoho")
        self.migrate_and_check("zoho", folder, ox.zoho_figures(folder))

    def test_chinese_crm(self):
        folder = ox.write_chinese(vx.generate(300, seed=8), self.dir / "cn")
        self.migrate_and_check("chinese", folder, ox.chinese_figures(folder))
