"""The published report store (issue 12): one copy per machine, memory-mapped by every
process; a restarted process serves from it, brought up to date by the change records;
a damaged or foreign version is never served."""

import json
import time
from pathlib import Path

from django.db import connection

from loudou.deals import services
from loudou.reports import loader, store
from loudou.reports.services import run_report

from .loading import LoadCountingCase


class StoreCase(LoadCountingCase):
    def restart(self) -> None:
        """What a new server process starts with: nothing in memory."""
        loader.clear_cache()

    def count(self) -> int:
        return run_report(name="snapshot", user=None).totals["count"]

    def base(self) -> Path:
        return store.folder()

    def current(self) -> Path:
        return self.base() / (self.base() / store.CURRENT).read_text()

    def wait_for_publishing(self) -> None:
        deadline = time.monotonic() + 30
        while loader._publishing and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not loader._publishing


class StoreTests(StoreCase):
    def test_a_restarted_process_serves_from_the_store_without_a_full_load(self):
        services.create_deal(actor=self.rep, name="d", amount="100")
        assert self.count() == 1
        assert self.loads == 1
        self.restart()
        assert self.count() == 1
        assert self.loads == 1  # no second load

    def test_writes_after_publishing_are_patched_in_after_a_restart(self):
        services.create_deal(actor=self.rep, name="d", amount="100")
        assert self.count() == 1
        self.restart()
        services.create_deal(actor=self.rep, name="e", amount="100")
        assert self.count() == 2
        assert self.loads == 1
        self.wait_for_publishing()
        self.restart()
        assert self.count() == 2  # the refreshed version was published
        assert self.loads == 1

    def test_a_damaged_version_is_never_served(self):
        services.create_deal(actor=self.rep, name="d", amount="100")
        assert self.count() == 1
        damaged = self.current()
        deals = next(damaged.glob("*.deals.arrow"))
        data = bytearray(deals.read_bytes())
        data[len(data) // 2] ^= 0xFF
        deals.write_bytes(bytes(data))
        self.restart()
        assert self.count() == 1
        assert self.loads == 2  # loaded again
        assert not damaged.exists()

    def test_a_partial_version_is_never_served(self):
        services.create_deal(actor=self.rep, name="d", amount="100")
        assert self.count() == 1
        deals = next(self.current().glob("*.deals.arrow"))
        deals.write_bytes(deals.read_bytes()[:100])
        self.restart()
        assert self.count() == 1
        assert self.loads == 2

    def test_a_version_of_another_database_is_never_served(self):
        services.create_deal(actor=self.rep, name="d", amount="100")
        assert self.count() == 1
        manifest = self.current() / store.MANIFEST
        data = json.loads(manifest.read_text())
        data["marker"]["fingerprint"] = "999|deals_deal|1|2000-01-01"
        text = json.dumps(data)
        manifest.write_text(text)
        self.restart()
        assert self.count() == 1
        assert self.loads == 2

    def test_a_version_of_another_format_is_rebuilt_without_a_damage_warning(self):
        # An upgrade that changes the frames' columns: the old version is not served, and
        # the log says why, not that the store is damaged.
        services.create_deal(actor=self.rep, name="d", amount="100")
        assert self.count() == 1
        old = self.current()
        manifest = old / store.MANIFEST
        data = json.loads(manifest.read_text())
        data["format"] = store.FORMAT - 1
        manifest.write_text(json.dumps(data))
        self.restart()
        with self.assertLogs("loudou.reports", level="INFO") as logs:
            assert self.count() == 1
        assert self.loads == 2
        assert not old.exists()
        assert any("another format" in line for line in logs.output), logs.output
        assert not any("damaged" in line for line in logs.output), logs.output

    def test_old_versions_are_removed(self):
        for n in range(4):
            services.create_deal(actor=self.rep, name=f"d{n}", amount="100")
            with connection.cursor() as cursor:  # a stage change: a full load each time
                cursor.execute("UPDATE pipelines_stage SET rot_days = rot_days + 1")
            assert self.count() == n + 1
        versions = [p for p in self.base().iterdir() if p.is_dir() and p.name.startswith("v")]
        assert len(versions) <= store.KEEP_VERSIONS

    def test_the_store_can_be_switched_off(self):
        with self.settings(LOUDOU_REPORT_STORE=None):
            services.create_deal(actor=self.rep, name="d", amount="100")
            assert self.count() == 1
            self.restart()
            assert self.count() == 1
            assert self.loads == 2
