"""`loudou createuser USERNAME --role rep|manager|admin [--team NAME] [--password ...]`."""

import argparse
import getpass
import os
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from loudou.people.models import Role, Team, User


class Command(BaseCommand):
    help = "Create a Loudou user with a role (and a team; a manager's team is created if new)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=[r.value for r in Role], default=Role.REP)
        parser.add_argument("--team", help="Team name. A manager becomes its manager.")
        parser.add_argument("--display-name", default="")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password",
            help="Password (default: $LOUDOU_PASSWORD, else asked for on the terminal).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"].strip()
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} exists already.")
        password = options["password"] or os.environ.get("LOUDOU_PASSWORD")
        if not password:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords differ.")
        user = User(
            username=username,
            role=options["role"],
            display_name=options["display_name"],
            email=options["email"],
        )
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        with transaction.atomic():
            team = None
            if options["team"]:
                team = Team.objects.filter(name=options["team"]).first()
                if team is None and options["role"] != Role.MANAGER:
                    raise CommandError(f"No team named {options['team']!r}.")
                if team is None:
                    team = Team.objects.create(name=options["team"])
            user.team = team
            if options["role"] == Role.ADMIN:
                user.is_staff = user.is_superuser = True
            user.set_password(password)
            user.save()
            if team is not None and options["role"] == Role.MANAGER and team.manager_id is None:
                team.manager = user
                team.save(update_fields=["manager"])
        self.stdout.write(f"Created {user.get_role_display()} {username}.")
