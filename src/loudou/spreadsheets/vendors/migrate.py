"""``migrate``: a whole CRM export into Loudou, all or nothing (see docs/migrate.md).

The vendor module reads the export into a ``Source``; here its columns are checked
(nothing important dropped in silence), its stages mapped or mirrored, its owners
matched, its dates parsed and checked (a close before the creation, a history after the
close: listed with the fix ``fix_dates`` applies), and every deal becomes a plan with its
whole history, which ``deals.bulk`` checks against the rules and the user's scope and
writes (new deals column-wise, known ones by plan). Contacts and activities follow."""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from django.conf import settings

from loudou.deals import rules
from loudou.deals.bulk import DealLoad
from loudou.deals.models import Deal
from loudou.people.access import Scope
from loudou.people.models import User
from loudou.pipelines.models import Pipeline, Stage, StageKind
from loudou.pipelines.services import create_mirror_pipeline

from ..columns import Mapping, normalise
from ..lookups import Lookups
from ..reader import FileError
from ..results import (
    NO_ROW,
    ImportFailed,
    ImportSummary,
    RowError,
    all_or_nothing,
    collect,
    en_count,
    error,
    translated_pair,
)
from ..wording import (
    CHECK_AGAIN,
    COLUMNS,
    CREATE_OWNERS,
    LEAVE_OUT,
    LOUDOU_STAGE,
    LOUDOU_USER,
    MIRROR,
    OWNERS,
    SOURCE_PIPELINE,
    Via,
    label,
)
from . import VENDORS
from .labels import column_label, headers_by_key
from .order import UNKNOWN
from .owners import OwnerMatch, load_owner_map, match_owners
from .plans import Planner, activities, contacts, load, status_of
from .roles import link_primaries, plan_roles
from .source import Export, FileColumns, Source
from .stages import GUESSES, SourceStage, catalogue, load_stages_file, mirror_spec, propose

BATCH = 10_000
SHOWN_FIXES = 200


@dataclass
class MigrationSummary(ImportSummary):
    """An import's summary plus what the preview shows: files, columns, stages, owners,
    date problems (with their fixes), and what else came along."""

    vendor: str = ""
    deals_file: str = ""
    files: list[str] = field(default_factory=list)
    unread_files: list[str] = field(default_factory=list)
    columns: list[FileColumns] = field(default_factory=list)
    stages: list[SourceStage] = field(default_factory=list)
    owners: list[OwnerMatch] = field(default_factory=list)
    pipeline: str = ""
    date_problems: list[RowError] = field(default_factory=list)
    dates_fixed: int = 0
    skipped: int = 0
    source_pipelines: dict[str, int] = field(default_factory=dict)
    other_pipelines: int = 0  # deals of the other pipelines, left for their own runs
    orphans: int = 0  # history or activity rows naming no deal of the export
    contacts_created: int = 0
    contact_roles: int = 0  # rows of the contact roles file read (deleted ones apart)
    contact_roles_deleted: int = 0
    primary_contacts: int = 0  # deals given their primary contact (a dry run: to be given)
    decision_makers: int = 0  # contacts marked as decision makers by their role
    contact_role_problems: list[RowError] = field(default_factory=list)  # rows left out
    activities_created: int = 0
    proposal_file: Path | None = None


def migrate(
    *,
    vendor: str,
    path: Path,
    actor: User | None = None,
    lang: str | None = None,
    dry_run: bool = False,
    create_owners: bool = False,
    owner_map: Path | dict[str, str] | None = None,
    stages: Path | dict[str, str] | None = None,
    mirror_pipeline: str | None = None,
    pipeline: str | None = None,
    fix_dates: bool = False,
    ignore: list[str] | None = None,
    stage_order: list[str] | None = None,
    source_pipeline: str | None = None,
    progress: Callable[[int, float], None] | None = None,
    via: Via = "cli",
) -> MigrationSummary:
    """Migrate ``vendor``'s export at ``path`` (a zip, a folder or a file); raise
    ``ImportFailed`` (nothing written) with every problem, or return the summary.
    ``via``: the command line or the web page, whose words the messages use."""
    module = VENDORS.get(vendor)
    if module is None:
        raise FileError(f"不支持的来源 {vendor}", f"unknown source {vendor!r}")
    summary = MigrationSummary(vendor=vendor, dry_run=dry_run)
    with Export(path) as export:
        source = module.read(export, set(ignore or ()))
        summary.unread_files = export.unread(source.files) if source is not None else []
    if source is None:
        raise FileError(
            f"导出中找不到商机文件（{module.DEALS_FILES}）",
            f"the export holds no deals file ({module.DEALS_FILES})",
        )
    _one_pipeline(source, source_pipeline, summary, via)
    summary.files, summary.columns, summary.skipped = source.files, source.columns, source.skipped
    summary.deals_file = source.deals_file
    summary.ignored_columns = [f"{c.file}: {h}" for c in source.columns for h in c.ignored]
    roles = plan_roles(source)
    summary.contact_roles, summary.contact_roles_deleted = roles.rows, roles.deleted
    summary.contact_role_problems = roles.problems
    summary.primary_contacts = len(roles.primaries)
    summary.decision_makers = len(roles.decision_makers)
    ctx = Lookups(
        actor=actor,
        create_owners=create_owners,
        mapping=Mapping(),
        pipeline_key=pipeline,
        check=dry_run,
        via=via,
    )
    ctx.summary = summary
    errors = summary.errors
    for report in source.columns:
        for header in report.unknown:
            errors.append(_unknown_column(report.file, header, via))
    if source.deals.height == 0:
        errors.append(error(1, source.deals_file, "", "没有商机", "the file holds no deals"))
    if isinstance(stages, dict):
        given, order = {normalise(k): str(v) for k, v in stages.items()}, list(stage_order or [])
    else:
        given, order = load_stages_file(stages)
        order = list(stage_order or order)
    if isinstance(owner_map, dict):
        owner_words = {k.strip().lower(): v.strip() for k, v in owner_map.items()}
    else:
        owner_words = load_owner_map(owner_map)
    orders = {label: float(place) for place, label in enumerate(order, start=1)}
    summary.stages = catalogue(
        source.deals,
        source.history,
        source.outcome_stages,
        orders,
        listed=source.listed_stages,
        zone=source.naive_tz or settings.TIME_ZONE,
    )
    target = ctx.default_pipeline
    spec = None
    if mirror_pipeline:
        spec = mirror_spec(summary.stages, mirror_pipeline)
        summary.pipeline = str(spec["name"])
        if via == "cli":  # on the web, the preview's order is the one taken
            _order_errors(summary, errors)
    else:
        summary.pipeline = f"{target.key} ({target.name_zh} / {target.name_en})"
        propose(summary.stages, ctx, target, given)
        _stage_errors(summary, errors, via)
        _archived_errors(summary, source, ctx, target, errors)
    counts = source.deals.group_by("owner").len().drop_nulls("owner").iter_rows()
    matches = match_owners(ctx, source.users, dict(counts), owner_words, create_owners)
    summary.owners = list(matches.values())
    for match in summary.owners:
        if match.user is None:
            errors.append(_unmatched_owner(match, source.deals_file, ctx))
    if errors:
        return _fail(summary, path, lang)

    with all_or_nothing(summary):
        if spec is not None:
            target = _mirror(ctx, spec, summary, source, dry_run)
            _archived_errors(summary, source, ctx, target, errors)  # a re-run's mirror
        with DealLoad(actor=actor, background=not dry_run, check=dry_run) as loader:
            if spec is not None and target.pk < 0:
                for stage in ctx.stages[target.pk].values():
                    loader.stages[stage.pk] = stage
                    loader.stage_kinds[stage.pk] = str(stage.kind)
            plan = Planner(ctx, source, target, summary, matches, fix_dates)
            deals, events = plan.build()
            if not errors:
                load(loader, deals, events, plan, summary, progress)
                if not (errors or loader.failures or dry_run):
                    loader.finish()
                    contacts(ctx, source, summary, roles.decision_makers)
                    summary.primary_contacts = link_primaries(loader, ctx, source, roles)
                    collect(summary, loader, _role_headers(source))
                    activities(source, plan, matches, summary)
                collect(summary, loader, plan.headers)
        if errors:
            summary.errors.sort(key=lambda e: (e.row, e.column))
    if errors:
        return _fail(summary, path, lang)
    return summary


def _role_headers(source: Source) -> dict[str, str]:
    """Where a contact role's failure points: its file's columns."""
    file = source.contact_roles_file
    return {"external_id": f"{file}: OpportunityId", "contact": f"{file}: ContactId"}


def _one_pipeline(source: Source, chosen: str | None, summary: MigrationSummary, via: Via) -> None:
    """An export of several pipelines is migrated one pipeline at a time (their stages
    are not one order): ``chosen`` keeps that pipeline's deals; without it, the import
    stops, naming them."""
    counts = dict(
        source.deals.group_by("pipeline")
        .len()
        .drop_nulls("pipeline")
        .sort(["len", "pipeline"], descending=[True, False])
        .iter_rows()
    )
    summary.source_pipelines = counts
    if chosen:
        if chosen not in counts:
            summary.errors.append(
                error(
                    NO_ROW,
                    "pipeline",
                    chosen,
                    f"导出中没有销售流程“{chosen}”（有：{'、'.join(counts)}）",
                    f"the export has no pipeline “{chosen}” (it has: {', '.join(counts)})",
                )
            )
        keep = pl.col("pipeline") == chosen
        ids = source.deals.filter(~keep).get_column("external_id").drop_nulls()
        source.deals = source.deals.filter(keep)
        if source.history is not None:
            source.history = source.history.filter(~pl.col("external_id").is_in(ids.implode()))
        if source.activities is not None:
            source.activities = source.activities.filter(
                ~pl.col("external_id").is_in(ids.implode())
            )
        summary.other_pipelines = len(ids)
    elif len(counts) > 1:
        listed = ", ".join(f"{name} ({n})" for name, n in counts.items())
        if via == "cli":
            how = ("--source-pipeline 名称", "--source-pipeline NAME")
        else:
            zh, en = label(SOURCE_PIPELINE)
            how = (f"在“{zh}”中选择", f"choose one at “{en}”")
        summary.errors.append(
            error(
                NO_ROW,
                "pipeline",
                listed,
                f"导出中有多个销售流程（{listed}）：请逐个迁移（{how[0]}）",
                f"the export holds several pipelines ({listed}): migrate them one at a time "
                f"({how[1]})",
            )
        )


def _stage_errors(summary: MigrationSummary, errors: list[RowError], via: Via) -> None:
    if via == "cli":
        confirm = ("--stages 文件", "--stages FILE")
        mirror = ("用 --mirror-pipeline 照搬来源的阶段", "use --mirror-pipeline")
    else:
        stage_zh, stage_en = label(LOUDOU_STAGE)
        mirror_zh, mirror_en = label(MIRROR)
        confirm = (f"在“{stage_zh}”一栏", f"in the “{stage_en}” column")
        mirror = (f"选择“{mirror_zh}”照搬来源的阶段", f"choose “{mirror_en}”")
    for stage in summary.stages:
        if stage.target is None:
            errors.append(
                error(
                    NO_ROW,
                    "stage",
                    stage.label,
                    f"阶段“{stage.label}”（{stage.count} 个商机）没有对应的 Loudou 阶段",
                    f"stage “{stage.label}” ({en_count(stage.count, 'deal')}) maps to no "
                    "Loudou stage",
                )
            )
        elif stage.how in GUESSES:
            errors.append(
                error(
                    NO_ROW,
                    "stage",
                    stage.label,
                    f"阶段“{stage.label}”按{'赢单率' if stage.how == 'probability' else '顺序'}"
                    f"建议对应“{stage.target.name_zh}”：请确认（{confirm[0]}）或{mirror[0]}",
                    f"stage “{stage.label}” is proposed to map to “{stage.target.name_en}” "
                    f"by {stage.how}: confirm it ({confirm[1]}) or {mirror[1]} to keep the "
                    "source's stages",
                )
            )


def _archived_errors(
    summary: MigrationSummary,
    source: Source,
    ctx: Lookups,
    pipeline: Pipeline,
    errors: list[RowError],
) -> None:
    """What is archived, refused in the preview (``deals.bulk`` refuses it again, deal by
    deal, with the rules): an archived pipeline takes no new deals, and no deal may now be
    in an archived stage. History may pass through one, so a source stage may map onto an
    archived stage as long as none of its open deals would newly be in it (deals an
    earlier run put there may stay)."""
    scope = Scope.of(ctx.actor) if ctx.actor is not None else Scope.unrestricted()

    def known(ids: list[str], **where: Any) -> int:
        """How many of these deals are in Loudou already, as ``where`` says (within the
        user's scope: a deal out of it is not told)."""
        count = 0
        for start in range(0, len(ids), 1000):
            deals = Deal.objects.filter(external_id__in=ids[start : start + 1000], **where)
            count += scope.filter(deals).count()
        return count

    if rules.new_deal_problem(pipeline) is not None:
        ids = source.deals.get_column("external_id").drop_nulls().to_list()
        new = source.deals.height - known(ids, pipeline=pipeline)
        if new > 0:
            zh, en = translated_pair(rules.new_deal_problem(pipeline))
            errors.append(
                error(
                    NO_ROW,
                    "pipeline",
                    pipeline.key,
                    f"{zh}导出中有 {new} 个新商机。",
                    f"{en} {en_count(new, 'deal')} of the export "
                    f"{'is' if new == 1 else 'are'} new.",
                )
            )
    archived = {
        s.label: s.target
        for s in summary.stages
        if s.target is not None and rules.archived_end(s.target, entered=True) is not None
    }
    if not archived:
        return
    kinds = {s.label: str(s.kind) for s in summary.stages}
    open_deals = source.deals.filter(pl.col("stage").is_in(list(archived))).filter(
        status_of(kinds) == "open"
    )
    if ctx.via == "cli":
        how = ("--stages 文件", "--stages FILE")
    else:
        zh, en = label(LOUDOU_STAGE)
        how = (f"在“{zh}”一栏", f"in the “{en}” column")
    for source_label, stage in archived.items():
        deals = open_deals.filter(pl.col("stage") == source_label)
        ids = deals.get_column("external_id").drop_nulls().to_list()
        waiting = deals.height - known(ids, stage=stage)
        if waiting <= 0:
            continue
        errors.append(
            error(
                NO_ROW,
                "stage",
                source_label,
                f"阶段“{source_label}”对应的“{stage.name_zh}”已归档：其中 {waiting} 个进行中的"
                f"商机现在会停在该阶段。请改为对应其他阶段（{how[0]}）；历史可以经过已归档的阶段",
                f"stage “{source_label}” maps onto “{stage.name_en}”, which is archived: "
                f"{en_count(waiting, 'open deal')} would now be in it. Map it onto another stage "
                f"({how[1]}); history may pass through an archived stage",
            )
        )


def _order_errors(summary: MigrationSummary, errors: list[RowError]) -> None:
    """A mirror keeps the source's order: when the export tells nothing of some open
    stages' places (no stated order, no history, no probability: Pipedrive), the user
    gives the order on the command line. (On the web, the preview shows the order it
    will take, each stage's place with how it was found.)"""
    unknown = [s.label for s in summary.stages if s.order_how == UNKNOWN]
    if len(unknown) <= 1:
        return
    how = (
        "请在阶段文件中用 order = [...] 按顺序列出",
        "list them in a stages file as order = [...]",
    )
    errors.append(
        error(
            NO_ROW,
            "stage",
            ", ".join(unknown),
            f"导出中没有这些阶段的顺序：{how[0]}",
            f"the export does not tell the order of these stages: {how[1]}",
        )
    )


def _unknown_column(file: str, header: str, via: Via) -> RowError:
    """A column that looks important and is not read: the user leaves it out, knowingly."""
    if via == "cli":
        how = ("请在映射中对应，或用 --ignore 明确忽略", "map it, or say --ignore to leave it out")
    else:
        leave_zh, leave_en = label(LEAVE_OUT, header=header)
        columns_zh, columns_en = label(COLUMNS)
        again_zh, again_en = label(CHECK_AGAIN)
        how = (
            f"如不导入它，请在“{columns_zh}”下勾选“{leave_zh}”，再点“{again_zh}”",
            f"to leave it out, tick “{leave_en}” under {columns_en}, then “{again_en}”",
        )
    return error(
        1,
        f"{file}: {header}",
        header,
        f"这一列像是阶段、负责人、日期或金额，但无法识别：{how[0]}",
        f"this column looks like a stage, owner, date or amount but is not understood: {how[1]}",
    )


def _unmatched_owner(match: OwnerMatch, file: str, ctx: Lookups) -> RowError:
    """A source owner no Loudou user matches: created or mapped by the user."""
    source = match.as_dict()["source"]
    if ctx.via == "cli":
        how = (
            "用 --create-owners 创建，或用 --owner-map 对应",
            "--create-owners creates it, --owner-map maps it",
        )
    else:
        user_zh, user_en = label(LOUDOU_USER)
        owners_zh, owners_en = label(OWNERS)
        how = (
            f"请在“{owners_zh}”的“{user_zh}”一栏中选择",
            f"choose one in the “{user_en}” column of {owners_en}",
        )
        if ctx.actor is None or Scope.of(ctx.actor).everything:
            create_zh, create_en = label(CREATE_OWNERS)
            how = (
                f"{how[0]}，或勾选“{create_zh}”重新上传",
                f"{how[1]}, or upload the export again with “{create_en}” ticked",
            )
    return error(
        NO_ROW,
        f"{file}: owner",
        source,
        f"负责人“{source}”（{match.deals} 个商机）不对应任何 Loudou 用户：{how[0]}",
        f"owner “{source}” ({en_count(match.deals, 'deal')}) matches no Loudou user: {how[1]}",
    )


def _fail(summary: MigrationSummary, path: Path, lang: str | None) -> MigrationSummary:
    from ..results import finish

    # Raises ImportFailed with the errors file (columns named as people read them).
    finish(summary, Path(path), lang, columns_of(summary))
    raise ImportFailed(summary)  # pragma: no cover (finish raised)


def columns_of(summary: MigrationSummary) -> Callable[[str, str], str]:
    """(a problem's column, language) -> the column as people read it (labels.py)."""
    headers = headers_by_key(summary.columns)

    def column(name: str, lang: str) -> str:
        return column_label(name, lang, headers, summary.deals_file)

    return column


def _mirror(
    ctx: Lookups, spec: dict[str, Any], summary: MigrationSummary, source: Source, check: bool
) -> Pipeline:
    """Create the mirror pipeline (a dry run: stand-in rows, nothing written) and map every
    source stage onto its copy."""
    currencies = source.deals.get_column("currency").drop_nulls()
    currency = currencies.mode().sort()[0] if len(currencies) else ctx.default_pipeline.currency
    name = str(spec["name"])
    existing = _same_pipeline(spec)
    if existing is not None:  # a re-run: the mirror made before
        pipeline = existing
        made = list(pipeline.stages.order_by("position"))
    elif check:
        pipeline = Pipeline(pk=ctx.stand_in(), key=spec["key"], name_zh=name, name_en=name)
        pipeline.currency = currency
        made = []
        for i, item in enumerate(spec["stages"], start=1):
            made.append(
                Stage(
                    pk=ctx.stand_in(),
                    pipeline=pipeline,
                    key=item["key"],
                    kind=StageKind.OPEN,
                    position=i * 10,
                    name_zh=item["name"],
                    name_en=item["name"],
                    probability=item["probability"],
                )
            )
        for kind, key, position in ((StageKind.WON, "won", 1000), (StageKind.LOST, "lost", 1001)):
            made.append(
                Stage(
                    pk=ctx.stand_in(),
                    pipeline=pipeline,
                    key=key,
                    kind=kind,
                    position=position,
                    name_zh="签约成单" if kind == StageKind.WON else "输单",
                    name_en="Won (signed)" if kind == StageKind.WON else "Lost",
                    probability=Decimal(1 if kind == StageKind.WON else 0),
                )
            )
    else:
        pipeline = create_mirror_pipeline(
            key=spec["key"], name_zh=name, name_en=name, currency=currency, stages=spec["stages"]
        )
        made = list(pipeline.stages.order_by("position"))
    ctx.pipelines[pipeline.key] = pipeline
    ctx.stages[pipeline.pk] = {}
    for stage in made:
        for word in (stage.key, stage.name_zh.lower()):
            ctx.stages[pipeline.pk].setdefault(word.lower(), stage)
    ctx.open_order[pipeline.pk] = [s for s in made if s.kind == StageKind.OPEN]
    by_source = {item["source"]: item["key"] for item in spec["stages"]}
    outcome = {s.kind: s for s in made if s.kind != StageKind.OPEN}
    for stage in summary.stages:
        if stage.kind == StageKind.OPEN:
            stage.target = ctx.stages[pipeline.pk][by_source[stage.label]]
        else:
            stage.target = outcome[stage.kind]
        stage.how = "mirror"
    summary.pipeline = pipeline.name_en
    return pipeline


def _same_pipeline(spec: dict[str, Any]) -> Pipeline | None:
    """The pipeline an earlier run mirrored from the same stages, if any (so that a re-run
    updates its deals instead of making another pipeline)."""
    pipeline = Pipeline.objects.filter(key=spec["key"]).first()
    if pipeline is None:
        return None
    keys = [s.key for s in pipeline.stages.filter(kind=StageKind.OPEN).order_by("position")]
    if keys != [item["key"] for item in spec["stages"]]:
        raise FileError(
            f"已有标识为 {spec['key']} 的销售流程，但阶段不同：请换一个名称",
            f"a pipeline {spec['key']!r} exists with other stages: choose another name",
        )
    return pipeline


def proposal_path(path: Path) -> Path:
    return Path(f"{Path(path).with_suffix('')}.stages.toml")
