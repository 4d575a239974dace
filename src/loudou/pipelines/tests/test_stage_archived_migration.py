"""Adding Stage.archived keeps the stage table's change-record triggers (SQLite may
rebuild the table to add a column, which drops them; the report cache relies on them)."""

from django.db import connection
from django.test import TestCase

from loudou.core.db import change_triggers_missing
from loudou.pipelines.models import Stage


class StageArchivedMigrationTests(TestCase):
    def test_triggers_survive_and_stages_start_unarchived(self):
        self.assertEqual(change_triggers_missing(connection), [])
        self.assertFalse(Stage.objects.filter(archived=True).exists())
