"""Exports: what the user may see, formula cells neutralised, CSV and XLSX."""

import csv
import io

from django.core.management import call_command
from python_calamine import CalamineWorkbook

from loudou.activities.services import log_activity
from loudou.deals import services
from loudou.spreadsheets.export import rows, write_csv

from .base import SheetTestCase


def exported(kind, user):
    header, data = rows(kind, user)
    buffer = io.StringIO()
    write_csv(header, data, buffer)
    return list(csv.DictReader(io.StringIO(buffer.getvalue())))


class ExportTests(SheetTestCase):
    def test_only_what_the_user_may_see(self):
        self.make_deal(name="mine")
        self.make_deal(owner=self.outsider, name="theirs")
        self.assertEqual([r["name"] for r in exported("deals", self.rep)], ["mine"])
        self.assertEqual(len(exported("deals", None)), 2)
        self.assertEqual(len(exported("history", self.rep)), 1)

    def test_formula_cells_are_neutralised(self):
        deal = self.make_deal(name='=HYPERLINK("http://x")', source="+cmd|' /C calc'!A0")
        log_activity(actor=self.rep, deal=deal, type="note", note="@SUM(1+1)")
        row = exported("deals", None)[0]
        self.assertEqual(row["name"], '\'=HYPERLINK("http://x")')
        self.assertEqual(row["source"], "'+cmd|' /C calc'!A0")
        self.assertEqual(exported("activities", None)[0]["note"], "'@SUM(1+1)")
        out = self.dir / "deals.xlsx"
        call_command("export", "deals", "--format", "xlsx", "--out", str(out))
        sheet = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
        self.assertEqual(sheet[1][1], '\'=HYPERLINK("http://x")')

    def test_all_kinds_and_entered_columns(self):
        deal = self.make_deal(name="d", amount="99.5")
        log_activity(actor=self.rep, deal=deal, type="call")
        services.move_deal(actor=self.rep, deal=deal, to_stage=self.stages["needs"])
        services.win_deal(actor=self.admin, deal=deal, override_reason="signed")
        services.record_payment(
            actor=self.rep, deal=deal, amount="10", paid_on=deal.closed_at.date()
        )
        row = exported("deals", None)[0]
        self.assertEqual((row["status"], row["amount"], row["stage"]), ("won", "99.50", "won"))
        self.assertTrue(row["entered_needs"] and row["entered_contact"])
        self.assertEqual(row["external_id"], f"loudou-{deal.pk}")
        self.assertEqual(
            [r["stage"] for r in exported("history", None)], ["contact", "needs", "won"]
        )
        self.assertEqual(exported("payments", None)[0]["amount"], "10.00")
        self.assertEqual(exported("activities", None)[0]["type"], "call")

    def test_command_writes_csv_with_bom(self):
        self.make_deal(name="中文")
        out = self.dir / "deals.csv"
        call_command("export", "deals", "--out", str(out))
        self.assertTrue(out.read_bytes().startswith(b"\xef\xbb\xbf"))
        self.assertIn("中文", out.read_text(encoding="utf-8-sig"))
