"""Exports: what the user may see, formula cells neutralised, CSV and XLSX."""

import csv
import datetime as dt
import io

from django.core.management import call_command
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from loudou.activities.services import log_activity
from loudou.deals import services
from loudou.deals.models import Deal
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


class XlsxCellTests(SheetTestCase):
    """XLSX cells are typed: amounts are numbers with a number format, times are Excel
    date-times to the second in the organisation's time zone (TIME_ZONE, Asia/Shanghai
    here), dates are dates; the CSV keeps the import format's text."""

    def test_amounts_are_numbers_and_times_are_excel_dates(self):
        created = dt.datetime(2026, 5, 15, 22, 53, 17, 90876, tzinfo=dt.UTC)
        deal = self.make_deal(
            name="d", amount="120000", at=created, expected_close_date=dt.date(2026, 8, 18)
        )
        self.client.force_login(self.manager)
        for language, amount, created_at, expected in (
            ("en", "amount", "created_at", "expected_close_date"),
            ("zh-hans", "金额", "创建时间", "预计成交日期"),
        ):
            with self.subTest(language=language):
                response = self.client.get(
                    "/export/deals.xlsx?sort=-created_at", HTTP_ACCEPT_LANGUAGE=language
                )
                path = self.dir / f"{language}.xlsx"
                path.write_bytes(response.content)
                sheet = load_workbook(path).active
                header = [c.value for c in sheet[1]]
                row = {h: c for h, c in zip(header, sheet[2], strict=True)}
                self.assertEqual(row[amount].value, 120000)
                self.assertEqual(row[amount].data_type, "n")
                self.assertEqual(row[amount].number_format, "#,##0.00")
                # 06:53:17 in Shanghai, the microseconds dropped.
                self.assertEqual(row[created_at].value, dt.datetime(2026, 5, 16, 6, 53, 17))
                self.assertTrue(row[created_at].is_date)
                self.assertEqual(row[created_at].number_format, "yyyy-mm-dd hh:mm:ss")
                self.assertEqual(row[expected].value.date(), dt.date(2026, 8, 18))
                self.assertEqual(row[expected].number_format, "yyyy-mm-dd")
        # The CSV stays the import format's text, to the microsecond.
        row = exported("deals", None)[0]
        self.assertEqual(row["amount"], "120000.00")
        self.assertEqual(row["created_at"], "2026-05-16T06:53:17.090876+08:00")
        self.assertEqual(row["expected_close_date"], "2026-08-18")
        self.assertEqual(deal.pk, Deal.objects.get().pk)

    def test_payments_and_history_are_typed_too(self):
        deal = self.make_deal(name="d", amount="99.5")
        services.win_deal(actor=self.admin, deal=deal, override_reason="signed")
        services.record_payment(
            actor=self.rep, deal=deal, amount="10.25", paid_on=dt.date(2026, 1, 2)
        )
        out = self.dir / "payments.xlsx"
        call_command("export", "payments", "--format", "xlsx", "--out", str(out))
        sheet = load_workbook(out).active
        self.assertEqual(sheet["B2"].value, 10.25)
        self.assertEqual(sheet["C2"].value.date(), dt.date(2026, 1, 2))
        out = self.dir / "history.xlsx"
        call_command("export", "history", "--format", "xlsx", "--out", str(out))
        changed = load_workbook(out).active["C2"]
        self.assertTrue(changed.is_date)
        self.assertEqual(changed.value.microsecond, 0)
