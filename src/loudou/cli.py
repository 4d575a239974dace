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
        # The demo keeps its own database file so it never touches real data.
        os.environ.setdefault("LOUDOU_SQLITE_FILE", "loudou-demo.sqlite3")
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
