"""From a spreadsheet row to a plan of a deal (``deals.bulk.PlannedDeal``): every cell
checked, every problem reported with its row and column in zh-Hans and English; the
deal's history rebuilt from the file's dates as METRICS.md says."""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import translation

from loudou.core.errors import InvalidInput
from loudou.deals.bulk import PlannedDeal, Step
from loudou.deals.values import clean_custom
from loudou.people.access import Scope
from loudou.pipelines.models import CustomField, FieldType, Pipeline, Stage, StageKind

from .columns import CUSTOM
from .lookups import STATUS_WORDS, Lookups
from .parsing import CellError, parse_amount, parse_date, parse_datetime
from .quoting import unquoted
from .results import RowError, error
from .wording import CREATE_OWNERS, label


def text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel gives ids and numbers as floats
    return str(value).strip()


def written(value: object) -> str:
    """A free-text cell (name, account, source, ...) as written before an export quoted
    it against formulas ("'=1+1" is "=1+1")."""
    return unquoted(text(value))


def create_hint(ctx: Lookups) -> tuple[str, str]:
    """How an unknown owner or team gets created (zh, en): the command line's flag, or the
    upload form's box (which only administrators have)."""
    if ctx.via == "cli":
        return "可加 --create-owners 创建", "--create-owners creates it"
    zh, en = label(CREATE_OWNERS)
    if ctx.actor is None or Scope.of(ctx.actor).everything:
        return (
            f"上传文件时勾选“{zh}”即可创建",
            f"tick “{en}” when you upload the file to create it",
        )
    return (
        f"管理员上传文件时勾选“{zh}”即可创建",
        f"an administrator can create it: “{en}” when uploading the file",
    )


def parse_row(
    ctx: Lookups,
    number: int,
    cells: dict[str, Any],
    headers: dict[str, str],
    errors: list[RowError],
    history: list[Step] | None,
) -> PlannedDeal | None:
    """Check one row; append its errors; return its plan if it has none. Who may import
    it, and whether its history may be written, is ``deals.bulk``'s to decide."""
    before = len(errors)

    def fail(column: str, zh: str, en: str) -> None:
        errors.append(error(number, headers.get(column, column), cells.get(column), zh, en))

    def read(column: str, parser: Callable[[object], Any]) -> Any:
        try:
            return parser(cells.get(column))
        except CellError as exc:
            fail(column, exc.zh, exc.en)
            return None

    name = written(cells.get("name"))
    if not name:
        fail("name", "商机名称不能为空", "a deal needs a name")
    pipeline = ctx.default_pipeline
    if text(cells.get("pipeline")):
        pipeline = ctx.pipeline(text(cells["pipeline"]))
        if pipeline is None:
            fail("pipeline", "没有这个销售流程", "no such pipeline")
            return None
    team = None
    if text(cells.get("team")):
        team = ctx.team(text(cells["team"]))
        if team is None:
            zh, en = create_hint(ctx)
            fail("team", f"没有这个团队（{zh}）", f"no such team ({en})")
    owner = None
    if text(cells.get("owner")):
        owner = ctx.owner(text(cells["owner"]), team)
        if owner is None:
            zh, en = create_hint(ctx)
            fail(
                "owner",
                f"找不到这个负责人（按用户名、邮箱或姓名匹配；{zh}）",
                f"unknown owner (matched by username, e-mail or name; {en})",
            )
    elif ctx.actor is not None:
        owner = ctx.actor
    else:
        fail("owner", "负责人不能为空", "a deal needs an owner")
    amount = read("amount", parse_amount)
    created_at = read("created_at", lambda v: parse_datetime(v, ctx.tz))
    expected = read("expected_close_date", lambda v: parse_date(v, ctx.tz))
    closed_at = read("closed_at", lambda v: parse_datetime(v, ctx.tz))
    close_date = read("close_date", lambda v: parse_datetime(v, ctx.tz))
    won_time = read("won_time", lambda v: parse_datetime(v, ctx.tz))
    lost_time = read("lost_time", lambda v: parse_datetime(v, ctx.tz))
    updated_at = read("updated_at", lambda v: parse_datetime(v, ctx.tz))
    last_activity_at = read("last_activity_at", lambda v: parse_datetime(v, ctx.tz))
    said = text(cells.get("forecast_category"))
    category = ctx.forecast_words.get(said.lower(), "") if said else ""
    if said and not category:
        fail(
            "forecast_category",
            "预测类别应为 管道/最佳情况/承诺/排除（或 pipeline/best_case/commit/omitted）",
            "forecast category must be Pipeline, Best case, Commit or Omitted "
            "(pipeline, best_case, commit, omitted; 管道, 最佳情况, 承诺, 排除)",
        )
    status = None
    if text(cells.get("status")):
        status = STATUS_WORDS.get(text(cells["status"]).lower())
        if status is None:
            fail(
                "status",
                "状态应为 open/won/lost 或 进行中/赢单/输单",
                "status must be open, won or lost (进行中, 赢单, 输单)",
            )
    stage = None
    if text(cells.get("stage")):
        stage = ctx.stage(pipeline, text(cells["stage"]))
        if stage is None:
            if ctx.via == "cli":
                fail(
                    "stage",
                    "没有这个阶段（可用阶段标识、中文或英文名称，或在映射文件中对应）",
                    "no such stage (use a stage key or its zh/en name, or map it in a mapping "
                    "file)",
                )
            else:  # the page takes no mapping file
                fail(
                    "stage",
                    "没有这个阶段（可用阶段标识、中文或英文名称）",
                    "no such stage (use a stage key or its zh/en name)",
                )
    custom: dict[str, Any] | None = None
    for column in cells:
        if column.startswith(CUSTOM):
            cf = ctx.custom_fields[column.removeprefix(CUSTOM)]
            value = read(column, lambda v, cf=cf: custom_value(ctx, cf, v))
            custom = {} if custom is None else custom
            custom[cf.key] = value
    entered: dict[Stage, dt.datetime] = {}
    for column in cells:
        if column.startswith("entered:") and cells[column] not in (None, ""):
            when = read(column, lambda v: parse_datetime(v, ctx.tz))
            target = ctx.stage(pipeline, column.removeprefix("entered:"))
            if when is not None and target is not None:
                entered[target] = when
    if len(errors) > before:
        return None

    # Status and closing time, from whatever the file offers.
    if status is None and stage is not None and stage.kind != StageKind.OPEN:
        status = stage.kind
    if status is None:
        status = "won" if won_time else "lost" if lost_time else "open"
    closed_at = closed_at or (won_time if status == "won" else lost_time)
    for target, when in list(entered.items()):
        if target.kind != StageKind.OPEN:  # e.g. HubSpot's "Date entered 'Closed won'"
            closed_at = closed_at or when
            del entered[target]
    if close_date is not None:
        if status == "open":
            expected = expected or close_date.astimezone(ctx.tz).date()
        else:
            closed_at = closed_at or close_date
    if status == "open" and closed_at is not None:
        fail("closed_at", "进行中的商机不应有成交日期", "an open deal has no closing time")
        return None
    if status != "open" and closed_at is None and history is None:
        fail(
            "closed_at", "赢单或输单的商机需要成交日期", "a won or lost deal needs its closing time"
        )
        return None

    if history is not None:
        changes = history
    else:
        changes = changes_from_dates(
            ctx,
            number,
            cells,
            headers,
            errors,
            pipeline,
            stage,
            status,
            created_at,
            entered,
            closed_at,
        )
        if changes is None:
            return None
    last = changes[-1]
    if history is not None:
        final = last.stage.kind if last.stage.kind != StageKind.OPEN else "open"
        if final != status and text(cells.get("status")):
            fail(
                "status",
                "状态与阶段历史的最后一步不一致",
                "the status does not match the last step of the stage history",
            )
            return None
        status = final
    lost_reason, lost_note = None, ""
    if status == "lost":
        said = text(cells.get("lost_reason"))
        lost_reason = ctx.reason(said) if said else None
        if lost_reason is None:
            lost_reason, lost_note = ctx.other_reason, unquoted(said)
    account_name = written(cells.get("account"))
    fields: dict[str, Any] = {} if custom is None else {"custom": custom}
    return PlannedDeal(
        number,
        {
            **fields,
            "name": name,
            "external_id": written(cells.get("external_id")) or None,
            "account_id": ctx.account_id(account_name) if account_name else None,
            "owner": owner,
            "team": team,
            "pipeline": pipeline,
            "amount": amount,
            "currency": (written(cells.get("currency")) or pipeline.currency).upper()[:3],
            "expected_close_date": expected,
            "lost_reason": lost_reason,
            "lost_note": lost_note,
            "source": written(cells.get("source")),
            "forecast_category": category,
            "updated_at": updated_at,
            "last_activity_at": last_activity_at,
        },
        changes,
        # No time at all: the creation time is the clock's, which a re-import cannot match.
        undated=history is None and created_at is None and not entered and closed_at is None,
        stage_stated=stage is not None,
        given={c: text(cells.get(c)) for c in ("owner", "team", "stage") if c in cells},
    )


YES_WORDS = {"yes", "y", "true", "1", "是"}
NO_WORDS = {"no", "n", "false", "0", "否"}


def custom_value(ctx: Lookups, cf: CustomField, value: object) -> Any:
    """A custom field's cell as the deal keeps it (None: empty, which clears it), checked
    by ``deals.values.clean_custom`` as the deal page and the API check it; CellError
    naming the field otherwise. Yes/no cells take 是/否, yes/no, true/false, 1/0."""
    if value is None or text(value) == "":
        return None
    cache = (cf.key, type(value).__name__, str(value))
    if cache not in ctx.custom_values:
        try:
            ctx.custom_values[cache] = _custom_value(ctx, cf, value)
        except CellError as exc:
            ctx.custom_values[cache] = exc
    found = ctx.custom_values[cache]
    if isinstance(found, CellError):
        raise found
    return found


def _custom_value(ctx: Lookups, cf: CustomField, value: object) -> Any:
    given: object = value
    if cf.type == FieldType.BOOLEAN:
        word = text(value).lower()
        if isinstance(value, bool):
            given = value
        elif word in YES_WORDS | NO_WORDS:
            given = word in YES_WORDS
        else:
            raise CellError(
                f"“{cf.name_zh}”应为 是/否（或 yes/no、true/false）",
                f"“{cf.name_en}” must be yes or no (true/false, 是/否)",
            )
    elif cf.type == FieldType.DATE:
        day = parse_date(value, ctx.tz)
        given = day.isoformat() if day else None
    elif cf.type == FieldType.NUMBER:
        try:
            number = None if isinstance(value, bool) else Decimal(text(value))
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise CellError(f"“{cf.name_zh}”应为数字", f"“{cf.name_en}” must be a number")
        given = text(value)
    else:
        given = text(value)
    try:
        return clean_custom({cf.key: given})[cf.key]
    except InvalidInput as exc:  # its words, in both languages
        messages = []
        for language in ("zh-hans", "en"):
            with translation.override(language):
                try:
                    clean_custom({cf.key: given})
                except InvalidInput as again:
                    messages.append("; ".join(str(m) for m in again.errors.values()))
        raise CellError(*messages) from exc


def changes_from_dates(
    ctx: Lookups,
    number: int,
    cells: dict[str, Any],
    headers: dict[str, str],
    errors: list[RowError],
    pipeline: Pipeline,
    stage: Stage | None,
    status: str,
    created_at: dt.datetime | None,
    entered: dict[Stage, dt.datetime],
    closed_at: dt.datetime | None,
) -> list[Step] | None:
    """METRICS.md's rebuild: creation at created_at into the earliest stage with a date (or
    ``stage``), then each entered stage in time order, then won/lost at closed_at."""
    order = ctx.open_order[pipeline.pk]
    timeline = sorted(entered.items(), key=lambda kv: (kv[1], order.index(kv[0])))
    current = stage if stage is not None and stage.kind == StageKind.OPEN else None
    created_at = created_at or (timeline[0][1] if timeline else None) or closed_at
    if created_at is None:
        created_at = dt.datetime.now(tz=dt.UTC)
    for target, when in timeline:
        if when < created_at:
            column = f"entered:{target.key}"
            errors.append(
                error(
                    number,
                    entered_header(headers, target),
                    when,
                    f"进入“{target.name_zh}”的时间早于创建时间",
                    f"entered {target.name_en} before the deal was created",
                )
            )
            headers.setdefault(column, column)
    if closed_at is not None and closed_at < created_at:
        errors.append(
            error(
                number,
                headers.get("closed_at", "closed_at"),
                closed_at,
                "成交日期早于创建时间",
                "closed before the deal was created",
            )
        )
    if timeline and closed_at is not None and closed_at < timeline[-1][1]:
        errors.append(
            error(
                number,
                headers.get("closed_at", "closed_at"),
                closed_at,
                "成交日期早于最后一次阶段变更",
                "closed before its last stage change",
            )
        )
    if errors and errors[-1].row == number:
        return None
    first_stage = timeline[0][0] if timeline else (current or order[0])
    changes = [Step(first_stage, created_at, ctx.actor)]
    for target, when in timeline[1:]:
        changes.append(Step(target, when, ctx.actor))
    if current is not None and current != changes[-1].stage:
        errors.append(
            error(
                number,
                headers.get("stage", "stage"),
                cells.get("stage"),
                f"阶段“{current.name_zh}”与最后进入的阶段“{changes[-1].stage.name_zh}”不一致",
                f"stage {current.name_en} differs from the last stage entered, "
                f"{changes[-1].stage.name_en}",
            )
        )
        return None
    if status != "open":
        outcome = next(s for s in ctx.stages[pipeline.pk].values() if s.kind == status)
        changes.append(Step(outcome, closed_at, ctx.actor))
    return changes


def entered_header(headers: dict[str, str], stage: Stage) -> str:
    for column, header in headers.items():
        if column.startswith("entered:") and column.removeprefix("entered:").lower() in (
            stage.key,
            stage.name_zh.lower(),
            stage.name_en.lower(),
        ):
            return header
    return f"entered_{stage.key}"


# ---------------------------------------------------------------------------------------
# Writing a batch
