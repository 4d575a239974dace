"""`loudou worker`: run queued background tasks and the schedules, in one process."""

import argparse
import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from loudou.jobs.schedules import all_schedules
from loudou.jobs.worker import Worker


class Command(BaseCommand):
    help = (
        "Run background tasks (webhook deliveries, chat messages) and the schedules (daily "
        "digest, weekly diagnosis) until stopped with SIGTERM or Ctrl+C."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="seconds to wait when the queue is empty (default 1)",
        )
        parser.add_argument(
            "--no-schedules", action="store_true", help="run queued tasks only, no schedules"
        )
        parser.add_argument(
            "--batch", action="store_true", help="run what is queued now, then exit"
        )
        parser.add_argument("--max-tasks", type=int, help="exit after this many tasks")
        # Given by `loudou serve` and `loudou demo`: the worker stops when they are gone.
        parser.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 <= options["interval"] <= 3600:
            raise CommandError("--interval: from 0 to 3600 seconds")
        if options["max_tasks"] is not None and options["max_tasks"] < 1:
            raise CommandError("--max-tasks: at least 1")
        self._log_to_console(options["verbosity"])
        worker = Worker(
            interval=options["interval"],
            batch=options["batch"],
            max_tasks=options["max_tasks"],
            run_schedules=not options["no_schedules"],
            parent_pid=options["parent_pid"],
        )
        if not options["no_schedules"]:
            for schedule in all_schedules():
                if schedule.enabled():
                    self.stdout.write(f"  schedule {schedule.name}: {schedule.expression()}")
        self.stdout.write("Loudou worker started (SIGTERM or Ctrl+C stops it).")
        self.stdout.flush()
        worker.configure_signals()
        try:
            worker.run()
        finally:
            worker.reset_signals()
            self.stdout.write(f"Loudou worker stopped ({worker.tasks_run} task(s) run).")
            self.stdout.flush()

    def _log_to_console(self, verbosity: int) -> None:
        level = logging.WARNING if verbosity == 0 else logging.INFO
        for name in ("loudou.jobs", "django_tasks", "django_tasks_db"):
            logging.getLogger(name).setLevel(level)
