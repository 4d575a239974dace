"""Lookups for one import, loaded once: pipelines, stages, people, teams, accounts and
lost reasons by the names files use; owners, teams and accounts created on request."""

import zoneinfo
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.crypto import get_random_string
from django.utils.text import slugify

from loudou.accounts.models import Account
from loudou.deals.models import LostReason
from loudou.people.models import Role, Team, User
from loudou.pipelines.models import CustomField, ForecastCategory, Pipeline, Stage, StageKind

from .columns import Mapping, custom_field_index, normalise
from .quoting import unquoted
from .reader import FileError
from .results import ImportSummary
from .wording import Via

WON_WORDS = {"won", "closed won", "closedwon", "赢单", "签约成单", "成交"}
LOST_WORDS = {"lost", "closed lost", "closedlost", "输单", "丢单"}
STATUS_WORDS = {
    "open": "open",
    "进行中": "open",
    "跟进中": "open",
    **dict.fromkeys(WON_WORDS, "won"),
    **dict.fromkeys(LOST_WORDS, "lost"),
}
# Forecast categories a file may set (a closed deal's "closed" is not one to set).
CATEGORIES = ("pipeline", "best_case", "commit", "omitted")
LANGUAGES = ("zh-hans", "en")


def forecast_words() -> dict[str, str]:
    """What a file may write for a forecast category -> its code: the code, or its name
    in either language (管道, 最佳情况, Best case, …), lower case."""
    words = {code: code for code in CATEGORIES}
    for language in LANGUAGES:
        with translation.override(language):
            for code in CATEGORIES:
                words.setdefault(str(ForecastCategory(code).label).lower(), code)
    return words


def spellings(label: str) -> list[str]:
    """What a cell naming a person, team, pipeline, stage or lost reason may mean, in the
    order tried: the text an export quoted (``quoting``), then the cell as written (a
    file not from an export may name something that starts with an apostrophe)."""
    text = label.strip()
    plain = unquoted(text).strip()
    return [plain] if plain == text else [plain, text]


def user_labels(user: User) -> set[str]:
    """The labels a file may name ``user`` by, as the import matches them (lower case)."""
    labels = (user.username, user.email, user.display_name, user.get_full_name())
    return {label.strip().lower() for label in labels if label and label.strip()}


def stage_labels(stage: Stage) -> set[str]:
    """The labels a file may name ``stage`` by within its pipeline (lower case)."""
    labels = {label.strip().lower() for label in (stage.key, stage.name_zh, stage.name_en)}
    # Headers are normalised with underscores as spaces: `entered_needs_analysis` names
    # the stage 'needs analysis', which is its key.
    labels.add(stage.key.replace("_", " ").lower())
    if stage.kind == StageKind.WON:
        labels |= WON_WORDS
    if stage.kind == StageKind.LOST:
        labels |= LOST_WORDS
    return labels


def reason_labels(reason: LostReason) -> set[str]:
    """The labels a file may name a lost reason by (lower case)."""
    return {label.strip().lower() for label in (reason.key, reason.name_zh, reason.name_en)}


def find_pipeline(pipelines: dict[str, Pipeline], label: str) -> Pipeline | None:
    """The pipeline a file's cell names: by key (as written or slugified), else by name.
    ``pipelines``: key (lower case) -> pipeline."""
    text = label.strip()
    found = pipelines.get(text.lower()) or pipelines.get(slugify(text))
    if found is None:
        wanted = text.lower()
        named = (p for p in pipelines.values() if wanted in (p.name_zh.lower(), p.name_en.lower()))
        found = next(named, None)
    return found


class Lookups:
    """Lookups for one import, loaded once: pipelines, stages, people, accounts.

    ``check``: a check that writes nothing (a dry run): owners, teams and accounts that
    the import would create get stand-in ids (negative) instead of rows. ``via``: the
    command line or the web page, whose words the messages use (``wording``)."""

    def __init__(
        self,
        *,
        actor: User | None,
        create_owners: bool,
        mapping: Mapping,
        pipeline_key: str | None,
        check: bool = False,
        via: Via = "cli",
    ) -> None:
        self.check = check
        self.via = via  # where messages point the user: flags, or the page's controls
        self._stand_in = 0
        self.tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self.actor = actor
        self.create_owners = create_owners
        self.mapping = mapping
        self.pipelines = {p.key.lower(): p for p in Pipeline.objects.all()}
        default = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
        if pipeline_key:
            default = self.pipelines.get(pipeline_key.lower())
            if default is None:
                raise FileError(f"没有销售流程“{pipeline_key}”", f"no pipeline {pipeline_key!r}")
        if default is None:
            raise FileError("尚未配置销售流程", "no pipeline is configured")
        self.default_pipeline = default
        self.stages: dict[int, dict[str, Stage]] = {}
        self.open_order: dict[int, list[Stage]] = {}
        for stage in Stage.objects.all().order_by("position"):
            names = self.stages.setdefault(stage.pipeline_id, {})
            for label in stage_labels(stage):
                names.setdefault(label, stage)
            if stage.kind == StageKind.OPEN:
                self.open_order.setdefault(stage.pipeline_id, []).append(stage)
        self.users: dict[str, User] = {}
        for user in User.objects.all():
            for label in user_labels(user):
                self.users.setdefault(label, user)
        self.teams = {t.name.strip().lower(): t for t in Team.objects.all()}
        self.accounts = {name.lower(): pk for pk, name in Account.objects.values_list("id", "name")}
        self.reasons: dict[str, LostReason] = {}
        for reason in LostReason.objects.all():
            for label in reason_labels(reason):
                self.reasons.setdefault(label, reason)
        self.other_reason = self.reasons.get("other")
        self.forecast_words = forecast_words()
        self.custom_fields = {cf.key: cf for cf in CustomField.objects.all()}
        self.custom_columns = custom_field_index(self.custom_fields.values())
        # (key, cell) -> the value checked, or its problem (zh, en): once per distinct cell.
        self.custom_values: dict[tuple[str, str, str], Any] = {}
        self.summary = ImportSummary()

    def stand_in(self) -> int:
        """A new stand-in id for a row a check would have created."""
        self._stand_in -= 1
        return self._stand_in

    def _named(self, table: dict[str, Any], label: str) -> Any:
        """The entry of ``table`` (lower-case labels) the cell names, read as
        ``spellings`` says."""
        return next(
            (table[key] for key in (s.lower() for s in spellings(label)) if key in table), None
        )

    def pipeline(self, label: str) -> Pipeline | None:
        found = (find_pipeline(self.pipelines, said) for said in spellings(label))
        return next((p for p in found if p is not None), None)

    def stage(self, pipeline: Pipeline, label: str) -> Stage | None:
        stages = self.stages.get(pipeline.pk, {})
        for said in spellings(label):
            mapped = self.mapping.stages.get(normalise(said))  # keys were normalised alike
            stage = stages.get((mapped or said.lower()).lower())
            if stage is not None:
                return stage
        return None

    def user(self, label: str) -> User | None:
        """The person a cell names (username, e-mail, display or full name)."""
        return self._named(self.users, label)

    def reason(self, label: str) -> LostReason | None:
        return self._named(self.reasons, label)

    def known_team(self, label: str) -> Team | None:
        return self._named(self.teams, label)

    def owner(self, label: str, team: Team | None) -> User | None:
        user = self.user(label)
        if user is None and self.create_owners:
            name = spellings(label)[0]
            base = slugify(name, allow_unicode=False).replace("-", "_")[:30] or "owner"
            username = base
            while User.objects.filter(username=username).exists():
                username = f"{base}_{get_random_string(4).lower()}"
            user = User(username=username, display_name=name, role=Role.REP, team=team)
            user.set_unusable_password()
            if self.check:
                user.pk = self.stand_in()
            else:
                user.save()
            self.summary.owners_created += 1
            for key in (username, name):
                self.users[key.lower()] = user
        return user

    def team(self, label: str) -> Team | None:
        team = self.known_team(label)
        if team is None and self.create_owners:
            team = Team(name=spellings(label)[0])
            if self.check:
                team.pk = self.stand_in()
            else:
                team.save()
            self.summary.teams_created += 1
            self.teams[team.name.lower()] = team
        return team

    def account_ids(self, names: list[str | None]) -> list[int | None]:
        """Ids of accounts by name (stripped), creating the missing ones in one insert."""
        missing = {}
        for name in names:
            if name and name.lower() not in self.accounts:
                missing.setdefault(name.lower(), name)
        if missing:
            if self.check:
                created = [Account(pk=self.stand_in(), name=n) for n in missing.values()]
            else:
                created = Account.objects.bulk_create([Account(name=n) for n in missing.values()])
            for key, account in zip(missing, created, strict=True):
                self.accounts[key] = account.pk
            self.summary.accounts_created += len(created)
        return [self.accounts[name.lower()] if name else None for name in names]

    def account_id(self, name: str) -> int:
        key = name.strip().lower()
        if key not in self.accounts:
            self.account_ids([name.strip()])
        return self.accounts[key]
