"""Recognising spreadsheet headers: Loudou's own (English and Chinese), HubSpot's,
Pipedrive's and Salesforce's, or any other through a mapping file.

A mapping file (TOML) maps headers to fields and stage names to stage keys:

    [columns]
    "Opportunity Title" = "name"
    "Qualified on" = "entered_needs"

    [stages]
    "Qualified to buy" = "needs"
    "Closed won" = "won"
"""

import re
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ALIASES: dict[str, list[str]] = {
    "external_id": [
        "external_id",
        "record id",
        "deal id",
        "deal - id",
        "opportunity id",
        "外部编号",
        "编号",
        "商机编号",
    ],
    "name": ["name", "deal name", "deal - title", "opportunity name", "商机名称", "商机", "名称"],
    "account": [
        "account",
        "account name",
        "company",
        "company name",
        "associated company",
        "deal - organization",
        "organization",
        "客户",
        "客户名称",
        "公司",
    ],
    "owner": ["owner", "deal owner", "deal - owner", "opportunity owner", "负责人", "所有者"],
    "team": ["team", "团队"],
    "pipeline": ["pipeline", "deal - pipeline", "销售流程"],
    "stage": ["stage", "deal stage", "deal - stage", "阶段", "商机阶段"],
    "status": ["status", "deal - status", "状态"],
    "amount": ["amount", "deal - value", "value", "金额", "商机金额"],
    "currency": ["currency", "deal - currency", "币种"],
    "created_at": [
        "created_at",
        "create date",
        "created date",
        "deal - deal created",
        "创建时间",
        "创建日期",
    ],
    "expected_close_date": ["expected_close_date", "deal - expected close date", "预计成交日期"],
    "closed_at": ["closed_at", "成交日期", "关闭时间"],
    # HubSpot and Salesforce: the expected date while open, the actual one once closed.
    "close_date": ["close date"],
    "won_time": ["deal - won time", "won time", "赢单时间"],
    "lost_time": ["deal - lost time", "lost time", "输单时间"],
    "lost_reason": ["lost_reason", "deal - lost reason", "closed lost reason", "输单原因"],
    "source": ["source", "lead source", "deal - source", "来源", "线索来源"],
    "forecast_category": ["forecast_category", "forecast category", "预测类别"],
    # What the deal page shows: the deal's own category, else its stage's. Exported beside
    # forecast_category and known here only so that it is never read: importing it would
    # pin a category the stage gave, which should follow the deal to its next stage.
    "effective_forecast_category": [
        "effective_forecast_category",
        "effective forecast category",
        "预测类别（含阶段默认）",
    ],
    "updated_at": ["updated_at", "最后修改时间"],
    "last_activity_at": ["last_activity_at", "last activity date", "最后活动时间"],
}
FIELDS = tuple(ALIASES)
LABELS: dict[str, tuple[str, str]] = {
    "external_id": ("外部编号", "External ID"),
    "name": ("商机名称", "Deal name"),
    "account": ("客户", "Account"),
    "owner": ("负责人", "Owner"),
    "team": ("团队", "Team"),
    "pipeline": ("销售流程", "Pipeline"),
    "stage": ("阶段", "Stage"),
    "status": ("状态", "Status"),
    "amount": ("金额", "Amount"),
    "currency": ("币种", "Currency"),
    "created_at": ("创建时间", "Created"),
    "expected_close_date": ("预计成交日期", "Expected close date"),
    "closed_at": ("成交日期", "Closed"),
    "close_date": ("成交/预计成交日期", "Close date (expected while open)"),
    "won_time": ("赢单时间", "Won time"),
    "lost_time": ("输单时间", "Lost time"),
    "lost_reason": ("输单原因", "Lost reason"),
    "source": ("来源", "Source"),
    "forecast_category": ("预测类别", "Forecast category"),
    "effective_forecast_category": (
        "预测类别（含阶段默认；不导入）",
        "Forecast category incl. the stage's (not imported)",
    ),
    "updated_at": ("最后修改时间", "Last edited"),
    "last_activity_at": ("最后活动时间", "Last activity"),
}


def field_label(field: str, lang: str, custom: dict[str, tuple[str, str]] | None = None) -> str:
    """A field as users read it: 'created_at' -> 创建时间 / Created. ``custom``: custom
    fields' names (key -> (zh, en)), for 'custom:<key>'."""
    zh = lang.lower().startswith("zh")
    if field.startswith(CUSTOM):
        key = field.removeprefix(CUSTOM)
        zh_name, en_name = (custom or {}).get(key, (key, key))
        return f"自定义字段“{zh_name}”" if zh else f"Custom field “{en_name}”"
    if field.startswith("entered:"):
        stage = field.removeprefix("entered:")
        return f"进入“{stage}”的时间" if zh else f"Entered “{stage}”"
    zh_label, en_label = LABELS.get(field, (field, field))
    return zh_label if zh else en_label


# history files (one row per stage change)
HISTORY_ALIASES: dict[str, list[str]] = {
    "external_id": ALIASES["external_id"],
    "stage": [*ALIASES["stage"], "stage name", "to stage"],
    "changed_at": [
        "changed_at",
        "changed at",
        "date",
        "last modified",
        "last modified date",
        "created date",
        "变更时间",
        "时间",
    ],
    "changed_by": ["changed_by", "changed by", "last modified by", "created by", "操作人"],
}


def normalise(header: object) -> str:
    """'Deal - Owner' -> 'deal - owner'; ' created_at ' -> 'created at'."""
    text = str(header or "").strip().strip("\ufeff").lower()
    text = re.sub(r"[_\s]+", " ", text)
    return re.sub(r"\s*-\s*", " - ", text)


_ALIAS_INDEX = {normalise(alias): name for name, aliases in ALIASES.items() for alias in aliases}
_HISTORY_INDEX = {
    normalise(alias): name for name, aliases in HISTORY_ALIASES.items() for alias in aliases
}
_QUOTES = "'\"“”‘’"


@dataclass
class Mapping:
    """A mapping file's contents: header -> field, stage name -> stage key."""

    columns: dict[str, str] = field(default_factory=dict)
    stages: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None) -> "Mapping":
        if path is None:
            return cls()
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"mapping file {path}: {exc}") from exc
        columns, stages = data.get("columns", {}), data.get("stages", {})
        if not isinstance(columns, dict) or not isinstance(stages, dict):
            raise ValueError(f"mapping file {path}: [columns] and [stages] must be tables")
        return cls(
            {normalise(k): str(v) for k, v in columns.items()},
            {normalise(k): str(v) for k, v in stages.items()},
        )


def entered_stage_label(header: str) -> str | None:
    """The stage named by an 'entered' column, as written: entered_needs -> 'needs';
    Date entered 'Needs (Sales)' -> 'needs'; 进入确认需求时间 -> '确认需求'."""
    text = normalise(header)
    for prefix in ("entered ", "date entered "):
        if text.startswith(prefix):
            label = text[len(prefix) :].strip().strip(_QUOTES).strip()
            # HubSpot: "<stage> (<pipeline>)"
            return re.sub(r"\s*\([^()]*\)$", "", label).strip(_QUOTES).strip()
    if text.startswith("进入"):
        label = text[2:]
        for suffix in ("时间", "日期"):
            label = label.removesuffix(suffix)
        return label.strip() or None
    return None


def field_for(
    header: str, mapping: Mapping, history: bool = False, custom: dict[str, str] | None = None
) -> str | None:
    """The field a header holds, 'entered:<label>' for a stage-entry column,
    'custom:<key>' for a custom field's (``custom``: ``custom_field_index``), or None."""
    key = normalise(header)
    if key in mapping.columns:
        target = mapping.columns[key]
        return f"entered:{target[len('entered_') :]}" if target.startswith("entered_") else target
    if history:
        return _HISTORY_INDEX.get(key)
    if key in _ALIAS_INDEX:
        return _ALIAS_INDEX[key]
    if custom and key in custom:
        return CUSTOM + custom[key]
    label = entered_stage_label(header)
    return f"entered:{label}" if label else None


# Custom fields' columns: 'custom:<key>'.
CUSTOM = "custom:"


def custom_field_index(fields: Iterable[Any]) -> dict[str, str]:
    """Header (normalised) -> custom field key, for ``field_for``: each field is known by
    custom.<key>, its key, and its zh and en names. Loudou's own columns and stage-entry
    columns keep their headers; a key wins over another field's name, and a name two
    fields share names neither."""
    reserved = set(_ALIAS_INDEX)
    index: dict[str, str] = {}
    names: dict[str, set[str]] = {}
    fields = list(fields)
    for cf in fields:
        for name in (cf.name_zh, cf.name_en):
            if name and name.strip():
                names.setdefault(normalise(name), set()).add(cf.key)
    for label, keys in names.items():
        if len(keys) == 1:
            index[label] = next(iter(keys))
    claims = Counter(normalise(cf.key) for cf in fields)
    for cf in fields:
        if claims[normalise(cf.key)] == 1:
            index[normalise(cf.key)] = cf.key
    for cf in fields:
        index[normalise(f"custom.{cf.key}")] = cf.key
    return {
        label: key
        for label, key in index.items()
        if label not in reserved and entered_stage_label(label) is None
    }


# Loudou's own deal columns, in the order `export deals` writes them (then one entered_*
# column per open stage).
DEAL_EXPORT_COLUMNS = (
    "external_id",
    "name",
    "account",
    "owner",
    "team",
    "pipeline",
    "stage",
    "status",
    "amount",
    "currency",
    "created_at",
    "expected_close_date",
    "closed_at",
    "lost_reason",
    "source",
    "forecast_category",
    "effective_forecast_category",
    "updated_at",
    "last_activity_at",
)

# The same columns as a zh-Hans export heads them: headers of the Chinese dialect above, so
# that the file imports back as it is; stage-entry columns read 进入<阶段名>时间.
DEAL_EXPORT_HEADERS_ZH = {
    "external_id": "外部编号",
    "name": "商机名称",
    "account": "客户",
    "owner": "负责人",
    "team": "团队",
    "pipeline": "销售流程",
    "stage": "阶段",
    "status": "状态",
    "amount": "金额",
    "currency": "币种",
    "created_at": "创建时间",
    "expected_close_date": "预计成交日期",
    # Not 成交日期: a lost deal closes too (the deal page's word, 关闭时间).
    "closed_at": "关闭时间",
    "lost_reason": "输单原因",
    "source": "来源",
    "forecast_category": "预测类别",
    "effective_forecast_category": "预测类别（含阶段默认）",
    "updated_at": "最后修改时间",
    "last_activity_at": "最后活动时间",
}
HISTORY_EXPORT_COLUMNS = ("external_id", "stage", "changed_at", "changed_by")
HISTORY_EXPORT_HEADERS_ZH = {
    "external_id": "外部编号",
    "stage": "阶段",
    "changed_at": "变更时间",
    "changed_by": "操作人",
}


def entered_header_zh(stage_name: str) -> str:
    """The zh-Hans header of a stage-entry column: 进入确认需求时间."""
    return f"进入{stage_name}时间"
