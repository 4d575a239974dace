"""Custom fields in spreadsheets: the deal export has one column per custom field (its
name in a zh-Hans export, its key in the English import format) and the import reads
them back, each value checked as the deal page and the API check it."""

import csv
import datetime as dt
import io
from unittest import mock

from django.db import transaction
from openpyxl import load_workbook

from loudou.deals.models import Deal
from loudou.pipelines.models import CustomField, FieldType
from loudou.spreadsheets import services as import_services
from loudou.spreadsheets.columns import Mapping, custom_field_index, field_for
from loudou.spreadsheets.export import rows, write_csv

from .base import SheetTestCase


def table(language: str) -> list[dict[str, str]]:
    header, data = rows("deals", None, language=language)
    buffer = io.StringIO()
    write_csv(header, data, buffer)
    return list(csv.DictReader(io.StringIO(buffer.getvalue())))


class CustomColumnTests(SheetTestCase):
    def setUp(self):
        super().setUp()
        # The default pipeline has budget (预算, a number) and decision_maker (决策人, text).
        CustomField.objects.create(
            key="signed_nda", name_zh="已签保密协议", name_en="NDA signed", type=FieldType.BOOLEAN
        )
        CustomField.objects.create(
            key="kickoff", name_zh="启动日期", name_en="Kick-off", type=FieldType.DATE
        )
        self.deal = self.make_deal(
            name="有字段的",
            custom={
                "budget": 250000,
                "decision_maker": "张总",
                "signed_nda": True,
                "kickoff": "2026-07-01",
            },
        )
        self.bare = self.make_deal(name="没字段的")

    def on_both_paths(self, check) -> None:
        """``check()`` with the vectorised path on and off, each rolled back."""
        for fast in (False, True):
            with (
                self.subTest(fast=fast),
                mock.patch.object(import_services, "FAST", fast),
                transaction.atomic(),
            ):
                check()
                transaction.set_rollback(True)

    def test_one_column_per_custom_field_in_either_language(self):
        zh = {r["商机名称"]: r for r in table("zh-hans")}
        self.assertEqual(
            [zh["有字段的"][h] for h in ("预算", "决策人", "已签保密协议", "启动日期")],
            ["250000", "张总", "是", "2026-07-01"],
        )
        self.assertEqual(
            [zh["没字段的"][h] for h in ("预算", "决策人", "已签保密协议", "启动日期")],
            ["", "", "", ""],
        )
        en = {r["name"]: r for r in table("en")}
        self.assertEqual(
            [en["有字段的"][h] for h in ("budget", "decision_maker", "signed_nda", "kickoff")],
            ["250000", "张总", "yes", "2026-07-01"],
        )

    def test_xlsx_cells_are_typed(self):
        self.client.force_login(self.manager)
        response = self.client.get("/export/deals.xlsx?sort=name", HTTP_ACCEPT_LANGUAGE="en")
        path = self.dir / "deals.xlsx"
        path.write_bytes(response.content)
        sheet = load_workbook(path).active
        header = [c.value for c in sheet[1]]
        by_name = {r[1].value: r for r in sheet.iter_rows(min_row=2)}
        row = {h: c.value for h, c in zip(header, by_name["有字段的"], strict=True)}
        self.assertEqual(row["budget"], 250000)
        self.assertEqual(row["kickoff"].date(), dt.date(2026, 7, 1))

    def test_the_export_imports_back_into_an_organisation_without_deals(self):
        self.client.force_login(self.manager)
        for language in ("zh-hans", "en"):
            for fmt in ("csv", "xlsx"):
                path = self.dir / f"{language}.{fmt}"
                response = self.client.get(f"/export/deals.{fmt}", HTTP_ACCEPT_LANGUAGE=language)
                path.write_bytes(response.content)
                with self.subTest(language=language, fmt=fmt), transaction.atomic():
                    Deal.objects.all().delete()
                    summary = self.run_import(path)
                    self.assertEqual((summary.created, summary.ignored_columns), (2, []))
                    self.assertEqual(
                        dict(Deal.objects.values_list("name", "custom")),
                        {
                            "有字段的": {
                                "budget": 250000,
                                "decision_maker": "张总",
                                "signed_nda": True,
                                "kickoff": "2026-07-01",
                            },
                            "没字段的": {},
                        },
                    )
                    transaction.set_rollback(True)

    def test_a_re_import_sets_and_clears_values_and_leaves_other_fields(self):
        path = self.csv(
            f"external_id,name,owner,created_at,预算,signed_nda\n"
            f"loudou-{self.deal.pk},有字段的,rep,{self.deal.created_at.isoformat()},99.5,否\n"
            f"loudou-{self.bare.pk},没字段的,rep,{self.bare.created_at.isoformat()},,TRUE\n"
        )

        def check():
            summary = self.run_import(path, actor=self.manager)
            self.assertEqual((summary.created, summary.ignored_columns), (0, []))
            self.assertEqual(
                Deal.objects.get(pk=self.deal.pk).custom,
                {
                    "budget": 99.5,
                    "decision_maker": "张总",  # no column: kept
                    "signed_nda": False,
                    "kickoff": "2026-07-01",
                },
            )
            self.assertEqual(Deal.objects.get(pk=self.bare.pk).custom, {"signed_nda": True})

        self.on_both_paths(check)
        # A file without custom columns leaves them as they are.
        path = self.csv(
            f"external_id,name,owner,created_at,amount\n"
            f"loudou-{self.deal.pk},有字段的,rep,{self.deal.created_at.isoformat()},5\n"
        )
        self.run_import(path, actor=self.manager)
        self.assertEqual(Deal.objects.get(pk=self.deal.pk).custom["budget"], 250000)

    def test_bad_values_name_their_column_and_nothing_is_imported(self):
        path = self.csv(
            "external_id,name,owner,created_at,预算,NDA signed,kickoff\n"
            "E1,一,rep,2026-01-05T09:00:00+08:00,很多,是,2026-07-01\n"
            "E2,二,rep,2026-01-05T09:00:00+08:00,5,maybe,2026/7/1\n"
            "E3,三,rep,2026-01-05T09:00:00+08:00,5,no,明天\n"
        )

        def check():
            summary = self.failing(path)
            self.assertEqual(
                [(e.row, e.column, e.value) for e in summary.errors],
                [(2, "预算", "很多"), (3, "NDA signed", "maybe"), (4, "kickoff", "明天")],
            )
            self.assertIn("预算", summary.errors[0].zh)
            self.assertIn("Budget", summary.errors[0].en)
            self.assertIn("是/否", summary.errors[1].zh)
            self.assertIn("yes or no", summary.errors[1].en)
            self.assertEqual(Deal.objects.filter(external_id__startswith="E").count(), 0)

        self.on_both_paths(check)

    def test_headers_another_column_owns_are_not_the_custom_fields(self):
        # A custom field named like a built-in column (金额, amount) or like another
        # field's key: the built-in column and the key win; the export writes a header
        # that reads back as the field.
        CustomField.objects.create(
            key="amount_note", name_zh="金额", name_en="budget", type=FieldType.TEXT
        )
        index = custom_field_index(CustomField.objects.all())
        columns = Mapping()
        self.assertEqual(field_for("金额", columns, custom=index), "amount")
        self.assertEqual(field_for("Budget", columns, custom=index), "custom:budget")
        self.assertEqual(
            field_for("custom.amount_note", columns, custom=index), "custom:amount_note"
        )
        self.assertEqual(field_for("Amount note", columns, custom=index), "custom:amount_note")
        zh_header = list(table("zh-hans")[0])
        self.assertIn("amount_note", zh_header)
        self.assertNotIn("金额", zh_header[zh_header.index("预算") :])
