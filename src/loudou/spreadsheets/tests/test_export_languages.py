"""The deal list's exports in the user's language: in zh-Hans, the Chinese headers the
importer reads and words instead of codes (status, stage, pipeline, forecast category, lost
reason, people by name); the English export stays the import format of codes. A zh-Hans
export imports back unchanged, and the importer reads those words in both languages."""

import csv
import io
from unittest import mock

from django.core.management import call_command
from django.db import transaction
from python_calamine import CalamineWorkbook

from loudou.activities.services import log_activity
from loudou.core.testing import make_user
from loudou.deals import bulk, services
from loudou.deals.models import Deal, StageEvent
from loudou.people.models import Role
from loudou.pipelines.models import CustomField
from loudou.spreadsheets import services as import_services
from loudou.spreadsheets.columns import DEAL_EXPORT_COLUMNS, custom_field_index, field_for
from loudou.spreadsheets.columns import Mapping as Columns
from loudou.spreadsheets.export import rows, write_csv

from .base import SheetTestCase

ZH_HEADER = [
    "外部编号",
    "商机名称",
    "客户",
    "负责人",
    "团队",
    "销售流程",
    "阶段",
    "状态",
    "金额",
    "币种",
    "创建时间",
    "预计成交日期",
    "关闭时间",
    "输单原因",
    "来源",
    "预测类别",
    "预测类别（含阶段默认）",
    "最后修改时间",
    "最后活动时间",
    "进入初步接洽时间",
    "进入确认需求时间",
    "进入方案报价时间",
    "进入合同谈判时间",
    # custom fields, by name
    "预算",
    "决策人",
]


def table(kind, user, language):
    header, data = rows(kind, user, language=language)
    buffer = io.StringIO()
    write_csv(header, data, buffer)
    return list(csv.reader(io.StringIO(buffer.getvalue())))


class ExportLanguageTests(SheetTestCase):
    def setUp(self):
        super().setUp()
        self.open = self.make_deal(name="进行中的", account=self.account, source="展会")
        self.open = services.update_deal(
            actor=self.rep,
            deal=self.open,
            expected_version=self.open.version,
            changes={"forecast_category": "best_case"},
        )
        self.won = self.make_deal(name="赢了的")
        services.win_deal(actor=self.admin, deal=self.won, override_reason="test set-up")
        self.lost = self.make_deal(owner=self.teammate, name="输了的")
        services.lose_deal(actor=self.teammate, deal=self.lost, reason=self.price)

    def test_zh_hans_headers_are_the_importers_and_codes_are_words(self):
        header, *data = table("deals", None, "zh-hans")
        self.assertEqual(header, ZH_HEADER)
        english = [
            *DEAL_EXPORT_COLUMNS,
            *(f"entered:{s}" for s in ZH_STAGES),
            "custom:budget",
            "custom:decision_maker",
        ]
        custom = custom_field_index(CustomField.objects.all())
        self.assertEqual([field_for(h, Columns(), custom=custom) for h in header], english)
        by_name = {row[1]: dict(zip(header, row, strict=True)) for row in data}
        self.assertEqual(
            {name: row["状态"] for name, row in by_name.items()},
            {"进行中的": "进行中", "赢了的": "赢单", "输了的": "输单"},
        )
        opened = by_name["进行中的"]
        self.assertEqual(
            (opened["阶段"], opened["销售流程"], opened["预测类别"], opened["负责人"]),
            ("初步接洽", "销售流程", "最佳情况", "Rep"),
        )
        self.assertEqual(by_name["输了的"]["输单原因"], "价格")
        self.assertEqual(by_name["输了的"]["负责人"], "Teammate")
        self.assertEqual(by_name["赢了的"]["阶段"], "签约成单")
        # Times and amounts stay as the importer reads them everywhere.
        self.assertEqual(opened["金额"], "10000.00")
        self.assertRegex(opened["创建时间"], r"^\d{4}-\d{2}-\d{2}T")

    def test_the_english_export_keeps_the_codes(self):
        header, *data = table("deals", None, "en")
        self.assertEqual(header[: len(DEAL_EXPORT_COLUMNS)], list(DEAL_EXPORT_COLUMNS))
        row = {r[1]: dict(zip(header, r, strict=True)) for r in data}["进行中的"]
        self.assertEqual(
            (row["status"], row["stage"], row["pipeline"], row["forecast_category"]),
            ("open", "contact", "default", "best_case"),
        )
        self.assertEqual(row["owner"], "rep")
        self.assertEqual(table("history", None, "en")[0], HISTORY_EN)

    def test_history_in_zh_hans(self):
        header, *data = table("history", None, "zh-hans")
        self.assertEqual(header, ["外部编号", "阶段", "变更时间", "操作人"])
        self.assertEqual({tuple(r[1:2]) for r in data}, {("初步接洽",), ("签约成单",), ("输单",)})
        self.assertIn("Teammate", {r[3] for r in data})

    def test_a_shared_display_name_is_written_as_the_username(self):
        # Two people called "Rep": the name would import as either of them.
        namesake = make_user("rep2", Role.REP, self.north)
        namesake.display_name = "Rep"
        namesake.save(update_fields=["display_name"])
        header, *data = table("deals", None, "zh-hans")
        owners = {dict(zip(header, r, strict=True))["负责人"] for r in data}
        self.assertEqual(owners, {"rep", "Teammate"})

    def test_a_stage_name_the_importer_would_misread_stays_its_key(self):
        # Another stage known by this name; a name the header reader would respace.
        contact = self.stages["contact"]
        contact.name_en = "确认需求"
        contact.save(update_fields=["name_en"])
        self.stages["proposal"].name_zh = "方案_报价"
        self.stages["proposal"].save(update_fields=["name_zh"])
        first = len(DEAL_EXPORT_COLUMNS)
        header = table("deals", None, "zh-hans")[0][first : first + 4]
        self.assertEqual(
            header, ["进入初步接洽时间", "进入needs时间", "entered_proposal", "进入合同谈判时间"]
        )
        self.assertEqual(
            [field_for(h, Columns()) for h in header],
            ["entered:初步接洽", "entered:needs", "entered:proposal", "entered:合同谈判"],
        )

    def test_the_web_export_follows_the_users_language(self):
        self.client.force_login(self.manager)
        for language, first in (("zh-hans", "外部编号"), ("en", "external_id")):
            with self.subTest(language=language):
                response = self.client.get(
                    "/export/deals.csv?status=lost", HTTP_ACCEPT_LANGUAGE=language
                )
                text = response.content.decode("utf-8-sig")
                lines = list(csv.reader(io.StringIO(text)))
                self.assertEqual(lines[0][0], first)
                self.assertEqual([r[1] for r in lines[1:]], ["输了的"])
                self.assertIn("输单" if language == "zh-hans" else "lost", lines[1])
                xlsx = self.client.get("/export/deals.xlsx", HTTP_ACCEPT_LANGUAGE=language)
                path = self.dir / f"{language}.xlsx"
                path.write_bytes(xlsx.content)
                sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
                self.assertEqual(sheet[0][0], first)
                history = self.client.get("/export/history.csv", HTTP_ACCEPT_LANGUAGE=language)
                self.assertTrue(
                    history.content.decode("utf-8-sig").startswith(
                        "外部编号" if language == "zh-hans" else "external_id"
                    )
                )

    def test_the_command_exports_either_language(self):
        out = self.dir / "deals.csv"
        call_command("export", "deals", "--out", str(out))
        self.assertTrue(out.read_text(encoding="utf-8-sig").startswith("external_id,"))
        call_command("export", "deals", "--lang", "zh-hans", "--out", str(out))
        self.assertTrue(out.read_text(encoding="utf-8-sig").startswith("外部编号,"))

    def test_a_zh_hans_export_imports_back_unchanged(self):
        log_activity(actor=self.rep, deal=self.open, type="call")
        self.client.force_login(self.manager)
        before = snapshot()
        # XLSX times are Excel's, to the second: they name the recorded ones all the same.
        for fmt in ("csv", "xlsx"):
            deals_file = self.dir / f"商机.{fmt}"
            history_file = self.dir / f"阶段历史.{fmt}"
            for url, path in (
                (f"/export/deals.{fmt}", deals_file),
                (f"/export/history.{fmt}", history_file),
            ):
                path.write_bytes(self.client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content)
            for fast, history in ((False, history_file), (True, history_file), (False, None)):
                with (
                    self.subTest(fmt=fmt, fast=fast, history=history is not None),
                    mock.patch.object(import_services, "FAST", fast),
                    transaction.atomic(),
                ):
                    summary = self.run_import(deals_file, actor=self.manager, history=history)
                    self.assertEqual((summary.created, summary.events_added), (0, 0))
                    self.assertEqual(snapshot(), before)
                    transaction.set_rollback(True)


class EffectiveForecastCategoryTests(SheetTestCase):
    """The deal page shows a deal's forecast category, or its stage's when it has none:
    the export writes the deal's own (forecast_category, which the import sets) and, in a
    column of its own the import never reads, the one the page shows."""

    def test_the_page_category_is_exported_beside_the_deals_own(self):
        follows = self.make_deal(name="跟随阶段", stage=self.stages["proposal"])
        own = self.make_deal(name="自己的")
        own = services.update_deal(
            actor=self.rep,
            deal=own,
            expected_version=own.version,
            changes={"forecast_category": "commit"},
        )
        header, *data = table("deals", None, "zh-hans")
        zh = {r[1]: dict(zip(header, r, strict=True)) for r in data}
        self.assertEqual(zh["跟随阶段"]["预测类别"], "")
        self.assertEqual(zh["跟随阶段"]["预测类别（含阶段默认）"], "最佳情况")
        self.assertEqual(zh["自己的"]["预测类别"], "承诺")
        self.assertEqual(zh["自己的"]["预测类别（含阶段默认）"], "承诺")
        header, *data = table("deals", None, "en")
        en = {r[1]: dict(zip(header, r, strict=True)) for r in data}
        self.assertEqual(
            (en["跟随阶段"]["forecast_category"], en["跟随阶段"]["effective_forecast_category"]),
            ("", "best_case"),
        )
        self.client.force_login(self.manager)
        page = self.client.get(f"/deals/{follows.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
        self.assertContains(page, "最佳情况")

    def test_the_effective_column_is_never_imported(self):
        # A category the stage gave stays the stage's: it follows the stage when it moves.
        path = self.csv(
            "external_id,name,owner,stage,effective_forecast_category,预测类别（含阶段默认）,"
            "created_at\n"
            "E1,一,rep,contact,commit,承诺,2026-01-05T09:00:00+08:00\n"
        )
        for fast in (False, True):
            with (
                self.subTest(fast=fast),
                mock.patch.object(import_services, "FAST", fast),
                transaction.atomic(),
            ):
                summary = self.run_import(path)
                self.assertEqual(summary.created, 1)
                self.assertEqual(summary.ignored_columns, [])
                self.assertEqual(Deal.objects.get().forecast_category, "")
                transaction.set_rollback(True)


class TranslatedValuesImportTests(SheetTestCase):
    def test_forecast_categories_and_pipelines_by_name_in_both_languages(self):
        path = self.csv(
            "external_id,name,owner,pipeline,status,forecast_category,created_at\n"
            "E1,一,rep,销售流程,进行中,最佳情况,2026-01-05T09:00:00+08:00\n"
            "E2,二,rep,Sales pipeline,Open,Best case,2026-01-05T09:00:00+08:00\n"
            "E3,三,rep,default,open,commit,2026-01-05T09:00:00+08:00\n"
            "E4,四,rep,DEFAULT,Open,承诺,2026-01-05T09:00:00+08:00\n"
            "E5,五,rep,,,Omitted,2026-01-05T09:00:00+08:00\n"
            "E6,六,rep,,,管道,2026-01-05T09:00:00+08:00\n"
        )
        for fast in (False, True):
            with (
                self.subTest(fast=fast),
                mock.patch.object(import_services, "FAST", fast),
                transaction.atomic(),
            ):
                self.assertEqual(self.run_import(path).created, 6)
                self.assertEqual(
                    dict(Deal.objects.values_list("external_id", "forecast_category")),
                    {
                        "E1": "best_case",
                        "E2": "best_case",
                        "E3": "commit",
                        "E4": "commit",
                        "E5": "omitted",
                        "E6": "pipeline",
                    },
                )
                self.assertEqual({d.pipeline for d in Deal.objects.all()}, {self.pipeline})
                transaction.set_rollback(True)

    def test_an_unknown_category_names_the_words_it_takes(self):
        path = self.csv(
            "external_id,name,owner,forecast_category,created_at\n"
            "E1,一,rep,maybe,2026-01-05T09:00:00+08:00\n"
        )
        summary = self.failing(path)
        self.assertIn("最佳情况", summary.errors[0].zh)
        self.assertIn("Best case", summary.errors[0].en)
        self.assertFalse(Deal.objects.exists())


ZH_STAGES = ["初步接洽", "确认需求", "方案报价", "合同谈判"]
HISTORY_EN = ["external_id", "stage", "changed_at", "changed_by"]


def snapshot() -> tuple[list, list]:
    """Every deal's columns and every event. Not the external id: a deal made in Loudou
    takes the one its export gave it (loudou-<id>) when the file comes back; nor the
    version, which a re-import raises."""
    columns = [c for c in bulk.DEAL_COLUMNS if c != "external_id"]
    deals = sorted(Deal.objects.values_list("pk", *columns), key=str)
    events = sorted(
        StageEvent.objects.values_list("deal_id", "from_stage_id", "to_stage_id", "at", "by_id"),
        key=str,
    )
    return deals, events
