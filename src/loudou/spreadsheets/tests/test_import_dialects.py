"""Each header dialect imports without a mapping file; encodings; XLSX; mapping files."""

import datetime as dt
from decimal import Decimal

from loudou.deals.models import Deal, StageEvent

from .base import SheetTestCase


def path_of(deal):
    return [
        (e.from_stage.key if e.from_stage else None, e.to_stage.key, e.at)
        for e in StageEvent.objects.filter(deal=deal).select_related("from_stage", "to_stage")
    ]


def sh(text):
    return dt.datetime.fromisoformat(text + "+08:00")


class DialectTests(SheetTestCase):
    def test_loudou_english_headers_rebuild_the_history(self):
        path = self.csv(
            "external_id,name,account,owner,team,stage,status,amount,currency,created_at,"
            "expected_close_date,closed_at,lost_reason,source,entered_needs,entered_proposal\n"
            'E1,Alpha,华为技术,rep,North,proposal,open,"1,200.50",CNY,2026-01-05 09:00,'
            "2026-03-01,,,web,2026-01-07 10:00,2026-01-20 11:00\n"
            "E2,Beta,,rep,,needs,lost,3万,,2026-01-06,,2026-02-01,price,,2026-01-08,\n"
        )
        summary = self.run_import(path)
        self.assertEqual((summary.created, summary.events_added), (2, 4))
        alpha = Deal.objects.get(external_id="E1")
        # Creation at created_at into the earliest stage with a date (METRICS.md).
        self.assertEqual(
            path_of(alpha),
            [
                (None, "needs", sh("2026-01-05T09:00")),
                ("needs", "proposal", sh("2026-01-20T11:00")),
            ],
        )
        self.assertEqual(
            (alpha.amount, alpha.account, alpha.team),
            (Decimal("1200.50"), self.account, self.north),
        )
        self.assertEqual(
            (alpha.stage.key, alpha.stage_entered_at), ("proposal", sh("2026-01-20T11:00"))
        )
        beta = Deal.objects.get(external_id="E2")
        self.assertEqual(path_of(beta)[-1][:2], ("needs", "lost"))
        self.assertEqual(
            (beta.status, beta.lost_reason, beta.amount), ("lost", self.price, Decimal("30000.00"))
        )
        self.assertEqual(beta.closed_at, sh("2026-02-01T00:00"))

    def test_chinese_headers_and_stage_names(self):
        path = self.csv(
            "商机名称,客户,负责人,阶段,金额,创建时间,预计成交日期,来源,进入确认需求时间\n"
            "华为项目,华为技术,rep,确认需求,12万,2024年3月5日,2024/4/30,展会,2024年3月8日\n"
            "小米项目,小米,rep,赢单,5000,2024/3/6,,,\n"
        )
        self.failing(path)  # the won deal has no closing date
        path = self.csv(
            "商机名称,客户,负责人,阶段,金额,创建时间,预计成交日期,来源,进入确认需求时间,成交日期\n"
            "华为项目,华为技术,rep,确认需求,12万,2024年3月5日,2024/4/30,展会,2024年3月8日,\n"
            "小米项目,小米,rep,赢单,5000,2024/3/6,,,,2024/3/20\n"
        )
        self.run_import(path)
        huawei = Deal.objects.get(name="华为项目")
        self.assertEqual(
            (huawei.stage.key, huawei.amount, huawei.source),
            ("needs", Decimal("120000.00"), "展会"),
        )
        self.assertEqual(huawei.expected_close_date, dt.date(2024, 4, 30))
        xiaomi = Deal.objects.get(name="小米项目")
        self.assertEqual((xiaomi.status, xiaomi.closed_at), ("won", sh("2024-03-20T00:00")))

    def test_hubspot_export(self):
        path = self.csv(
            "Record ID,Deal Name,Deal Stage,Create Date,Close Date,Amount,Deal owner,"
            "Date entered 'Needs confirmed (Sales pipeline)',"
            "Date entered 'Proposal & quote (Sales pipeline)'\n"
            "101,Acme,Proposal & quote,2024-01-02 10:00,2024-06-30,5000,rep,"
            "2024-01-05 10:00,2024-01-10 10:00\n"
            "102,Globex,Won (signed),2024-01-03 10:00,2024-02-15 12:00,7000,Rep,,\n"
        )
        self.run_import(path)
        acme = Deal.objects.get(external_id="101")
        self.assertEqual([p[1] for p in path_of(acme)], ["needs", "proposal"])
        self.assertEqual(acme.expected_close_date, dt.date(2024, 6, 30))  # open: expected
        globex = Deal.objects.get(external_id="102")
        self.assertEqual((globex.status, globex.closed_at), ("won", sh("2024-02-15T12:00")))
        self.assertEqual(globex.owner, self.rep)  # matched by display name "Rep"

    def test_pipedrive_export(self):
        path = self.csv(
            "Deal - ID,Deal - Title,Deal - Value,Deal - Stage,Deal - Owner,Deal - Status,"
            "Deal - Deal created,Deal - Won time,Deal - Lost time,Deal - Lost reason\n"
            "7,Initech,1000,Contract negotiation,rep,won,2024-02-01 09:00:00,"
            "2024-03-01 09:00:00,,\n"
            "8,Umbrella,2000,Proposal & quote,rep,lost,2024-02-02 09:00:00,,"
            "2024-02-20 09:00:00,Chose a competitor\n"
        )
        self.run_import(path)
        won = Deal.objects.get(external_id="7")
        self.assertEqual([p[1] for p in path_of(won)], ["negotiation", "won"])
        lost = Deal.objects.get(external_id="8")
        self.assertEqual(lost.lost_reason.key, "competitor")
        self.assertEqual(path_of(lost)[-1][:2], ("proposal", "lost"))

    def test_salesforce_export(self):
        path = self.csv(
            "Opportunity ID,Opportunity Name,Stage,Amount,Close Date,Created Date,"
            "Opportunity Owner,Account Name\n"
            '006A,Stark deal,Closed Lost,"$12,000",3/15/2024,3/1/2024,rep,Stark\n'
            "006B,Wayne deal,Needs confirmed,500,6/30/2024,3/2/2024,rep,Wayne\n"
        )
        self.run_import(path)
        stark = Deal.objects.get(external_id="006A")
        self.assertEqual((stark.status, stark.amount), ("lost", Decimal("12000.00")))
        self.assertEqual(stark.closed_at, sh("2024-03-15T00:00"))
        self.assertEqual(stark.lost_reason.key, "other")
        wayne = Deal.objects.get(external_id="006B")
        self.assertEqual(
            (wayne.stage.key, wayne.expected_close_date), ("needs", dt.date(2024, 6, 30))
        )

    def test_gbk_and_bom_files(self):
        text = "商机名称,负责人,创建时间\n华为项目,rep,2024-03-05\n"
        self.run_import(self.csv(text, "gbk.csv", "gbk"))
        self.run_import(self.csv("\ufeff" + text.replace("华为", "中兴"), "bom.csv"))
        self.assertTrue(Deal.objects.filter(name="华为项目").exists())
        self.assertTrue(Deal.objects.filter(name="中兴项目").exists())

    def test_xlsx_with_native_dates_and_numbers(self):
        path = self.xlsx(
            [
                [
                    "external_id",
                    "name",
                    "owner",
                    "amount",
                    "created_at",
                    "entered_needs",
                    "entered_proposal",
                ],
                [
                    42,
                    "Excel deal",
                    "rep",
                    1500.5,
                    dt.datetime(2024, 5, 1, 9, 30),
                    dt.datetime(2024, 5, 2),
                    45417,
                ],
            ]
        )
        self.run_import(path)
        deal = Deal.objects.get(external_id="42")
        self.assertEqual(deal.amount, Decimal("1500.50"))
        self.assertEqual(path_of(deal)[0], (None, "needs", sh("2024-05-01T09:30")))
        self.assertEqual(path_of(deal)[1][1:], ("proposal", sh("2024-05-05T00:00")))  # serial

    def test_mapping_file_maps_headers_and_stages(self):
        mapping = self.dir / "map.toml"
        mapping.write_text(
            '[columns]\n"Opportunity Title" = "name"\n"Rep" = "owner"\n'
            '"Qualified on" = "entered_needs"\n"Phase" = "stage"\n\n'
            '[stages]\n"Qualified to buy" = "needs"\n',
            encoding="utf-8",
        )
        path = self.csv(
            "Opportunity Title,Rep,Phase,Qualified on,Colour\n"
            "Mapped,rep,Qualified to buy,2024-01-03,blue\n"
        )
        summary = self.run_import(path, mapping=mapping)
        self.assertEqual(summary.ignored_columns, ["Colour"])
        self.assertEqual(Deal.objects.get(name="Mapped").stage.key, "needs")

    def test_mapped_stage_names_match_however_they_are_spaced(self):
        mapping = self.dir / "map.toml"
        mapping.write_text('[stages]\n"Stage - Qualified" = "needs"\n', encoding="utf-8")
        path = self.csv("name,owner,stage\nSpaced,rep,Stage-Qualified\n", "spaced.csv")
        self.run_import(path, mapping=mapping)
        self.assertEqual(Deal.objects.get(name="Spaced").stage.key, "needs")
