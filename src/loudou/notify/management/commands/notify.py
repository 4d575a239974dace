"""`loudou notify preview --team T --kind digest|weekly [--lang L]` prints exactly the
message that would be sent; `loudou notify send --team T --kind …` queues it now for the
team's channels (the worker sends it)."""

import argparse
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from loudou.notify.services import channels_for, compose, send_now
from loudou.people.models import Team


class Command(BaseCommand):
    help = "Preview or send a team's daily digest or weekly diagnosis."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("action", choices=["preview", "send"])
        parser.add_argument("--team", required=True, help="team name")
        parser.add_argument("--kind", required=True, choices=["digest", "weekly"])
        parser.add_argument("--lang", choices=["zh-hans", "en"], help="preview: the language")

    def handle(self, *args: Any, **options: Any) -> None:
        team = Team.objects.filter(name=options["team"]).first()
        if team is None:
            raise CommandError(f"No team {options['team']!r}.")
        kind = options["kind"]
        if options["action"] == "preview":
            lang = options["lang"] or settings.LANGUAGE_CODE
            self.stdout.write(compose(team, kind, lang).markdown())
            return
        if not channels_for(team, kind):
            raise CommandError(f"Team {team.name!r} has no active channel taking {kind} messages.")
        sent = send_now(team, kind)
        self.stdout.write(f"Queued {len(sent)} message(s); the worker sends them.")
