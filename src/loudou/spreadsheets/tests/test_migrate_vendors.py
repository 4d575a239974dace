"""`loudou import hubspot|pipedrive|zoho|chinese`: what each vendor's export brings beyond
the deals (the funnel figures are proved in test_migrate_proof.py)."""

import csv

from openpyxl import Workbook

from loudou.accounts.models import Contact
from loudou.deals.models import Deal
from loudou.spreadsheets.results import ImportFailed
from loudou.spreadsheets.vendors.migrate import migrate

from . import other_exports as ox
from . import vendor_exports as vx
from .base import SheetTestCase


class VendorMigrationTest(SheetTestCase):
    def test_hubspot_companies_contacts_and_derived_columns(self):
        folder = ox.write_hubspot(vx.generate(20, seed=1, backward=False), self.dir / "hs")
        summary = migrate(vendor="hubspot", path=folder, mirror_pipeline="HS", create_owners=True)
        self.assertEqual(summary.created, 20)
        self.assertEqual(Contact.objects.get(name="Ann Chen").email, "ann@example.com")
        deals = {c.file: c for c in summary.columns}["hubspot-crm-exports-all-deals-2024-12-31.csv"]
        self.assertIn('Date exited "Appointment Scheduled (Sales Pipeline)"', deals.ignored)
        order = [s.label for s in summary.stages if s.kind == "open"]
        self.assertEqual(order, [label for label, _p in ox.HS_OPEN])

    def test_pipedrive_needs_the_order_to_mirror_and_leaves_deleted_deals_out(self):
        folder = ox.write_pipedrive(vx.generate(20, seed=2), self.dir / "pd")
        path = folder / "deals.csv"
        rows = list(csv.reader(path.open(encoding="utf-8")))
        rows[1][8] = "deleted"
        with open(path, "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(rows)
        with self.assertRaises(ImportFailed) as ctx:
            migrate(vendor="pipedrive", path=folder, mirror_pipeline="PD", create_owners=True)
        self.assertIn("order = [...]", ctx.exception.summary.errors[0].en)
        stages = self.dir / "order.toml"
        order = ", ".join(f'"{label}"' for label, _o, _p in vx.SF_OPEN)
        stages.write_text(f"order = [{order}]\n", encoding="utf-8")
        summary = migrate(
            vendor="pipedrive",
            path=folder,
            mirror_pipeline="PD",
            create_owners=True,
            stages=stages,
        )
        self.assertEqual((summary.created, summary.skipped), (19, 1))
        self.assertFalse(Deal.objects.filter(external_id=rows[1][0]).exists())
        self.assertTrue(Contact.objects.filter(name="Ann Chen").exists())
        lost = Deal.objects.filter(status="lost").first()
        self.assertEqual(lost.lost_reason.key, "price")  # "Price", a known reason

    def test_zoho_closed_lost_to_competition_is_lost(self):
        folder = ox.write_zoho(vx.generate(20, seed=3), self.dir / "zoho")
        for name in ("Deals_001.csv", "Stage_History_001.csv"):
            path = folder / name
            path.write_text(
                path.read_text(encoding="utf-8").replace(
                    '"Closed Lost"', '"Closed Lost to Competition"'
                ),
                encoding="utf-8",
            )
        summary = migrate(vendor="zoho", path=folder, mirror_pipeline="Zoho", create_owners=True)
        lost = [s for s in summary.stages if s.label == "Closed Lost to Competition"]
        self.assertEqual(lost[0].kind, "lost")
        self.assertEqual(
            Deal.objects.filter(status="lost").count(),
            sum(1 for d in vx.generate(20, seed=3) if d.outcome == "lost"),
        )

    def test_chinese_crm_workbook_with_a_status_column(self):
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(
            [
                "商机名称",
                "客户名称",
                "销售阶段",
                "商机金额",
                "负责人",
                "创建时间",
                "赢率",
                "商机状态",
                "结单日期",
            ]
        )
        sheet.append(
            [
                "华为扩容",
                "华为技术",
                "方案报价",
                "12万",
                "rep",
                "2024-01-05 10:00",
                "50%",
                "进行中",
                "",
            ]
        )
        sheet.append(
            [
                "腾讯试点",
                "腾讯",
                "谈判审核",
                "80,000",
                "rep",
                "2024-01-08 09:00",
                "70%",
                "赢单",
                "2024-02-01",
            ]
        )
        sheet.append(
            [
                "阿里",
                "阿里巴巴",
                "方案报价",
                "5000",
                "teammate",
                "2024-01-09 09:00",
                "50%",
                "输单",
                "2024-02-03",
            ]
        )
        path = self.dir / "商机导出.xlsx"
        workbook.save(path)
        summary = migrate(vendor="chinese", path=path, mirror_pipeline="国内")
        self.assertEqual(summary.created, 3)
        huawei = Deal.objects.get(name="华为扩容")
        self.assertEqual(
            (huawei.status, str(huawei.amount), huawei.stage.name_zh),
            ("open", "120000.00", "方案报价"),
        )
        self.assertEqual(Deal.objects.get(name="腾讯试点").status, "won")
        self.assertEqual(Deal.objects.get(name="阿里").owner, self.teammate)
        # No ids in the file: a second run matches the deals by name, account and time.
        again = migrate(vendor="chinese", path=path, mirror_pipeline="国内")
        self.assertEqual((again.created, again.unchanged), (0, 3))


class SeveralPipelinesTest(SheetTestCase):
    def test_an_export_of_several_pipelines_is_migrated_one_at_a_time(self):
        folder = ox.write_hubspot(vx.generate(20, seed=9, backward=False), self.dir / "hs")
        [path] = folder.glob("*-deals-*.csv")
        lines = path.read_text(encoding="utf-8").splitlines()
        lines[1] = lines[1].replace('"Sales Pipeline"', '"Renewals"', 1)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with self.assertRaises(ImportFailed) as ctx:
            migrate(vendor="hubspot", path=folder, mirror_pipeline="HS", create_owners=True)
        [problem] = ctx.exception.summary.errors
        self.assertIn("Sales Pipeline (19), Renewals (1)", problem.en)
        summary = migrate(
            vendor="hubspot",
            path=folder,
            mirror_pipeline="HS",
            create_owners=True,
            source_pipeline="Sales Pipeline",
        )
        self.assertEqual((summary.created, summary.other_pipelines), (19, 1))
