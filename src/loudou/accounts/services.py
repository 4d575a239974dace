"""Accounts (companies) and their contacts: a directory every active user shares."""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from loudou.core.errors import InvalidInput, NotAllowed, from_validation_error

from .models import Account, Contact

ACCOUNT_FIELDS = ("name", "industry", "website")
CONTACT_FIELDS = ("name", "title", "phone", "email", "wechat", "is_decision_maker")


def _require_active(actor: Any) -> None:
    if not getattr(actor, "is_active", False):
        raise NotAllowed()


def _save(obj: Account | Contact) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise from_validation_error(exc, type(obj)) from exc
    obj.save()


def _apply(obj: Account | Contact, fields: tuple[str, ...], values: Mapping[str, Any]) -> None:
    unknown = set(values) - set(fields)
    if unknown:
        raise InvalidInput({k: _("This field cannot be changed here.") for k in sorted(unknown)})
    for key, value in values.items():
        setattr(obj, key, value.strip() if isinstance(value, str) else value)


@transaction.atomic
def save_account(*, actor: Any, account: Account | None = None, **values: Any) -> Account:
    """Create an account (``account`` None) or change the fields given. Names are unique
    regardless of case."""
    _require_active(actor)
    account = account or Account()
    _apply(account, ACCOUNT_FIELDS, values)
    clash = Account.objects.filter(name__iexact=account.name).exclude(pk=account.pk).exists()
    if clash:
        raise InvalidInput({"name": _("Another account has this name.")})
    _save(account)
    return account


@transaction.atomic
def save_contact(
    *, actor: Any, contact: Contact | None = None, account: Account | None = None, **values: Any
) -> Contact:
    """Create a contact of ``account`` (``contact`` None) or change the fields given."""
    _require_active(actor)
    if contact is None:
        if account is None:
            raise InvalidInput({"account": _("A contact belongs to an account.")})
        contact = Contact(account=account)
    _apply(contact, CONTACT_FIELDS, values)
    _save(contact)
    return contact
