"""The default pipeline of METRICS.md, its exit criteria and custom fields.

Used by the data migration and by tests; kept as plain data so both stay in step."""

from decimal import Decimal

DEFAULT_PIPELINE = {"key": "default", "name_zh": "销售流程", "name_en": "Sales pipeline"}

# key, kind, position, zh, en, probability, forecast category
DEFAULT_STAGES = [
    ("contact", "open", 10, "初步接洽", "Initial contact", Decimal("0.10"), "pipeline"),
    ("needs", "open", 20, "确认需求", "Needs confirmed", Decimal("0.25"), "pipeline"),
    ("proposal", "open", 30, "方案报价", "Proposal & quote", Decimal("0.50"), "best_case"),
    ("negotiation", "open", 40, "合同谈判", "Contract negotiation", Decimal("0.75"), "commit"),
    ("won", "won", 1000, "签约成单", "Won (signed)", Decimal("1"), "closed"),
    ("lost", "lost", 1001, "输单", "Lost", Decimal("0"), "omitted"),
]

DEFAULT_CUSTOM_FIELDS = [
    ("budget", "预算", "Budget", "number"),
    ("decision_maker", "决策人", "Decision maker", "text"),
]

# stage key -> criteria (fields of ExitCriterion)
DEFAULT_CRITERIA = {
    "contact": [{"kind": "activity", "min_count": 1}],
    "needs": [
        {"kind": "field", "field_name": "custom.budget", "field_check": "filled"},
        {"kind": "field", "field_name": "custom.decision_maker", "field_check": "filled"},
    ],
    "proposal": [
        {"kind": "attachment", "attachment_kind": "quote"},
        {
            "kind": "field",
            "field_name": "amount",
            "field_check": "at_least",
            "min_value": Decimal("0.01"),
            "description_zh": "必须填写大于 0 的金额。",
            "description_en": "The amount must be filled in and more than zero.",
        },
    ],
    "negotiation": [{"kind": "approval"}],
}

DEFAULT_LOST_REASONS = [
    ("price", "价格", "Price"),
    ("competitor", "选择了竞争对手", "Chose a competitor"),
    ("no_budget", "没有预算", "No budget"),
    ("no_decision", "项目搁置 / 无决策", "No decision / shelved"),
    ("requirements", "需求不匹配", "Requirements not met"),
    ("timing", "时机不对", "Bad timing"),
    ("other", "其他", "Other"),
]
