"""`loudou import salesforce EXPORT`: a Salesforce Data Export (fixtures/salesforce: API
field names, UTC times) migrated all or nothing, with stages mapped or mirrored, owners
matched, nothing important dropped in silence, and bad dates fixed only on request."""

import io
import shutil
import zipfile
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import CommandError

from loudou.accounts.models import Account, Contact
from loudou.activities.models import Activity
from loudou.deals.models import Deal, StageEvent
from loudou.people.models import User
from loudou.pipelines.models import Pipeline
from loudou.spreadsheets.results import ImportFailed
from loudou.spreadsheets.vendors.migrate import migrate

from .base import SheetTestCase

FIXTURE = Path(__file__).parent / "fixtures" / "salesforce"
STAGES = {
    "Prospecting": "contact",
    "Needs Analysis": "needs",
    "Proposal/Price Quote": "proposal",
}


class SalesforceCase(SheetTestCase):
    """The fixture export in a folder of its own, its users matched by e-mail."""

    def setUp(self):
        super().setUp()
        self.export = self.dir / "export"
        shutil.copytree(FIXTURE, self.export)
        User.objects.filter(pk=self.rep.pk).update(email="li.wei@example.com")
        User.objects.filter(pk=self.teammate.pk).update(email="zhang.min@example.com")

    def run_migration(self, **kwargs):
        kwargs.setdefault("stages", STAGES)
        return migrate(vendor="salesforce", path=self.export, **kwargs)

    def failing(self, **kwargs):
        with self.assertRaises(ImportFailed) as ctx:
            self.run_migration(**kwargs)
        self.assertEqual(Deal.objects.count(), 0)
        return ctx.exception.summary

    def edit(self, name: str, old: str, new: str) -> None:
        path = self.export / name
        path.write_text(path.read_text().replace(old, new))


class SalesforceMigrationTest(SalesforceCase):
    def test_deals_history_owners_accounts_contacts_and_activities(self):
        summary = self.run_migration()
        self.assertEqual((summary.created, summary.skipped), (3, 1))  # one IsDeleted row
        won = Deal.objects.get(external_id="0061x00000A1")
        self.assertEqual((won.status, won.owner, won.account.name), ("won", self.rep, "Acme Corp"))
        self.assertEqual(won.closed_at.isoformat(), "2024-03-20T10:00:00+00:00")
        # Five history rows, one repeating Prospecting: four stays, then the win.
        keys = [e.to_stage.key for e in StageEvent.objects.filter(deal=won).order_by("at", "id")]
        self.assertEqual(keys, ["contact", "needs", "proposal", "won"])
        self.assertTrue(all(e.imported for e in StageEvent.objects.filter(deal=won)))
        lost = Deal.objects.get(external_id="0061x00000A2")
        self.assertEqual((lost.status, lost.owner), ("lost", self.teammate))
        open_deal = Deal.objects.get(external_id="0061x00000A3")
        self.assertEqual((open_deal.status, open_deal.stage.key), ("open", "proposal"))
        self.assertEqual(str(open_deal.expected_close_date), "2024-06-30")
        self.assertEqual(open_deal.source, "Web")
        self.assertEqual(Contact.objects.get(name="Ann Chen").account.name, "Acme Corp")
        call = Activity.objects.get(deal=open_deal)
        self.assertEqual((call.type, call.by), ("call", self.rep))
        self.assertEqual(open_deal.last_activity_at, call.at)
        mapped = {c.file: c for c in summary.columns}["Opportunity.csv"]
        self.assertEqual(mapped.mapped["StageName"], "stage")
        self.assertIn("FiscalYear", mapped.ignored)

    def test_contact_roles_give_deals_their_primary_contacts(self):
        summary = self.run_migration()
        primary = {d.external_id: d.contact for d in Deal.objects.select_related("contact")}
        self.assertEqual(primary["0061x00000A1"].name, "Ann Chen")
        self.assertEqual(primary["0061x00000A3"].name, "Bo Wang")
        self.assertIsNone(primary["0061x00000A2"])  # its primary is another account's
        self.assertEqual(summary.primary_contacts, 2)
        # A decision-maker role marks the contact; other roles are the account's contacts.
        marked = dict(Contact.objects.values_list("name", "is_decision_maker"))
        self.assertEqual(marked, {"Ann Chen": False, "Bo Wang": True, "Cy Li": False})
        # Rows that cannot be kept are listed, the deleted one counted; none stops it.
        file = "OpportunityContactRole.csv"
        self.assertEqual(
            [(p.row, p.column, p.value) for p in summary.contact_role_problems],
            [
                (6, f"{file}: ContactId", "0031"),  # Acme's contact on Globex's deal
                (8, f"{file}: OpportunityId", "0061x00000A9"),  # not in the export
                (9, f"{file}: ContactId", "0039"),  # not in Contact.csv
                (10, f"{file}: OpportunityId", "0061x00000A4"),  # a deleted opportunity
            ],
        )
        self.assertIn(
            "not to the opportunity's account “Globex”", summary.contact_role_problems[0].en
        )
        self.assertEqual((summary.contact_roles, summary.contact_roles_deleted), (9, 1))
        columns = {c.file: c for c in summary.columns}[file]
        self.assertEqual(columns.mapped["IsPrimary"], "primary")
        self.assertIn("CreatedDate", columns.ignored)
        versions = dict(Deal.objects.values_list("external_id", "version"))
        again = self.run_migration()
        self.assertEqual((again.unchanged, again.primary_contacts), (3, 2))
        self.assertEqual(dict(Deal.objects.values_list("external_id", "version")), versions)

    def test_contact_roles_in_a_dry_run_and_a_second_primary(self):
        self.edit(
            "OpportunityContactRole.csv", '"Technical Buyer","false"', '"Technical Buyer","true"'
        )
        summary = self.run_migration(dry_run=True)
        self.assertEqual(summary.primary_contacts, 2)
        self.assertFalse(Contact.objects.exists())
        second = [p for p in summary.contact_role_problems if p.row == 5]
        self.assertEqual([p.column for p in second], ["OpportunityContactRole.csv: IsPrimary"])
        self.assertIn("a primary contact already (Bo Wang)", second[0].en)
        self.run_migration()
        self.assertEqual(Deal.objects.get(external_id="0061x00000A3").contact.name, "Bo Wang")

    def test_a_second_run_changes_nothing(self):
        self.run_migration()
        again = self.run_migration()
        self.assertEqual((again.created, again.unchanged, again.events_added), (0, 3, 0))
        self.assertEqual(Activity.objects.count(), 1)

    def test_dry_run_writes_nothing(self):
        summary = self.run_migration(dry_run=True, mirror_pipeline="SF", stages=None)
        self.assertEqual(summary.created, 3)
        self.assertEqual(Deal.objects.count(), 0)
        self.assertFalse(Pipeline.objects.filter(key="sf").exists())
        self.assertFalse(Account.objects.filter(name="Globex").exists())

    def test_mirror_pipeline_keeps_the_source_stages(self):
        self.run_migration(mirror_pipeline="Salesforce", stages=None)
        pipeline = Pipeline.objects.get(key="salesforce")
        opens = [(s.name_en, float(s.probability)) for s in pipeline.open_stages()]
        self.assertEqual(
            opens, [("Prospecting", 0.1), ("Needs Analysis", 0.2), ("Proposal/Price Quote", 0.75)]
        )
        self.assertEqual(Deal.objects.filter(pipeline=pipeline).count(), 3)

    def test_guessed_stages_stop_until_confirmed(self):
        summary = self.failing(stages=None)
        guessed = {e.value for e in summary.errors if e.column == "stage"}
        self.assertEqual(guessed, set(STAGES))
        proposed = {s.label: (s.target.key, s.how) for s in summary.stages}
        self.assertEqual(proposed["Prospecting"], ("contact", "probability"))
        self.assertEqual(proposed["Closed Won"], ("won", "outcome"))

    def test_an_unknown_stage_like_column_stops_until_ignored(self):
        self.edit("Opportunity.csv", '"FiscalYear"', '"Stage_Detail__c"')
        summary = self.failing()
        self.assertEqual([e.column for e in summary.errors], ["Opportunity.csv: Stage_Detail__c"])
        summary = self.run_migration(ignore=["Stage_Detail__c"])
        ignored = {c.file: c for c in summary.columns}["Opportunity.csv"].ignored
        self.assertIn("Stage_Detail__c", ignored)

    def test_unknown_owners_are_listed_then_created_or_mapped(self):
        User.objects.filter(pk=self.teammate.pk).update(email="")
        summary = self.failing()
        self.assertIn("zhang.min@example.com", [e.value for e in summary.errors])
        self.run_migration(owner_map={"zhang.min@example.com": "outsider"})
        self.assertEqual(Deal.objects.get(external_id="0061x00000A2").owner, self.outsider)

    def test_created_owners(self):
        User.objects.filter(pk__in=[self.rep.pk, self.teammate.pk]).update(email="")
        self.run_migration(create_owners=True)
        owner = Deal.objects.get(external_id="0061x00000A1").owner
        self.assertEqual((owner.email, owner.display_name), ("li.wei@example.com", "Wei Li"))
        self.assertFalse(owner.has_usable_password())

    def test_a_managers_created_owners_join_the_managers_team(self):
        User.objects.filter(pk__in=[self.rep.pk, self.teammate.pk]).update(email="")
        self.run_migration(create_owners=True, actor=self.manager)
        owner = Deal.objects.get(external_id="0061x00000A1").owner
        self.assertEqual((owner.email, owner.team), ("li.wei@example.com", self.north))

    def test_a_later_export_extends_the_history(self):
        self.run_migration()
        with open(self.export / "OpportunityHistory.csv", "a") as handle:
            handle.write(
                '"0090","0061x00000A3","0051x001","2024-04-02T03:00:00.000Z","Needs Analysis",'
                '"30000","6000","2024-06-30","20","Pipeline","2024-04-02T03:00:00.000Z","false"\n'
            )
        self.edit(
            "Opportunity.csv",
            '"Proposal/Price Quote","4","30000","75"',
            '"Needs Analysis","3","30000","20"',
        )
        again = self.run_migration()
        self.assertEqual((again.updated, again.unchanged, again.events_added), (1, 2, 1))
        deal = Deal.objects.get(external_id="0061x00000A3")
        self.assertEqual(
            (deal.stage.key, deal.stage_entered_at.isoformat()),
            ("needs", "2024-04-02T03:00:00+00:00"),
        )

    def test_close_before_creation_is_listed_with_its_fix(self):
        # A bulk-loaded deal: created (loaded) after it closed.
        self.edit("Opportunity.csv", '"2024-01-10T02:00:00.000Z"', '"2024-05-01T02:00:00.000Z"')
        self.edit("OpportunityHistory.csv", "2024-01-10T02:00:00.000Z", "2024-05-01T02:00:00.000Z")
        self.edit("OpportunityHistory.csv", "2024-02-28T08:00:00.000Z", "2024-05-01T02:00:00.000Z")
        summary = self.failing()
        [problem] = summary.errors
        self.assertEqual((problem.row, problem.column), (3, "Opportunity.csv: created_at"))
        self.assertIn("2024-02-28", problem.en)
        summary = self.run_migration(fix_dates=True)
        self.assertEqual(summary.dates_fixed, 1)
        deal = Deal.objects.get(external_id="0061x00000A2")
        self.assertEqual(deal.created_at.date().isoformat(), "2024-02-28")
        self.assertLessEqual(deal.created_at, deal.closed_at)

    def test_field_history_when_there_is_no_opportunity_history(self):
        (self.export / "OpportunityHistory.csv").unlink()
        (self.export / "OpportunityFieldHistory.csv").write_text(
            '"Id","OpportunityId","CreatedById","CreatedDate","Field","OldValue","NewValue"\n'
            '"0171","0061x00000A1","0051x001","2024-01-20T09:00:00.000Z","Amount","1","2"\n'
            '"0172","0061x00000A1","0051x001","2024-02-01T09:00:00.000Z","StageName",'
            '"Prospecting","Needs Analysis"\n'
            '"0173","0061x00000A1","0051x001","2024-03-20T10:00:00.000Z","StageName",'
            '"Needs Analysis","Closed Won"\n'
        )
        self.run_migration()
        won = Deal.objects.get(external_id="0061x00000A1")
        events = StageEvent.objects.filter(deal=won).order_by("at", "id")
        self.assertEqual([e.to_stage.key for e in events], ["contact", "needs", "won"])
        self.assertEqual(events[1].at.isoformat(), "2024-02-01T09:00:00+00:00")
        self.assertEqual(won.closed_at.isoformat(), "2024-03-20T10:00:00+00:00")

    def test_files_not_read_are_listed(self):
        (self.export / "OpportunityFieldHistory.csv").write_text("Id,Field\n1,Amount\n")
        summary = self.run_migration(dry_run=True)
        self.assertEqual(summary.unread_files, ["OpportunityFieldHistory.csv"])

    def test_a_date_out_of_range_is_refused(self):
        self.edit("Opportunity.csv", '"2024-02-01T03:00:00.000Z"', '"1850-02-01T03:00:00.000Z"')
        summary = self.failing()
        self.assertEqual(
            [(e.row, e.column) for e in summary.errors], [(4, "Opportunity.csv: created_at")]
        )
        self.assertIn("1900", summary.errors[0].en)

    def test_one_bad_cell_imports_nothing(self):
        self.edit("Opportunity.csv", '"30000"', '"thirty"')
        summary = self.failing()
        self.assertEqual(
            [(e.row, e.column) for e in summary.errors], [(4, "Opportunity.csv: amount")]
        )
        self.assertFalse(Account.objects.filter(name="Globex").exists())
        self.assertFalse(Contact.objects.exists())

    def test_the_users_scope_bounds_the_migration(self):
        summary = self.failing(actor=self.outsider)
        self.assertEqual({e.column for e in summary.errors}, {"owner"})
        self.assertEqual(len(summary.errors), 3)

    def test_a_zip_export(self):
        archive = self.dir / "export.zip"
        with zipfile.ZipFile(archive, "w") as out:
            for path in self.export.iterdir():
                out.write(path, f"WE_00D_1/{path.name}")
        summary = migrate(vendor="salesforce", path=archive, stages=STAGES)
        self.assertEqual(summary.created, 3)

    def test_command_line_preview_and_refusal(self):
        out, err = io.StringIO(), io.StringIO()
        call_command(
            "import", "salesforce", str(self.export), "--dry-run", "--lang", "en",
            "--mirror-pipeline", "SF", stdout=out, stderr=err,
        )  # fmt: skip
        self.assertIn(
            "1. Prospecting  [open]  0 / 3  from the history  10%  → prospecting  (mirrored)",
            out.getvalue(),
        )
        self.assertIn("Dry run (nothing changed): 3 deals", out.getvalue())
        self.assertIn(
            "Contact roles: 9 rows; 2 primary contacts, 1 decision maker, 4 rows left out "
            "(1 deleted in the source)",
            out.getvalue(),
        )
        self.assertIn(
            "row 8, OpportunityContactRole.csv: OpportunityId «0061x00000A9»: the opportunity "
            "is not in the export",
            out.getvalue(),
        )
        with self.assertRaises(CommandError) as ctx:
            call_command(
                "import", "salesforce", str(self.export), "--lang", "en", stdout=out, stderr=err
            )
        self.assertIn("Nothing was imported", str(ctx.exception))
        self.assertTrue(Path(f"{self.export}.stages.toml").exists())
        self.assertEqual(Deal.objects.count(), 0)
