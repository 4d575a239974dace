"""`loudou serve`: migrate, then serve Loudou with gunicorn (static files by whitenoise)."""

import argparse
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections

from loudou.jobs.process import start_worker, stop_worker


def run_server(
    *, host: str, port: int, workers: int, threads: int, stdout: Any, task_worker: bool = True
) -> None:
    """Serve the WSGI app in the foreground until interrupted, with one background task
    worker (`loudou worker`) beside it unless ``task_worker`` is false."""
    from gunicorn.app.base import BaseApplication

    from loudou.wsgi import application

    class _Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("accesslog", "-")
            self.cfg.set("timeout", 60)

        def load(self) -> Any:
            return application

    # Workers are forked: they must not share the parent's database connections.
    connections.close_all()
    stdout.write(f"Loudou is serving on http://{host}:{port}/  (Ctrl+C stops it)")
    stdout.flush()
    worker = start_worker() if task_worker else None
    try:
        _Server().run()
    finally:
        if worker is not None:
            stop_worker(worker)


class Command(BaseCommand):
    help = "Apply migrations and serve Loudou with a production WSGI server (gunicorn)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Worker processes (default: 1 on SQLite, 3 on PostgreSQL).",
        )
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument("--no-migrate", action="store_true")
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="do not start a background worker (run `loudou worker` elsewhere)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
        workers = options["workers"] or (1 if sqlite else 3)
        run_server(
            host=options["host"],
            port=options["port"],
            workers=workers,
            threads=options["threads"],
            stdout=self.stdout,
            task_worker=not options["no_worker"],
        )
