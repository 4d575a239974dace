"""Migrations: complete, reversible where it matters, and the defaults they create."""

from io import StringIO

from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import TestCase, TransactionTestCase

from loudou.deals import services
from loudou.deals.models import LostReason
from loudou.people.models import User
from loudou.pipelines.defaults import DEFAULT_STAGES
from loudou.pipelines.models import ExitCriterion, Pipeline


class MigrationStateTests(TestCase):
    def test_no_missing_migrations(self):
        out = StringIO()
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
        self.assertIn("No changes detected", out.getvalue())

    def test_default_pipeline(self):
        pipeline = Pipeline.objects.get(is_default=True)
        stages = list(pipeline.stages.values_list("key", "name_zh", "name_en", "probability"))
        self.assertEqual(stages, [(k, zh, en, p) for k, _, _, zh, en, p, _ in DEFAULT_STAGES])
        self.assertEqual(
            [s.key for s in pipeline.open_stages()], ["contact", "needs", "proposal", "negotiation"]
        )
        kinds = sorted(ExitCriterion.objects.values_list("stage__key", "kind"))
        self.assertIn(("negotiation", "approval"), kinds)
        self.assertIn(("proposal", "attachment"), kinds)
        self.assertEqual(LostReason.objects.count(), 7)


class AppendOnlyMigrationTests(TransactionTestCase):
    # Restore the migrations' data (default pipeline, lost reasons) after the flush.
    serialized_rollback = True

    def can_update_events(self) -> bool:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("UPDATE deals_stageevent SET note = note")
        except IntegrityError:
            return False
        return True

    def test_guard_is_installed_and_reversible(self):
        # A row trigger needs a row to fire on.
        rep = User.objects.create_user(username="r", password="x")
        services.create_deal(actor=rep, name="d")
        self.assertFalse(self.can_update_events())
        call_command("migrate", "deals", "0002", verbosity=0)
        try:
            self.assertTrue(self.can_update_events())
        finally:
            # Every app forward: core's data-version triggers depend on deals' migrations.
            call_command("migrate", verbosity=0)
        self.assertFalse(self.can_update_events())
