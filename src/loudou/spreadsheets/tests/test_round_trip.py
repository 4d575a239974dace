"""Export, then import into an empty database: every report comes out the same."""

import datetime as dt
import tempfile
from pathlib import Path

from django.core.management import call_command
from django.test import TransactionTestCase

from loudou.accounts.models import Account
from loudou.activities.models import Activity
from loudou.analytics.output import to_data
from loudou.analytics.reports import REPORTS
from loudou.core.demo import seed_demo
from loudou.deals.models import Attachment, Deal, Payment, StageApproval
from loudou.people.models import Quota, Team, User
from loudou.reports import loader
from loudou.reports.services import run_report

NOW = dt.datetime(2026, 6, 30, 4, 0, tzinfo=dt.UTC)


def all_reports() -> dict:
    loader.clear_cache()
    return {
        (name, by): to_data(run_report(name=name, user=None, now=NOW, by=by))
        for name in REPORTS
        for by in (None, "owner", "team")
    }


class RoundTripTests(TransactionTestCase):
    serialized_rollback = True

    def test_export_then_import_into_an_empty_database(self):
        self.round_trip("en")

    def test_a_zh_hans_export_into_an_organisation_without_deals(self):
        # Chinese headers, stage, status and category names, people by display name: the
        # same reports. The people stay: a file naming them by display name cannot bring
        # back their usernames, which the reports group by.
        self.round_trip("zh-hans", keep_people=True)

    def test_an_xlsx_export_into_an_organisation_without_deals(self):
        # Typed cells (numbers, Excel date-times) read back as the same deals. Excel keeps
        # times to the second: durations may differ by that much, nothing else.
        self.round_trip("zh-hans", keep_people=True, fmt="xlsx")

    def round_trip(self, language: str, keep_people: bool = False, fmt: str = "csv") -> None:
        seed_demo(deals=80, now=NOW)
        before = all_reports()
        self.assertGreater(before[("funnel", None)]["totals"]["deals"], 20)  # not vacuous
        out = Path(tempfile.mkdtemp())
        lang = ["--lang", language]
        deals = out / f"deals.{fmt}"
        call_command("export", "deals", *lang, "--format", fmt, "--out", str(deals))
        history = out / f"history.{fmt}"
        call_command("export", "history", *lang, "--format", fmt, "--out", str(history))
        if language == "zh-hans" and fmt == "csv":
            self.assertTrue((out / "deals.csv").read_text("utf-8-sig").startswith("外部编号,"))
        for model in (Payment, Activity, StageApproval, Attachment, Deal, Quota, Account):
            model.objects.all().delete()
        names = dict(User.objects.values_list("username", "display_name"))
        if not keep_people:
            Team.objects.update(manager=None)
            User.objects.all().delete()
            Team.objects.all().delete()
        self.assertFalse(Deal.objects.exists())
        call_command(
            "import",
            "deals",
            str(deals),
            "--history",
            str(history),
            "--create-owners",
        )
        # The import format names people by username; reports show display names, which
        # an admin gives the created owners afterwards (settings, users page).
        for username, display_name in names.items():
            User.objects.filter(username=username).update(display_name=display_name)
        after = all_reports()
        for key in before:
            if fmt == "xlsx":
                self.assert_close(before[key], after[key], key)
            else:
                self.assertEqual(before[key], after[key], key)
        # and importing the same files again changes nothing
        call_command(
            "import",
            "deals",
            str(deals),
            "--history",
            str(history),
            "--create-owners",
        )
        self.assertEqual(Deal.objects.count(), 80)
        self.assertEqual(all_reports(), after)

    def assert_close(self, before: object, after: object, key: object) -> None:
        """Equal, but for numbers within 0.001 (days and weeks of a second's difference)."""
        if isinstance(before, dict) and isinstance(after, dict):
            self.assertEqual(before.keys(), after.keys(), key)
            for k in before:
                self.assert_close(before[k], after[k], (key, k))
        elif isinstance(before, list) and isinstance(after, list):
            self.assertEqual(len(before), len(after), key)
            for i, (b, a) in enumerate(zip(before, after, strict=True)):
                self.assert_close(b, a, (key, i))
        elif isinstance(before, float) and isinstance(after, float | int):
            self.assertAlmostEqual(before, after, delta=1e-3, msg=key)
        else:
            self.assertEqual(before, after, key)
