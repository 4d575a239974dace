"""Accounts (companies, 客户) and their contacts (联系人)."""

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class Account(models.Model):
    """A customer company. Names are unique regardless of case."""

    name = models.CharField(_("name"), max_length=200)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.UniqueConstraint(Lower("name"), name="accounts_account_unique_name_ci")
        ]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A person at an account."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=100, blank=True)
    is_decision_maker = models.BooleanField(_("decision maker"), default=False)

    class Meta:
        ordering = ["account_id", "name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return f"{self.name} ({self.account})"
