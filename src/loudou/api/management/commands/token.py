"""`loudou token create USERNAME [--name N]` (the token alone on the last line),
`loudou token list [USERNAME]`, `loudou token revoke ID`."""

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from loudou.api.models import ApiToken
from loudou.api.tokens import create_token, revoke_token
from loudou.core.errors import ServiceError
from loudou.people.models import User


class Command(BaseCommand):
    help = "Create, list and revoke personal API tokens."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="a new token for USERNAME, printed once")
        create.add_argument("username")
        create.add_argument("--name", default="", help="what the token is for")
        listing = sub.add_parser("list", help="tokens (of USERNAME), never the secrets")
        listing.add_argument("username", nargs="?")
        revoke = sub.add_parser("revoke", help="revoke the token with this id")
        revoke.add_argument("id", type=int)

    def _user(self, username: str) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        return user

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "create":
                user = self._user(options["username"])
                token, raw = create_token(actor=None, user=user, name=options["name"])
                self.stdout.write(
                    f"Token {token.pk} ({token.name}) for {user.username}. It is shown only "
                    "now; keep it secret. Send it as 'Authorization: Bearer <token>'."
                )
                self.stdout.write(raw)
            elif action == "list":
                tokens = ApiToken.objects.select_related("user").order_by("id")
                if options["username"]:
                    tokens = tokens.filter(user=self._user(options["username"]))
                for t in tokens:
                    state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
                    used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
                    self.stdout.write(
                        f"{t.pk}\t{t.user.username}\t{t.name}\tldu_{t.prefix}…\t"
                        f"created {t.created_at:%Y-%m-%d %H:%M}\tlast used {used}\t{state}"
                    )
            else:
                token = ApiToken.objects.select_related("user").filter(pk=options["id"]).first()
                if token is None:
                    raise CommandError(f"No token {options['id']}.")
                revoke_token(actor=None, token=token)
                self.stdout.write(f"Token {token.pk} of {token.user.username} is revoked.")
        except ServiceError as exc:
            raise CommandError(str(exc)) from exc
