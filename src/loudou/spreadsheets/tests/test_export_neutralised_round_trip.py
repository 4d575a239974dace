"""Exports keep spreadsheet programs from running a cell as a formula: a cell starting with
= + - @ tab or CR gets a leading apostrophe. A word written that way no longer named what
it stood for when the file came back: a stage named "-初步" was refused as unknown, an
owner called "=Boss" was unknown, a lost reason "@价格" was silently replaced by "other"
with a note "'@价格", a deal named "=1+1" came back as a second deal "'=1+1"; in English, a
username like "@bob". Now the importer reads a cell quoted as exports quote it as the text
quoted (``spreadsheets.quoting``: exactly one apostrophe off, and text that itself starts
with apostrophes before such a character gets one more on export): both languages, both
import paths, and still no cell that a spreadsheet would run."""

import csv
import io
from typing import Any
from unittest import mock

from django.db import transaction

from loudou.core.testing import make_user
from loudou.deals import services
from loudou.deals.models import Deal, LostReason
from loudou.people.models import Role, Team, User
from loudou.pipelines import services as config
from loudou.pipelines.models import CustomField
from loudou.spreadsheets import services as import_services
from loudou.spreadsheets.export import rows, write_csv
from loudou.spreadsheets.fast import FastPath

from .base import SheetTestCase
from .test_export_languages import snapshot

RISKY = ("=", "+", "-", "@", "\t", "\r")
FIELDS = (
    "name",
    "account__name",
    "source",
    "owner_id",
    "team_id",
    "pipeline_id",
    "stage_id",
    "status",
    "lost_reason_id",
    "lost_note",
    "amount",
    "currency",
    "forecast_category",
)


def table(kind: str, language: str) -> list[list[str]]:
    header, data = rows(kind, None, language=language)
    buffer = io.StringIO()
    write_csv(header, data, buffer)
    return list(csv.reader(io.StringIO(buffer.getvalue())))


def deals_by_name() -> dict[str, tuple]:
    return {row[0]: row for row in Deal.objects.values_list(*FIELDS)}


class NeutralisedWordsTests(SheetTestCase):
    def setUp(self):
        super().setUp()
        self.teammate.display_name = "=Boss"
        self.teammate.save(update_fields=["display_name"])
        # A username a spreadsheet would run, and a display name too: no word to write.
        self.bob = make_user("@bob", Role.REP, self.north)
        self.bob.display_name = "+Bob"
        self.bob.save(update_fields=["display_name"])
        self.north.name = "=North"
        self.north.save(update_fields=["name"])
        contact = self.stages["contact"]
        contact.name_zh = "-初步"
        contact.save(update_fields=["name_zh"])
        self.pipeline.name_zh = "+销售流程"
        self.pipeline.save(update_fields=["name_zh"])
        self.price.name_zh = "@价格"
        self.price.save(update_fields=["name_zh"])
        # A key a spreadsheet would run: the English export has nothing else to write.
        self.cheap = LostReason.objects.create(key="-cheap", name_zh="便宜", name_en="Cheap")
        self.open = self.make_deal(owner=self.teammate, name="进行中的", account=self.account)
        self.lost = self.make_deal(owner=self.bob, name="输了的")
        services.lose_deal(actor=self.bob, deal=self.lost, reason=self.price)
        self.cheaper = self.make_deal(owner=self.teammate, name="也输了")
        services.lose_deal(actor=self.manager, deal=self.cheaper, reason=self.cheap)

    def files(self, language: str) -> tuple:
        self.client.force_login(self.admin)
        deals_file = self.dir / f"deals-{language}.csv"
        history_file = self.dir / f"history-{language}.csv"
        for url, path in (("/export/deals.csv", deals_file), ("/export/history.csv", history_file)):
            path.write_bytes(self.client.get(url, HTTP_ACCEPT_LANGUAGE=language).content)
        return deals_file, history_file

    def test_no_cell_starts_a_formula(self):
        for language in ("zh-hans", "en"):
            for kind in ("deals", "history"):
                for row in table(kind, language)[1:]:
                    for cell in row:
                        with self.subTest(language=language, kind=kind, cell=cell):
                            self.assertNotIn(cell[:1], RISKY)

    def test_words_and_codes_are_written_quoted(self):
        header, *data = table("deals", "zh-hans")
        by_name = {row[1]: dict(zip(header, row, strict=True)) for row in data}
        opened = by_name["进行中的"]
        self.assertEqual(
            (opened["负责人"], opened["阶段"], opened["销售流程"], opened["团队"]),
            ("'=Boss", "'-初步", "'+销售流程", "'=North"),
        )
        self.assertEqual(
            (by_name["输了的"]["负责人"], by_name["输了的"]["输单原因"]), ("'+Bob", "'@价格")
        )
        self.assertEqual(by_name["也输了"]["输单原因"], "便宜")
        history = table("history", "zh-hans")[1:]
        self.assertEqual({r[1] for r in history}, {"'-初步", "输单"})
        self.assertEqual({r[3] for r in history}, {"'=Boss", "'+Bob", "Manager"})
        header, *data = table("deals", "en")
        by_name = {row[1]: dict(zip(header, row, strict=True)) for row in data}
        self.assertEqual(by_name["也输了"]["lost_reason"], "'-cheap")
        self.assertEqual(by_name["输了的"]["owner"], "'@bob")

    def test_an_export_imports_back_unchanged(self):
        for language in ("zh-hans", "en"):
            deals_file, history_file = self.files(language)
            before = snapshot()
            for fast in (False, True):
                with (
                    self.subTest(language=language, fast=fast),
                    mock.patch.object(import_services, "FAST", fast),
                    transaction.atomic(),
                ):
                    summary = self.run_import(deals_file, actor=self.admin, history=history_file)
                    self.assertEqual((summary.created, summary.events_added), (0, 0))
                    self.assertEqual(snapshot(), before)
                    transaction.set_rollback(True)

    def test_an_export_fills_an_organisation_without_deals_alike(self):
        # Without the history file, on both paths: the fast one takes every row here (a
        # file with custom-field columns goes to the per-row path: none here).
        CustomField.objects.all().delete()
        before = deals_by_name()
        users = set(User.objects.values_list("pk", flat=True))
        taken: list[int] = []  # the rows the vectorised path took
        prepare_frame = FastPath.prepare_frame

        def spy(path: FastPath, raw: Any) -> Any:
            prepared, rest = prepare_frame(path, raw)
            taken.append(prepared.deals.height)
            return prepared, rest

        for language in ("zh-hans", "en"):
            deals_file, _history = self.files(language)
            for fast in (False, True):
                with (
                    self.subTest(language=language, fast=fast),
                    mock.patch.object(import_services, "FAST", fast),
                    mock.patch.object(FastPath, "prepare_frame", spy),
                    transaction.atomic(),
                ):
                    Deal.objects.all().delete()
                    summary = self.run_import(deals_file, actor=self.admin)
                    self.assertEqual(summary.created, 3)
                    self.assertEqual(sum(taken), 3 if fast else 0)
                    taken.clear()
                    self.assertEqual(deals_by_name(), before)
                    self.assertEqual(set(User.objects.values_list("pk", flat=True)), users)
                    transaction.set_rollback(True)

    def test_free_text_comes_back_as_written(self):
        # Names, accounts, sources and external ids a spreadsheet would run, and a name
        # that does start with an apostrophe: a re-import made a second deal "'=1+1".
        self.make_deal(name="=1+1", source="-展会", account_name="@Acme", external_id="=E1")
        self.make_deal(name="'=literal", source="''-x", external_id="-E2")
        self.make_deal(name="-5", source="'-5", external_id="'@E3")
        before = snapshot()
        names = deals_by_name()
        external = {e or f"loudou-{pk}" for pk, e in Deal.objects.values_list("pk", "external_id")}
        for language in ("zh-hans", "en"):
            deals_file, history_file = self.files(language)
            for fast in (False, True):
                with (
                    self.subTest(language=language, fast=fast),
                    mock.patch.object(import_services, "FAST", fast),
                    transaction.atomic(),
                ):
                    summary = self.run_import(deals_file, actor=self.admin, history=history_file)
                    self.assertEqual((summary.created, summary.events_added), (0, 0))
                    self.assertEqual(snapshot(), before)
                    transaction.set_rollback(True)
                with (
                    self.subTest(language=language, fast=fast, into="no deals"),
                    mock.patch.object(import_services, "FAST", fast),
                    transaction.atomic(),
                ):
                    Deal.objects.all().delete()
                    self.assertEqual(self.run_import(deals_file, actor=self.admin).created, 6)
                    self.assertEqual(deals_by_name(), names)
                    self.assertEqual(
                        set(Deal.objects.values_list("external_id", flat=True)), external
                    )
                    transaction.set_rollback(True)

    def test_a_pipeline_whose_key_is_quoted_keeps_its_history(self):
        # The history file's stages are read in the deal's pipeline, named by its quoted
        # key in English; by its name in zh-Hans.
        renewals = config.create_pipeline(
            actor=self.admin, key="-renewals", name_zh="续约", name_en="Renewals"
        )
        self.make_deal(name="续约的", pipeline=renewals)
        for language in ("zh-hans", "en"):
            deals_file, history_file = self.files(language)
            before = snapshot()
            with self.subTest(language=language), transaction.atomic():
                summary = self.run_import(deals_file, actor=self.admin, history=history_file)
                self.assertEqual((summary.created, summary.events_added), (0, 0))
                self.assertEqual(snapshot(), before)
                transaction.set_rollback(True)


class QuotedCellsImportTests(SheetTestCase):
    """Any file, not only Loudou's exports: a cell quoted as exports quote is read as the
    text quoted; a name that does start with an apostrophe is still found as written."""

    def setUp(self):
        super().setUp()
        self.bob = make_user("@bob", Role.REP, self.north)
        self.odd = Team.objects.create(name="'=Odd")
        make_user("odd", Role.REP, self.odd)
        self.stages["contact"].name_zh = "-初步"
        self.stages["contact"].save(update_fields=["name_zh"])

    def test_both_paths_read_the_quoted_text(self):
        path = self.csv(
            "external_id,name,owner,team,pipeline,stage,status,lost_reason,created_at,closed_at\n"
            "E1,一,'@bob,North,default,'-初步,open,,2026-01-05T09:00:00+08:00,\n"
            "E2,二,'@bob,,default,,lost,price,2026-01-05T09:00:00+08:00,2026-01-06T09:00:00+08:00\n"
            "E3,三,rep,,,,lost,'-太贵了,2026-01-05T09:00:00+08:00,2026-01-06T09:00:00+08:00\n"
            "E4,四,odd,'=Odd,,,open,,2026-01-05T09:00:00+08:00,\n"
            "E5,五,'=New,,,,open,,2026-01-05T09:00:00+08:00,\n"
        )
        for fast in (False, True):
            with (
                self.subTest(fast=fast),
                mock.patch.object(import_services, "FAST", fast),
                transaction.atomic(),
            ):
                summary = self.run_import(path, create_owners=True)
                self.assertEqual((summary.created, summary.owners_created), (5, 1))
                deals = {
                    d.external_id: d
                    for d in Deal.objects.select_related("owner", "team", "stage", "lost_reason")
                }
                self.assertEqual(
                    (deals["E1"].owner, deals["E1"].team, deals["E1"].stage.key),
                    (self.bob, self.north, "contact"),
                )
                self.assertEqual(
                    (deals["E2"].owner, deals["E2"].lost_reason), (self.bob, self.price)
                )
                self.assertEqual(
                    (deals["E3"].lost_reason.key, deals["E3"].lost_note), ("other", "-太贵了")
                )
                self.assertEqual(deals["E4"].team, self.odd)
                self.assertEqual(deals["E5"].owner.display_name, "=New")
                transaction.set_rollback(True)
