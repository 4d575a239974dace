"""The contacts of each deal (Salesforce's OpportunityContactRole: OpportunityId,
ContactId, Role, IsPrimary): the primary contact becomes the deal's primary contact, a
decision-maker role marks the contact as a decision maker; the rest of what Loudou keeps of
a deal's contacts are its account's contacts, which the deal page shows.

Rows that cannot be kept are listed in the preview, never dropped in silence: their
opportunity or contact is not in the export, the contact belongs to another account
than the opportunity's (a deal's primary contact is one of its account's), or a second
primary contact of one opportunity. They do not stop the migration."""

from dataclasses import dataclass, field

from loudou.accounts.models import Contact
from loudou.deals.bulk import DealLoad

from ..lookups import Lookups
from ..results import RowError, error
from .source import Source

# Salesforce's picklist values that name the one who decides (its "Decision Maker" and,
# in newer orgs, "Economic Decision Maker").
DECISION_ROLES = {"decision maker", "economic decision maker"}


@dataclass
class RolePlan:
    """What the contact roles of an export become (computed from the files alone, so a
    dry run shows it): ``primaries`` (row, deal external id, contact key), the keys of
    contacts with a decision-maker role, and the rows left out with why."""

    rows: int = 0
    deleted: int = 0
    primaries: list[tuple[int, str, str]] = field(default_factory=list)
    decision_makers: set[str] = field(default_factory=set)
    problems: list[RowError] = field(default_factory=list)


def _key(text: str | None) -> str:
    return (text or "").strip().lower()


def plan_roles(source: Source) -> RolePlan:
    """Check every contact role row against the export's deals and contacts."""
    roles = source.contact_roles
    plan = RolePlan(deleted=source.contact_roles_deleted)
    if roles is None:
        return plan
    plan.rows = roles.height
    file = source.contact_roles_file
    deal_accounts = dict(source.deals.select("external_id", "account").iter_rows())
    contacts = {c["key"]: c for c in source.contacts if c.get("key")}
    primary_of: dict[str, str] = {}

    def left_out(row: int, header: str, value: str | None, zh: str, en: str) -> None:
        plan.problems.append(error(row, f"{file}: {header}", value, zh, en))

    for row, external, contact_key, role, primary in roles.select(
        "row", "external_id", "contact", "role", "primary"
    ).iter_rows():
        if external is None or external not in deal_accounts:
            left_out(
                row,
                "OpportunityId",
                external,
                "导出中没有这个商机（或已删除），这一行未导入",
                "the opportunity is not in the export (or is deleted): row left out",
            )
            continue
        contact = contacts.get(contact_key or "")
        if contact is None:
            left_out(
                row,
                "ContactId",
                contact_key,
                "导出的联系人文件中没有这个联系人（或没有客户、姓名），这一行未导入",
                "the contact is not in the export's contacts file (or has no account or "
                "name): row left out",
            )
            continue
        account = deal_accounts[external]
        if _key(contact["account"]) != _key(account):
            left_out(
                row,
                "ContactId",
                contact_key,
                f"联系人“{contact['name']}”属于客户“{contact['account']}”，不是该商机的客户"
                f"“{account or '—'}”：Loudou 中商机的联系人是其客户的联系人，这一行未导入",
                f"the contact “{contact['name']}” belongs to “{contact['account']}”, not to "
                f"the opportunity's account “{account or '—'}”: a deal's contacts are its "
                "account's in Loudou, row left out",
            )
            continue
        if _key(role) in DECISION_ROLES:
            plan.decision_makers.add(contact_key)
        if not primary:
            continue
        if external in primary_of:
            left_out(
                row,
                "IsPrimary",
                contact_key,
                f"该商机已有主要联系人（{primary_of[external]}），这一行不再设为主要联系人",
                f"the opportunity has a primary contact already ({primary_of[external]}): "
                "this one is not made primary",
            )
            continue
        primary_of[external] = contact["name"]
        plan.primaries.append((row, external, contact_key))
    return plan


def link_primaries(load: DealLoad, ctx: Lookups, source: Source, plan: RolePlan) -> int:
    """After the deals and the contacts are written: each primary contact on its deal,
    through ``deals.bulk`` (the scope, the contact of the deal's account)."""
    if not plan.primaries:
        return 0
    by_key = {c["key"]: c for c in source.contacts if c.get("key")}
    wanted = [by_key[key] for _row, _external, key in plan.primaries]
    accounts = ctx.account_ids([c["account"] for c in wanted])
    ids: dict[tuple[int, str], int] = {}  # the oldest contact of that name at the account
    for pk, account_id, name in (
        Contact.objects.filter(account_id__in=set(accounts))
        .order_by("id")
        .values_list("id", "account_id", "name")
    ):
        ids.setdefault((account_id, name.lower()), pk)
    # ``contacts`` wrote every contact of the export (or found it there already).
    links = [
        (row, external, ids[(account_id, contact["name"][:100].lower())])
        for (row, external, _k), contact, account_id in zip(
            plan.primaries, wanted, accounts, strict=True
        )
    ]
    return load.set_contacts(links)
