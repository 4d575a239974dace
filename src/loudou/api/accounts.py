"""Accounts (companies) and contacts: a directory shared by every user."""

import datetime as dt
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from loudou.accounts import services
from loudou.accounts.models import Account, Contact

from .common import errors, get_or_404, keyset_page, lookup
from .deals import ContactBrief, contact_brief
from .inputs import Id, Name, text

router = Router(tags=["accounts"])


class AccountOut(Schema):
    id: int
    name: str
    industry: str
    website: str
    created_at: dt.datetime


class AccountDetailOut(AccountOut):
    contacts: list[ContactBrief]


class AccountPage(Schema):
    items: list[AccountOut]
    next_cursor: str | None


class AccountIn(Schema):
    name: Name
    industry: text(100) = ""
    website: text(200) = ""


class AccountPatch(Schema):
    name: Name | None = None
    industry: text(100) | None = None
    website: text(200) | None = None


class ContactOut(ContactBrief):
    account_id: int


class ContactIn(Schema):
    account_id: Id
    name: text(100)
    title: text(100) = ""
    phone: text(50) = ""
    email: text(254) | None = None
    wechat: text(100) = ""
    is_decision_maker: bool = False


class ContactPatch(Schema):
    name: text(100) | None = None
    title: text(100) | None = None
    phone: text(50) | None = None
    email: text(254) | None = None
    wechat: text(100) | None = None
    is_decision_maker: bool | None = None


class AccountFilters(Schema):
    q: text(200) | None = Field(None, description="text in the name")
    cursor: text(400) | None = None
    limit: int = Field(50, ge=1, le=200)


def account_out(a: Account) -> dict[str, Any]:
    return {
        "id": a.pk,
        "name": a.name,
        "industry": a.industry,
        "website": a.website,
        "created_at": a.created_at,
    }


def contact_out(c: Contact) -> dict[str, Any]:
    return {**contact_brief(c), "account_id": c.account_id}


@router.get("/accounts", response={200: AccountPage, **errors()})
def list_accounts(request: HttpRequest, filters: Query[AccountFilters]) -> Any:
    """Accounts by name, a page at a time."""
    accounts = Account.objects.all()
    if filters.q:
        accounts = accounts.filter(Q(name__icontains=filters.q))
    rows, cursor = keyset_page(
        accounts,
        field="name",
        descending=False,
        cursor=filters.cursor,
        limit=filters.limit,
        parse_key=str,
    )
    return {"items": [account_out(a) for a in rows], "next_cursor": cursor}


@router.post("/accounts", response={201: AccountOut, **errors(403)})
def create_account(request: HttpRequest, payload: AccountIn) -> Any:
    account = services.save_account(actor=request.user, **payload.model_dump())
    return Status(201, account_out(account))


@router.get("/accounts/{account_id}", response={200: AccountDetailOut, **errors(404)})
def get_account(request: HttpRequest, account_id: Id) -> Any:
    account = get_or_404(Account.objects, pk=account_id)
    return {**account_out(account), "contacts": [contact_brief(c) for c in account.contacts.all()]}


@router.patch("/accounts/{account_id}", response={200: AccountOut, **errors(403, 404)})
def update_account(request: HttpRequest, account_id: Id, payload: AccountPatch) -> Any:
    account = get_or_404(Account.objects, pk=account_id)
    changes = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    return account_out(services.save_account(actor=request.user, account=account, **changes))


@router.post("/contacts", response={201: ContactOut, **errors(403)})
def create_contact(request: HttpRequest, payload: ContactIn) -> Any:
    data = payload.model_dump()
    account = lookup(Account, "account_id", "account", pk=data.pop("account_id"))
    data["email"] = data["email"] or ""
    contact = services.save_contact(actor=request.user, account=account, **data)
    return Status(201, contact_out(contact))


@router.get("/contacts/{contact_id}", response={200: ContactOut, **errors(404)})
def get_contact(request: HttpRequest, contact_id: Id) -> Any:
    return contact_out(get_or_404(Contact.objects, pk=contact_id))


@router.patch("/contacts/{contact_id}", response={200: ContactOut, **errors(403, 404)})
def update_contact(request: HttpRequest, contact_id: Id, payload: ContactPatch) -> Any:
    contact = get_or_404(Contact.objects, pk=contact_id)
    changes = payload.model_dump(exclude_unset=True)
    changes = {k: v for k, v in changes.items() if v is not None or k == "email"}
    if "email" in changes:
        changes["email"] = changes["email"] or ""
    return contact_out(services.save_contact(actor=request.user, contact=contact, **changes))
