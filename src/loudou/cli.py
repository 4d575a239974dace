"""The `loudou` console script: Django's management commands under Loudou's settings."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    """Run a management command, e.g. `loudou demo`, `loudou migrate`, `loudou createuser`."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loudou.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else ["loudou", *argv])
    args[0] = "loudou"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
