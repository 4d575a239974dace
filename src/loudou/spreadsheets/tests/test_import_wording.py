"""Import messages in the words of where the user is: on the command line they name its
flags (--ignore, --create-owners …); on the web never a flag, but the page's controls by
their labels, in the reader's language."""

import csv

from django.utils import translation

from loudou.people.models import User
from loudou.spreadsheets import wording
from loudou.spreadsheets.results import ImportFailed, RowError
from loudou.spreadsheets.services import import_deals
from loudou.spreadsheets.vendors.migrate import migrate

from . import other_exports as ox
from . import vendor_exports as vx
from .test_migrate_salesforce import STAGES, SalesforceCase


def words(control, **values: str) -> tuple[str, str]:
    texts = []
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            texts.append(str(control) % values if values else str(control))
    return texts[0], texts[1]


class WordingTestCase(SalesforceCase):
    def problems(self, via: str, vendor: str = "salesforce", **kwargs) -> list[RowError]:
        kwargs.setdefault("path", self.export)
        with self.assertRaises(ImportFailed) as ctx:
            migrate(vendor=vendor, via=via, **kwargs)
        return ctx.exception.summary.errors

    def assert_names(self, problem: RowError, control, **values: str) -> None:
        """On the web: the control's label in both languages, and no flag."""
        zh, en = words(control, **values)
        self.assertIn(f"“{en}”", problem.en)
        self.assertIn(f"“{zh}”", problem.zh)
        self.assertNotIn("--", problem.en + problem.zh)


class MigrationWordingTests(WordingTestCase):
    def test_a_guessed_stage(self):
        web = self.problems("web")
        self.assertEqual(len(web), 3)
        for problem in web:
            self.assert_names(problem, wording.LOUDOU_STAGE)
            self.assert_names(problem, wording.MIRROR)
        for problem in self.problems("cli"):
            self.assertIn("--stages FILE", problem.en)
            self.assertIn("--mirror-pipeline", problem.zh)

    def test_a_column_to_leave_out(self):
        self.edit("Opportunity.csv", '"FiscalYear"', '"Stage_Detail__c"')
        [web] = self.problems("web", stages=STAGES)
        self.assert_names(web, wording.LEAVE_OUT, header="Stage_Detail__c")
        self.assert_names(web, wording.CHECK_AGAIN)
        [cli] = self.problems("cli", stages=STAGES)
        self.assertIn("--ignore", cli.en)
        self.assertIn("--ignore", cli.zh)

    def test_an_unmatched_owner(self):
        User.objects.filter(pk=self.teammate.pk).update(email="")
        [manager] = self.problems("web", stages=STAGES, actor=self.manager)
        self.assert_names(manager, wording.LOUDOU_USER)
        self.assertNotIn(words(wording.CREATE_OWNERS)[1], manager.en)  # not theirs to tick
        [admin] = self.problems("web", stages=STAGES, actor=self.admin)
        self.assert_names(admin, wording.CREATE_OWNERS)
        [cli] = self.problems("cli", stages=STAGES)
        self.assertIn("--create-owners", cli.en)
        self.assertIn("--owner-map", cli.zh)

    def test_a_date_to_fix(self):
        self.edit("Opportunity.csv", '"2024-01-10T02:00:00.000Z"', '"2024-05-01T02:00:00.000Z"')
        [web] = self.problems("web", stages=STAGES)
        self.assert_names(web, wording.FIX_DATES)
        [cli] = self.problems("cli", stages=STAGES)
        self.assertIn("(--fix-dates)", cli.en)

    def test_several_source_pipelines(self):
        folder = ox.write_hubspot(vx.generate(20, seed=9, backward=False), self.dir / "hs")
        [path] = folder.glob("*-deals-*.csv")
        lines = path.read_text(encoding="utf-8").splitlines()
        lines[1] = lines[1].replace('"Sales Pipeline"', '"Renewals"', 1)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        options = {"vendor": "hubspot", "path": folder, "mirror_pipeline": "HS"}
        [web] = self.problems("web", create_owners=True, **options)
        self.assert_names(web, wording.SOURCE_PIPELINE)
        [cli] = self.problems("cli", create_owners=True, **options)
        self.assertIn("--source-pipeline", cli.en)

    def test_a_mirror_without_the_stage_order(self):
        folder = ox.write_pipedrive(vx.generate(20, seed=2), self.dir / "pd")
        options = {"vendor": "pipedrive", "path": folder, "mirror_pipeline": "PD"}
        [cli] = self.problems("cli", create_owners=True, **options)
        self.assertIn("order = [...]", cli.en)
        # The web takes the order its preview shows, each stage marked as of unknown place.
        summary = migrate(via="web", create_owners=True, dry_run=True, **options)
        self.assertEqual({s.order_how for s in summary.stages}, {"unknown"})


class PlainImportWordingTests(WordingTestCase):
    def failing_import(self, via: str, **kwargs) -> list[RowError]:
        path = self.dir / "deals.csv"
        with open(path, "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(
                [["name", "owner", "team", "stage"], ["X", "nobody", "Nowhere", "dreaming"]]
            )
        with self.assertRaises(ImportFailed) as ctx:
            import_deals(path=path, via=via, **kwargs)
        return sorted(ctx.exception.summary.errors, key=lambda e: e.column)

    def test_unknown_owner_team_and_stage(self):
        owner, stage, team = self.failing_import("web", actor=self.admin)
        self.assert_names(owner, wording.CREATE_OWNERS)
        self.assert_names(team, wording.CREATE_OWNERS)
        self.assertIn("tick", team.en)
        self.assertNotIn("mapping file", stage.en)
        self.assertNotIn("映射文件", stage.zh)
        owner, _stage, _team = self.failing_import("web", actor=self.manager)
        self.assert_names(owner, wording.CREATE_OWNERS)
        self.assertIn("an administrator can create it", owner.en)
        owner, stage, team = self.failing_import("cli")
        self.assertIn("--create-owners", owner.en + team.zh)
        self.assertIn("mapping file", stage.en)
