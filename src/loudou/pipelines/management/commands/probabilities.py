"""`loudou probabilities list|adopt|revert`: adopt learned stage probabilities, or undo it.

loudou probabilities list [--pipeline KEY]
loudou probabilities adopt --user ADMIN [--pipeline KEY] [--window DAYS]
loudou probabilities revert ID --user ADMIN
"""

import argparse
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from loudou.core.errors import ServiceError
from loudou.people.models import User
from loudou.pipelines.models import Pipeline, ProbabilityAdoption
from loudou.pipelines.services import (
    adopt_learned_probabilities,
    pipeline_by_key,
    revert_probability_adoption,
)


class Command(BaseCommand):
    help = "List, adopt or revert learned stage probabilities (report stage_probability)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("action", choices=["list", "adopt", "revert"])
        parser.add_argument("id", nargs="?", type=int, help="revert: the adoption's id")
        parser.add_argument("--pipeline", help="pipeline key (default: the default pipeline)")
        parser.add_argument("--user", help="adopt, revert: the admin doing it")
        parser.add_argument(
            "--window", type=int, default=365, help="adopt: days of closures to learn from"
        )

    def _pipeline(self, key: str | None) -> Pipeline:
        pipeline = pipeline_by_key(key)
        if pipeline is None:
            raise CommandError(f"--pipeline: no pipeline {key!r}" if key else "no pipeline yet")
        return pipeline

    def _user(self, username: str | None) -> User:
        if not username:
            raise CommandError("--user: name the admin doing this")
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"--user: no user {username!r}")
        return user

    def handle(self, *args: Any, **options: Any) -> None:
        # Commands speak the organisation's language, whatever a caller left active.
        with translation.override(settings.LANGUAGE_CODE):
            self._handle(options)

    def _handle(self, options: dict[str, Any]) -> None:
        action = options["action"]
        try:
            if action == "adopt":
                if not 1 <= options["window"] <= 3660:
                    raise CommandError("--window: from 1 to 3,660 days")
                adoption = adopt_learned_probabilities(
                    actor=self._user(options["user"]),
                    pipeline=self._pipeline(options["pipeline"]),
                    window_days=options["window"],
                )
                self.stdout.write(f"adoption {adoption.pk}:")
                self._changes(adoption)
            elif action == "revert":
                if options["id"] is None:
                    raise CommandError("revert: give the adoption's id (see: probabilities list)")
                adoption = ProbabilityAdoption.objects.filter(pk=options["id"]).first()
                if adoption is None:
                    raise CommandError(f"no adoption {options['id']}")
                revert_probability_adoption(actor=self._user(options["user"]), adoption=adoption)
                self.stdout.write(f"adoption {adoption.pk} reverted")
            else:
                adoptions = ProbabilityAdoption.objects.filter(
                    pipeline=self._pipeline(options["pipeline"])
                ).select_related("adopted_by", "reverted_by")
                for adoption in adoptions:
                    state = (
                        f"reverted {adoption.reverted_at:%Y-%m-%d %H:%M} by "
                        f"{adoption.reverted_by.username}"
                        if adoption.reverted_at
                        else "in force"
                    )
                    self.stdout.write(
                        f"{adoption.pk}  {adoption.adopted_at:%Y-%m-%d %H:%M}  "
                        f"{adoption.adopted_by.username}  {state}"
                    )
                    self._changes(adoption)
        except ServiceError as exc:
            raise CommandError(str(exc)) from exc

    def _changes(self, adoption: ProbabilityAdoption) -> None:
        for change in adoption.changes:
            self.stdout.write(
                f"  {change['key']}: {change['old']} -> {change['new']} "
                f"(n={change['sample']}, 95% CI {change['ci_low']}–{change['ci_high']})"
            )
