"""The `loudou` console script: Django's management commands under Loudou's settings."""

import os
import sys


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
        os.environ.setdefault("LOUDOU_SQLITE_FILE", "loudou-demo.sqlite3")
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
