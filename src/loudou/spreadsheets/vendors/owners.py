"""Source users to Loudou users: by e-mail, then username, then name; else mapped by an
owner-map file (``"source id, e-mail or name" = "loudou username or e-mail"``), else
created (``--create-owners``: reps without a password), else listed as unknown."""

import tomllib
from dataclasses import dataclass
from pathlib import Path

from django.utils.crypto import get_random_string
from django.utils.text import slugify

from loudou.people.models import Role, User

from ..lookups import Lookups
from ..reader import FileError
from .source import SourceUser


@dataclass
class OwnerMatch:
    """Where one source owner went: the user, and how (email, username, name, map, new)."""

    source: SourceUser
    deals: int
    user: User | None
    how: str

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source.email or self.source.username or self.source.name,
            "key": self.source.key,
            "deals": self.deals,
            "user": self.user.username if self.user is not None else None,
            "user_name": str(self.user) if self.user is not None else None,
            "how": self.how,
        }


def load_owner_map(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FileError(
            f"负责人对应文件 {path} 无法读取：{exc}", f"owner map {path}: {exc}"
        ) from exc
    table = data.get("owners", data)
    return {str(k).strip().lower(): str(v).strip() for k, v in table.items() if isinstance(v, str)}


def match_owners(
    ctx: Lookups,
    users: dict[str, SourceUser],
    counts: dict[str, int],
    owner_map: dict[str, str],
    create: bool,
) -> dict[str, OwnerMatch]:
    """source key -> its match, for every owner key the deals name (``counts``)."""
    found: dict[str, OwnerMatch] = {}
    for key, deals in counts.items():
        source = users.get(key) or SourceUser(key, name=key)
        user, how = None, ""
        for label in source.labels():
            if label.lower() in owner_map:
                target = owner_map[label.lower()].lower()
                user, how = ctx.users.get(target), "map"
                break
        if user is None and not how:
            for how_name, label in (
                ("email", source.email),
                ("username", source.username),
                ("name", source.name),
                ("name", source.key if source.key == source.name else ""),
            ):
                if label and (user := ctx.users.get(label.strip().lower())) is not None:
                    how = how_name
                    break
        if user is None and create and how != "map":
            user, how = _create(ctx, source), "new"
        found[key] = OwnerMatch(source, deals, user, how)
    return found


def _create(ctx: Lookups, source: SourceUser) -> User:
    base = source.username.split("@")[0] if source.username else ""
    base = base or (source.email.split("@")[0] if source.email else "") or source.name
    base = slugify(base).replace("-", "_")[:30] or "owner"
    username = base
    while username.lower() in ctx.users or User.objects.filter(username=username).exists():
        username = f"{base}_{get_random_string(4).lower()}"
    # A manager's migration puts the new reps in the manager's team (else the deals
    # would be outside what the manager may import); an administrator's, in none.
    actor = ctx.actor
    team_id = actor.team_id if actor is not None and actor.role == Role.MANAGER else None
    user = User(
        username=username,
        email=source.email,
        display_name=(source.name or username)[:100],
        role=Role.REP,
        team_id=team_id,
        is_active=source.active,
    )
    user.set_unusable_password()
    if ctx.check:
        user.pk = ctx.stand_in()
    else:
        user.save()
    ctx.summary.owners_created += 1
    for label in (username, source.email, source.name):
        if label:
            ctx.users.setdefault(label.lower(), user)
    return user
