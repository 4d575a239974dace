"""Web imports as jobs: the uploaded file, its check and its import, run in the background."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class JobState(models.TextChoices):
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked")
    IMPORTING = "importing", _("Importing")
    IMPORTED = "imported", _("Imported")
    FAILED = "failed", _("Failed")


def new_token() -> str:
    return secrets.token_hex(12)


class ImportJob(models.Model):
    """One upload on the import page: checked (a dry run, no write lock) and, once the user
    confirms, imported, each by a background task. Only its user sees it. The file, its
    errors file and its progress file are removed after ``LOUDOU_IMPORT_KEEP_HOURS``."""

    token = models.CharField(_("token"), max_length=24, unique=True, default=new_token)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE
    )
    name = models.CharField(_("file name"), max_length=200)
    path = models.CharField(_("stored file"), max_length=500)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    pipeline = models.ForeignKey(
        "pipelines.Pipeline",
        verbose_name=_("pipeline"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    create_owners = models.BooleanField(_("create owners"), default=False)
    # A migration from another CRM (spreadsheets.vendors): the vendor, and the choices
    # made on the preview (stage mapping or mirror, fix dates, ignored columns).
    vendor = models.CharField(_("source CRM"), max_length=20, blank=True, default="")
    options = models.JSONField(_("migration options"), default=dict, blank=True)
    # The uploader's language: the errors file is written in it.
    lang = models.CharField(_("language"), max_length=10, default="zh-hans")
    state = models.CharField(
        _("state"), max_length=10, choices=JobState.choices, default=JobState.CHECKING
    )
    # What the check found: detected columns, first rows, counts, the first errors.
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    # A problem with the file as a whole, in both languages: {"zh": …, "en": …}.
    problem = models.JSONField(_("problem"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["checking", "checked", "importing", "imported", "failed"]),
                name="spreadsheets_importjob_state_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.state})"

    @property
    def running(self) -> bool:
        return self.state in (JobState.CHECKING, JobState.IMPORTING)

    @property
    def can_confirm(self) -> bool:
        return self.state == JobState.CHECKED and not self.error_count and not self.problem
