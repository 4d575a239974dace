"""`loudou notify preview|send --team T --kind digest|weekly [--lang L] [--platform P]`."""

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from loudou.notifications import delivery, platforms
from loudou.notifications.models import Channel, Language
from loudou.notifications.tasks import BUILDERS
from loudou.people.models import Team


class Command(BaseCommand):
    help = (
        "preview: print the digest or weekly diagnosis exactly as it would be sent to a "
        "team's channels; send: send it to them now (failures are retried by the worker)."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("action", choices=["preview", "send"])
        parser.add_argument("--team", required=True, help="the team's name")
        parser.add_argument("--kind", required=True, choices=["digest", "weekly"])
        parser.add_argument(
            "--lang", choices=Language.values, help="preview: the language (default: zh-hans)"
        )
        parser.add_argument(
            "--platform",
            choices=[*platforms.PAYLOADS, "markdown"],
            default="markdown",
            help="preview: the platform's JSON instead of the markdown text",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        team = Team.objects.filter(name=options["team"]).first()
        if team is None:
            raise CommandError(f"No team named {options['team']!r}.")
        kind = options["kind"]
        if options["action"] == "preview":
            lang = options["lang"] or Language.ZH
            message = BUILDERS[kind](team, lang)
            with translation.override(lang):
                if options["platform"] == "markdown":
                    self.stdout.write(platforms.markdown(message))
                else:
                    body = platforms.payload(options["platform"], message)
                    self.stdout.write(platforms.to_json(body).decode())
            return
        flag = {"digest": "send_digest", "weekly": "send_weekly"}[kind]
        channels = Channel.objects.filter(team=team, active=True, **{flag: True})
        if options["lang"]:
            channels = channels.filter(language=options["lang"])
        if not channels:
            raise CommandError(f"Team {team.name!r} has no active channel taking the {kind}.")
        built: dict[str, platforms.Message] = {}
        for channel in channels:
            if channel.language not in built:
                built[channel.language] = BUILDERS[kind](team, channel.language)
            import copy

            queued = delivery.queue(
                kind=kind,
                message=copy.deepcopy(built[channel.language]),
                channel=channel,
                enqueue="no",
            )
            # The first attempt now; a failure is retried by the worker with backoff.
            sent = delivery.attempt(queued.pk)
            note = f": {sent.last_error}" if sent.last_error else ""
            self.stdout.write(f"{channel.name} ({channel.kind}): {sent.get_status_display()}{note}")
