"""The migration's preview and summary as text (the command line; the web page renders
the same ``MigrationSummary`` in its template), in zh-Hans or English."""

from collections.abc import Iterator

from ..results import en_count
from .migrate import MigrationSummary
from .stages import SourceStage

HOW = {
    "outcome": ("赢单/输单", "won/lost"),
    "name": ("按名称", "by name"),
    "file": ("按阶段文件", "by stages file"),
    "mirror": ("照搬", "mirrored"),
    "probability": ("按赢单率（待确认）", "by probability (to confirm)"),
    "order": ("按顺序（待确认）", "by order (to confirm)"),
    "": ("未对应", "unmapped"),
}
OWNER_HOW = {
    "email": ("按邮箱", "by e-mail"),
    "username": ("按用户名", "by username"),
    "name": ("按姓名", "by name"),
    "map": ("按对应文件", "by owner map"),
    "new": ("新建", "created"),
    "": ("未对应", "unmatched"),
}


ORDER_HOW = {
    "given": ("按阶段文件", "as given"),
    "history": ("由历史推断", "from the history"),
    "probability": ("按赢单率", "by probability"),
    "listed": ("按导出中的列顺序", "as the export lists them"),
    "unknown": ("顺序未知", "order unknown"),
}


def order_words(stage: SourceStage, zh: bool) -> str:
    """Where a stage's place comes from (order.py), as the command line says it."""
    if stage.order_how == "stated" and stage.order is not None:
        return f"来源顺序 {stage.order:g}" if zh else f"sort order {stage.order:g}"
    return ORDER_HOW.get(stage.order_how, ("", ""))[0 if zh else 1]


def probability_words(stage: SourceStage, zh: bool) -> str:
    if stage.probability is not None:
        return f"{stage.probability:g}%"
    if stage.estimate is not None:
        return f"{stage.estimate:g}%（估计）" if zh else f"{stage.estimate:g}% (estimated)"
    return ""


def preview_lines(summary: MigrationSummary, zh: bool) -> Iterator[str]:
    i = 0 if zh else 1
    yield ("来源文件：" if zh else "Files: ") + ", ".join(summary.files)
    if summary.unread_files:
        yield ("未读取的文件：" if zh else "Files not read: ") + ", ".join(summary.unread_files)
    if len(summary.source_pipelines) > 1:
        listed = ", ".join(f"{k} ({n})" for k, n in summary.source_pipelines.items())
        yield ("来源的销售流程：" if zh else "Source pipelines: ") + listed
    yield ("目标销售流程：" if zh else "Target pipeline: ") + summary.pipeline
    yield (
        "阶段（来源顺序、当前商机数 / 历史记录数、顺序从何而来、赢单率 → Loudou 阶段）："
        if zh
        else "Stages (in the source's order; deals now / history rows, where the order comes "
        "from, probability → Loudou stage):"
    )
    for stage in summary.stages:
        target = stage.target.key if stage.target is not None else "—"
        if stage.target is not None and stage.target.archived:
            target += "（已归档）" if zh else " (archived)"
        yield (
            f"  {stage.place}. {stage.label}  [{stage.kind}]  {stage.count} / {stage.entries}  "
            f"{order_words(stage, zh)}  {probability_words(stage, zh)}  → {target}  "
            f"({HOW.get(stage.how, HOW[''])[i]})"
        )
    if summary.owners:
        yield "负责人：" if zh else "Owners:"
        for owner in summary.owners:
            data = owner.as_dict()
            yield (
                f"  {data['source']} ({owner.deals}) → {data['user'] or '—'}  "
                f"({OWNER_HOW.get(owner.how, OWNER_HOW[''])[i]})"
            )
    for report in summary.columns:
        yield f"{report.file}:"
        if report.mapped:
            yield ("  读取：" if zh else "  mapped: ") + ", ".join(
                f"{h} → {m}" for h, m in report.mapped.items()
            )
        if report.ignored:
            yield ("  忽略：" if zh else "  ignored: ") + ", ".join(report.ignored)
        if report.unknown:
            yield ("  无法识别：" if zh else "  unknown: ") + ", ".join(report.unknown)
    if summary.date_problems:
        yield (
            f"日期问题 {len(summary.date_problems)} 处"
            + ("（已按建议修正）" if summary.dates_fixed else "（加 --fix-dates 按建议修正）")
            if zh
            else f"Date problems: {len(summary.date_problems)}"
            + (
                " (fixed as proposed)"
                if summary.dates_fixed
                else " (--fix-dates applies the fixes)"
            )
        )
        for item in summary.date_problems[:20]:
            message = item.message("zh" if zh else "en")
            yield f"  row {item.row}, {item.column} «{item.value}»: {message}"
    if summary.contact_roles or summary.contact_roles_deleted:
        yield (
            f"联系人角色 {summary.contact_roles} 行：设为主要联系人 {summary.primary_contacts}，"
            f"决策人 {summary.decision_makers}，未导入 {len(summary.contact_role_problems)}"
            f"（来源中已删除 {summary.contact_roles_deleted}）"
            if zh
            else f"Contact roles: {en_count(summary.contact_roles, 'row')}; "
            f"{en_count(summary.primary_contacts, 'primary contact')}, "
            f"{en_count(summary.decision_makers, 'decision maker')}, "
            f"{en_count(len(summary.contact_role_problems), 'row')} left out "
            f"({summary.contact_roles_deleted} deleted in the source)"
        )
        for item in summary.contact_role_problems[:20]:
            message = item.message("zh" if zh else "en")
            yield f"  row {item.row}, {item.column} «{item.value}»: {message}"
        if len(summary.contact_role_problems) > 20:
            yield f"  … {len(summary.contact_role_problems) - 20}"
    if summary.skipped:
        yield (
            f"来源中已删除的行（未导入）：{summary.skipped}"
            if zh
            else f"Rows deleted in the source (left out): {summary.skipped}"
        )
    if summary.orphans:
        yield (
            f"不属于导出中任何商机的历史行（未导入）：{summary.orphans}"
            if zh
            else f"History rows of no deal in the export (left out): {summary.orphans}"
        )


def summary_line(s: MigrationSummary, zh: bool) -> str:
    if zh:
        head = "试运行（未做任何更改）：" if s.dry_run else "迁移完成："
        return (
            f"{head}{s.rows} 个商机；新建 {s.created}，更新 {s.updated}，未变 {s.unchanged}；"
            f"阶段变更 {s.events_added}；新建客户 {s.accounts_created}、联系人 "
            f"{s.contacts_created}、负责人 {s.owners_created}；主要联系人 {s.primary_contacts}；"
            f"活动 {s.activities_created}；"
            f"修正日期 {s.dates_fixed}。"
        )
    head = "Dry run (nothing changed): " if s.dry_run else "Migrated: "
    return (
        f"{head}{en_count(s.rows, 'deal')}; {s.created} created, {s.updated} updated, "
        f"{s.unchanged} unchanged; {en_count(s.events_added, 'stage change')}; "
        f"{en_count(s.accounts_created, 'account')}, {en_count(s.contacts_created, 'contact')}, "
        f"{en_count(s.owners_created, 'owner')} created; "
        f"{en_count(s.primary_contacts, 'primary contact')}; "
        f"{en_count(s.activities_created, 'activity', 'activities')}; "
        f"{en_count(s.dates_fixed, 'date')} fixed."
    )
