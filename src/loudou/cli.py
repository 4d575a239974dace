"""The `loudou` console script: Django's management commands under Loudou's settings.

A command that needs Loudou's tables, run against a database that is missing or not
migrated, stops with one line saying which database it looked at and what to do, instead
of a traceback from deep inside the command (e.g. `loudou report` in the folder where
`loudou demo` ran: the demo keeps its data in ./loudou-demo.sqlite3, not ./loudou.sqlite3).
"""

import os
import sys
from pathlib import Path

DEMO_FILE = "loudou-demo.sqlite3"
# Loudou's own commands that manage the database themselves or need none.
OWN_WITHOUT_DATABASE = {"demo", "serve", "openapi"}
# Django's commands that read or write the project's tables. Django's others (migrate,
# makemigrations, makemessages, compilemessages, check, shell, dbshell, showmigrations, …)
# need no migrated database, or are how one inspects or migrates it: left alone.
DJANGO_WITH_DATABASE = {
    "changepassword",
    "clearsessions",
    "createsuperuser",
    "dumpdata",
    "loaddata",
    "remove_stale_contenttypes",
}
HELP_FLAGS = {"-h", "--help"}
# Options Django reads before loading settings: with them, the check is left to Django.
EARLY_OPTIONS = ("--settings", "--pythonpath")


def needs_database(command: str, args: list[str]) -> bool:
    """Whether ``command`` (with its ``args``) reads or writes Loudou's tables: Loudou's
    own commands but demo and serve, and Django's few that do; never for --help."""
    from django.core.management import get_commands

    if HELP_FLAGS & set(args):
        return False
    app = get_commands().get(command)
    if app is None:  # unknown: Django says so itself
        return False
    if app.startswith("loudou."):
        return command not in OWN_WITHOUT_DATABASE
    return command in DJANGO_WITH_DATABASE


def _described(db: dict) -> str:
    """The default database as a user would name it (a file, or a URL without password)."""
    if db["ENGINE"].endswith("sqlite3"):
        return str(db["NAME"])
    user = f"{db['USER']}@" if db.get("USER") else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgresql://{user}{db.get('HOST') or 'localhost'}{port}/{db['NAME']}"


def _demo_hint(db: dict) -> str:
    if db["ENGINE"].endswith("sqlite3"):
        if Path(str(db["NAME"])).name == DEMO_FILE:
            return ""
        return f"; for the demo's data, set LOUDOU_SQLITE_FILE={DEMO_FILE}"
    return (
        f"; for the demo's data, unset LOUDOU_DATABASE_URL and set LOUDOU_SQLITE_FILE={DEMO_FILE}"
    )


def database_problem(command: str) -> str | None:
    """One line saying why ``command`` cannot run on the default database (missing, not
    reachable, or with migrations to apply), or None when it is migrated."""
    from django.conf import settings
    from django.db import DatabaseError, connections
    from django.db.migrations.executor import MigrationExecutor

    db = settings.DATABASES["default"]
    where = _described(db)
    todo = f"run `loudou migrate`{_demo_hint(db)}"
    if db["ENGINE"].endswith("sqlite3") and not Path(str(db["NAME"])).exists():
        # Not opened: SQLite would create an empty file just by looking.
        return f"loudou {command}: the database {where} does not exist: {todo}."
    connection = connections["default"]
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        applied = executor.loader.applied_migrations
    except DatabaseError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return (
            f"loudou {command}: cannot open the database {where} ({reason}): check that it "
            f"exists and is reachable, then {todo}."
        )
    finally:
        connection.close()
    if not plan:
        return None
    if not applied:
        return f"loudou {command}: the database {where} is not migrated: {todo}."
    count = f"{len(plan)} migration{'s' if len(plan) != 1 else ''} to apply"
    return f"loudou {command}: the database {where} is not fully migrated ({count}): {todo}."


def _should_check(args: list[str]) -> bool:
    """Whether to check the database before running ``args`` (settings are loaded here
    for that; when they cannot be, Django reports why, as without the check)."""
    if len(args) < 2 or args[1].startswith("-"):
        return False
    if any(a.startswith(EARLY_OPTIONS) for a in args[2:]):
        return False
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured:
        return False
    return needs_database(args[1], args[2:])


def main(argv: list[str] | None = None) -> None:
    """Run a management command, e.g. `loudou demo`, `loudou migrate`, `loudou createuser`."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loudou.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else ["loudou", *argv])
    args[0] = "loudou"
    if len(args) > 1 and args[1] == "demo":
        # The demo keeps its own SQLite file so that it never seeds fake deals into real
        # data, even where LOUDOU_DATABASE_URL points at a real database.
        if os.environ.pop("LOUDOU_DATABASE_URL", None):
            sys.stderr.write(
                "loudou demo ignores LOUDOU_DATABASE_URL: it uses ./loudou-demo.sqlite3.\n"
            )
        os.environ.setdefault("LOUDOU_SQLITE_FILE", DEMO_FILE)
    if _should_check(args):
        problem = database_problem(args[1])
        if problem:
            sys.stderr.write(problem + "\n")
            sys.exit(1)
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
