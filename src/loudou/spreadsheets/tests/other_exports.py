"""HubSpot, Pipedrive, Zoho and Chinese CRMs' exports for tests: generated deals
(``vendor_exports.generate``) written in each vendor's documented format, and the funnel
figures computed straight from those files."""

import csv
import datetime as dt
from pathlib import Path

from .vendor_exports import SF_OPEN, Figures, GenDeal, _write, figures

HS_OPEN = [
    ("Appointment Scheduled", 0.2),
    ("Qualified To Buy", 0.4),
    ("Presentation Scheduled", 0.6),
    ("Decision Maker Bought-In", 0.8),
    ("Contract Sent", 0.9),
]
ZOHO_OPEN = [
    ("Qualification", 10),
    ("Needs Analysis", 20),
    ("Value Proposition", 40),
    ("Proposal/Price Quote", 75),
    ("Negotiation/Review", 90),
]
CN_OPEN = [("初步接洽", 10), ("需求确认", 30), ("方案报价", 50), ("谈判审核", 70), ("合同签署", 90)]
SHANGHAI = dt.timezone(dt.timedelta(hours=8))  # the tests' organisation zone


def local(at: dt.datetime, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return at.astimezone(SHANGHAI).strftime(fmt)


def parse_local(text: str, fmt: str = "%Y-%m-%d %H:%M:%S") -> dt.datetime:
    return dt.datetime.strptime(text, fmt).replace(tzinfo=SHANGHAI)


def _minutes(at: dt.datetime) -> dt.datetime:
    return at.replace(second=0, microsecond=0)


def write_hubspot(deals: list[GenDeal], folder: Path) -> Path:
    """A deals export (forward-only histories: HubSpot keeps each stage's latest entry),
    a companies export and a contacts export, named as HubSpot names them."""
    folder.mkdir(parents=True, exist_ok=True)
    labels = [label for label, _p in HS_OPEN] + ["Closed Won", "Closed Lost"]
    entered = [f'Date entered "{label} (Sales Pipeline)"' for label in labels]
    exited = [f'Date exited "{label} (Sales Pipeline)"' for label in labels[:2]]
    rows = []
    for d in deals:
        stays = [(HS_OPEN[s][0], _minutes(at)) for s, at in d.stays]
        cells = dict.fromkeys(entered + exited, "")
        for label, at in stays:
            cells[f'Date entered "{label} (Sales Pipeline)"'] = local(at, "%Y-%m-%d %H:%M")
        close = _minutes(d.close) if d.close else None
        if d.outcome:
            label = "Closed Won" if d.outcome == "won" else "Closed Lost"
            cells[f'Date entered "{label} (Sales Pipeline)"'] = local(close, "%Y-%m-%d %H:%M")
            probability = 1.0 if d.outcome == "won" else 0.0
        else:
            label, probability = HS_OPEN[d.stays[-1][0]]
        rows.append(
            [
                d.id,
                d.name,
                label,
                "Sales Pipeline",
                d.amount,
                local(close, "%Y-%m-%d %H:%M") if close else d.expected.isoformat(),
                local(_minutes(d.created), "%Y-%m-%d %H:%M"),
                f"Rep {d.owner}",
                d.account,
                probability,
                "true" if d.outcome == "won" else "false",
                "true" if d.outcome else "false",
                *cells.values(),
            ]
        )
    header = [
        "Record ID",
        "Deal Name",
        "Deal Stage",
        "Pipeline",
        "Amount",
        "Close Date",
        "Create Date",
        "Deal owner",
        "Associated Company",
        "Deal probability",
        "Is closed won",
        "Is Deal Closed?",
        *entered,
        *exited,
    ]
    _write(folder / "hubspot-crm-exports-all-deals-2024-12-31.csv", header, rows)
    accounts = sorted({d.account for d in deals})
    _write(
        folder / "hubspot-crm-exports-all-companies-2024-12-31.csv",
        ["Record ID", "Company name", "Company Domain Name", "Create Date"],
        [[str(i), a, f"a{i}.example", "2023-01-01 00:00"] for i, a in enumerate(accounts)],
    )
    _write(
        folder / "hubspot-crm-exports-all-contacts-2024-12-31.csv",
        ["Record ID", "First Name", "Last Name", "Email", "Associated Company"],
        [["1", "Ann", "Chen", "ann@example.com", accounts[0]]],
    )
    return folder


def hubspot_figures(folder: Path) -> Figures:
    """From the deals export: creation at Create Date in the first stage entered, each
    stage at its Date entered, the close at its Closed Won/Lost date."""
    [path] = folder.glob("*-deals-*.csv")
    order = [label for label, _p in HS_OPEN]
    journeys = []
    with open(path, encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            created = parse_local(r["Create Date"], "%Y-%m-%d %H:%M")
            steps = []
            for label in [*order, "Closed Won", "Closed Lost"]:
                text = r[f'Date entered "{label} (Sales Pipeline)"']
                if text:
                    steps.append((label, parse_local(text, "%Y-%m-%d %H:%M")))
            steps.sort(key=lambda s: s[1])
            steps[0] = (steps[0][0], created)
            outcome = None
            if r["Is Deal Closed?"] == "true":
                outcome = "won" if r["Is closed won"] == "true" else "lost"
            journeys.append((created, steps, outcome))
    return figures(journeys, order)


def write_pipedrive(deals: list[GenDeal], folder: Path) -> Path:
    """deals.csv ("Deal - " headers; no stage history in Pipedrive's export), plus
    organizations.csv and persons.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for d in deals:
        stage = SF_OPEN[d.stays[-1][0]][0]
        won = local(d.close) if d.outcome == "won" else ""
        lost = local(d.close) if d.outcome == "lost" else ""
        rows.append(
            [
                d.id,
                d.name,
                d.amount,
                "CNY",
                d.account,
                f"Rep {d.owner}",
                stage,
                "Pipeline",
                d.outcome or "open",
                local(d.created),
                d.expected.isoformat() if d.expected else "",
                won,
                lost,
                "Price" if d.outcome == "lost" else "",
            ]
        )
    header = [
        "Deal - ID",
        "Deal - Title",
        "Deal - Value",
        "Deal - Currency",
        "Deal - Organization",
        "Deal - Owner",
        "Deal - Stage",
        "Deal - Pipeline",
        "Deal - Status",
        "Deal - Deal created",
        "Deal - Expected close date",
        "Deal - Won time",
        "Deal - Lost time",
        "Deal - Lost reason",
    ]
    _write(folder / "deals.csv", header, rows)
    accounts = sorted({d.account for d in deals})
    _write(
        folder / "organizations.csv",
        ["Organization - ID", "Organization - Name"],
        [[str(i), a] for i, a in enumerate(accounts)],
    )
    _write(
        folder / "persons.csv",
        ["Person - ID", "Person - Name", "Person - Email", "Person - Organization"],
        [["1", "Ann Chen", "ann@example.com", accounts[0]]],
    )
    return folder


def pipedrive_figures(folder: Path) -> Figures:
    """Creation in the deal's stage at Deal created, then won or lost at its time."""
    order = [label for label, _o, _p in SF_OPEN]
    journeys = []
    with open(folder / "deals.csv", encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            created = parse_local(r["Deal - Deal created"])
            steps = [(r["Deal - Stage"], created)]
            outcome = None if r["Deal - Status"] == "open" else r["Deal - Status"]
            if outcome:
                steps.append((outcome, parse_local(r[f"Deal - {outcome.title()} time"])))
            journeys.append((created, steps, outcome))
    return figures(journeys, order)


def write_zoho(deals: list[GenDeal], folder: Path) -> Path:
    """Deals.csv and Stage_History.csv as Zoho CRM exports them."""
    folder.mkdir(parents=True, exist_ok=True)
    rows, history = [], []
    for d in deals:
        if d.outcome:
            stage = "Closed Won" if d.outcome == "won" else "Closed Lost"
            probability = 100 if d.outcome == "won" else 0
        else:
            stage, probability = ZOHO_OPEN[d.stays[-1][0]]
        rows.append(
            [
                d.id,
                f"Rep {d.owner}",
                d.name,
                d.amount,
                d.close.astimezone(SHANGHAI).date().isoformat() if d.close else d.expected,
                d.account,
                stage,
                probability,
                "Web Download",
                local(d.created),
                local(d.close or d.stays[-1][1]),
            ]
        )
        for s, at in d.stays:
            history.append([d.id, d.name, ZOHO_OPEN[s][0], local(at), f"Rep {d.owner}"])
        if d.outcome:
            history.append([d.id, d.name, stage, local(d.close), f"Rep {d.owner}"])
    _write(
        folder / "Deals_001.csv",
        [
            "Record Id",
            "Deal Owner",
            "Deal Name",
            "Amount",
            "Closing Date",
            "Account Name",
            "Stage",
            "Probability (%)",
            "Lead Source",
            "Created Time",
            "Modified Time",
        ],
        rows,
    )
    _write(
        folder / "Stage_History_001.csv",
        ["Deal Id", "Deal Name", "Stage", "Modified Time", "Modified By"],
        history,
    )
    return folder


def zoho_figures(folder: Path) -> Figures:
    return _history_figures(
        folder / "Deals_001.csv",
        folder / "Stage_History_001.csv",
        ("Record Id", "Created Time", "Stage"),
        ("Deal Id", "Stage", "Modified Time"),
        [label for label, _p in ZOHO_OPEN],
        {"Closed Won": "won", "Closed Lost": "lost"},
    )


def write_chinese(deals: list[GenDeal], folder: Path) -> Path:
    """An opportunity export with the common Chinese headers (GBK, as Excel on Chinese
    Windows saves it) and its stage-change record."""
    folder.mkdir(parents=True, exist_ok=True)
    rows, history = [], []
    for d in deals:
        if d.outcome:
            stage = "赢单" if d.outcome == "won" else "输单"
        else:
            stage = CN_OPEN[d.stays[-1][0]][0]
        probability = {"赢单": 100, "输单": 0}.get(stage) or CN_OPEN[d.stays[-1][0]][1]
        rows.append(
            [
                d.id,
                d.name,
                d.account,
                stage,
                d.amount,
                d.expected.isoformat() if d.expected else "",
                f"销售{d.owner}",
                local(d.created),
                f"{probability}%",
                local(d.close) if d.close else "",
            ]
        )
        for s, at in d.stays:
            history.append([d.id, CN_OPEN[s][0], local(at), f"销售{d.owner}"])
        if d.outcome:
            history.append([d.id, stage, local(d.close), f"销售{d.owner}"])
    header = [
        "商机编号",
        "商机名称",
        "客户名称",
        "销售阶段",
        "商机金额",
        "预计成交日期",
        "负责人",
        "创建时间",
        "赢率",
        "实际成交日期",
    ]
    for name, head, data in (
        ("商机.csv", header, rows),
        ("商机阶段变更记录.csv", ["商机编号", "阶段", "变更时间", "操作人"], history),
    ):
        with open(folder / name, "w", encoding="gb18030", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(head)
            writer.writerows(data)
    return folder


def chinese_figures(folder: Path) -> Figures:
    return _history_figures(
        folder / "商机.csv",
        folder / "商机阶段变更记录.csv",
        ("商机编号", "创建时间", "销售阶段"),
        ("商机编号", "阶段", "变更时间"),
        [label for label, _p in CN_OPEN],
        {"赢单": "won", "输单": "lost"},
        encoding="gb18030",
    )


def _history_figures(
    deals_path: Path,
    history_path: Path,
    deal_columns: tuple[str, str, str],
    history_columns: tuple[str, str, str],
    order: list[str],
    outcomes: dict[str, str],
    encoding: str = "utf-8",
) -> Figures:
    """Creation at the created time in the first stage of the history, then each change
    (a repeated stage is none), the outcome at its change."""
    key, created_column, stage_column = deal_columns
    h_key, h_stage, h_at = history_columns
    rows: dict[str, list[tuple[dt.datetime, str]]] = {}
    with open(history_path, encoding=encoding) as handle:
        for r in csv.DictReader(handle):
            rows.setdefault(r[h_key], []).append((parse_local(r[h_at]), r[h_stage]))
    journeys = []
    with open(deals_path, encoding=encoding) as handle:
        for r in csv.DictReader(handle):
            created = parse_local(r[created_column])
            steps: list[tuple[str, dt.datetime]] = []
            for at, label in sorted(rows[r[key]]):
                if not steps or steps[-1][0] != label:
                    steps.append((label, at))
            steps[0] = (steps[0][0], created)
            journeys.append((created, steps, outcomes.get(r[stage_column])))
    return figures(journeys, order)
