"""`loudou demo`: a demo organisation on SQLite (./loudou-demo.sqlite3), served at once."""

import argparse
import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from loudou.core.demo import DEMO_PASSWORD, seed_demo

from .serve import run_server


class Command(BaseCommand):
    help = (
        "Create (or reuse) the demo organisation in ./loudou-demo.sqlite3 and serve it "
        "on http://127.0.0.1:8000."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--deals", type=int, default=600, help="Deals to seed (default 600).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")
        parser.add_argument("--now", help="Fix the clock of the seed (ISO date-time).")
        parser.add_argument("--no-serve", action="store_true", help="Seed only; do not serve.")
        parser.add_argument(
            "--no-worker", action="store_true", help="Serve without a background worker."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = None
        if options["now"]:
            try:
                now = dt.datetime.fromisoformat(options["now"])
            except ValueError as exc:
                raise CommandError(f"--now: not an ISO date-time: {options['now']}") from exc
            if now.tzinfo is None:
                raise CommandError("--now: include a time zone, e.g. 2026-01-01T00:00:00+08:00")
        call_command("migrate", interactive=False, verbosity=0)
        started = time.monotonic()
        summary = seed_demo(deals=options["deals"], seed=options["seed"], now=now)
        db = settings.DATABASES["default"]["NAME"]
        if summary.created:
            self.stdout.write(
                f"Seeded the demo organisation ({summary.deals} deals) into {db} "
                f"in {time.monotonic() - started:.1f} s."
            )
        else:
            self.stdout.write(f"Reusing the demo organisation in {db} ({summary.deals} deals).")
        self.stdout.write(f"Log in with any of these (password: {DEMO_PASSWORD}):")
        for username, role in summary.logins:
            self.stdout.write(f"  {username:<12} {role}")
        if not options["no_serve"]:
            run_server(
                host=options["host"],
                port=options["port"],
                workers=1,
                threads=4,
                stdout=self.stdout,
                task_worker=not options["no_worker"],
            )
