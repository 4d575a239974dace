"""What a migration reads from each column, as people read it: the preview's column
mapping ("OwnerId → 负责人 / Owner") and the column of a problem ("Opportunity.csv: 负责人
(OwnerId)"), in zh-Hans or English. The vendor readers name what a column holds by a
key (``source.DEAL_SCHEMA``'s and the history's); the key stays for the command line."""

from ..columns import LABELS

# Key -> (zh-Hans, English), beyond the plain import's fields (columns.LABELS).
MEANINGS: dict[str, tuple[str, str]] = {
    **LABELS,
    "stage_order": ("阶段顺序", "Stage order"),
    "probability": ("赢单率", "Probability"),
    "closed": ("是否已关闭", "Closed?"),
    "won": ("是否赢单", "Won?"),
    "last_changed_at": ("最近一次阶段变更", "Last stage change"),
    "at": ("变更时间", "Changed at"),
    "by": ("操作人", "Changed by"),
    "old": ("原阶段", "Previous stage"),
    "field": ("变更的字段", "Changed field"),
    "contact": ("联系人", "Contact"),
    "role": ("角色", "Role"),
    "primary": ("主要联系人", "Primary contact"),
    "type": ("活动类型", "Activity type"),
    "activity_at": ("活动时间", "Activity time"),
    "note": ("备注", "Note"),
    "title": ("职务", "Title"),
    "email": ("邮箱", "E-mail"),
    "phone": ("电话", "Phone"),
}
# In a file other than the deals file, the deal's key is the deal it belongs to.
OF_THE_DEAL = ("所属商机（外部编号）", "The deal (its external ID)")


def meaning_label(meaning: str, lang: str, *, deals_file: bool = True) -> str:
    """'owner' -> 负责人 / Owner; 'entered: Proposal' -> 进入“Proposal”的时间; a key
    without a label as it is."""
    zh = lang.lower().startswith("zh")
    if meaning.startswith("entered:"):
        stage = meaning.removeprefix("entered:").strip()
        return f"进入“{stage}”的时间" if zh else f"Entered “{stage}”"
    if meaning == "external_id" and not deals_file:
        pair = OF_THE_DEAL
    else:
        pair = MEANINGS.get(meaning, (meaning, meaning))
    return pair[0] if zh else pair[1]


def column_label(
    column: str,
    lang: str,
    headers: dict[str, dict[str, str]] | None = None,
    deals_file: str = "",
) -> str:
    """A problem's column as people read it: 'stage' -> 阶段; 'Opportunity.csv: owner' ->
    'Opportunity.csv: 负责人 (OwnerId)' (``headers``: file -> {key: header as the file
    writes it}); a column named by its header in the file ('Opportunity.csv:
    Stage_Detail__c') as it is."""
    file, sep, key = column.rpartition(": ")
    if not sep:
        return meaning_label(column, lang) if column in MEANINGS else column
    if key not in MEANINGS:
        return column
    label = meaning_label(key, lang, deals_file=not deals_file or file == deals_file)
    header = (headers or {}).get(file, {}).get(key)
    return f"{file}: {label} ({header})" if header else f"{file}: {label}"


def headers_by_key(columns: list[dict] | list) -> dict[str, dict[str, str]]:
    """file -> {key: header}, from the preview's columns (dicts) or a summary's
    ``FileColumns``."""
    out: dict[str, dict[str, str]] = {}
    for report in columns:
        file = report["file"] if isinstance(report, dict) else report.file
        mapped = report["mapped"] if isinstance(report, dict) else report.mapped
        keys = out.setdefault(file, {})
        for header, key in mapped.items():
            keys.setdefault(key, header)
    return out
