"""People: users with a sales role, teams, and quotas."""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from loudou.limits import MAX_AMOUNT


class Role(models.TextChoices):
    REP = "rep", _("Sales rep")
    MANAGER = "manager", _("Sales manager")
    ADMIN = "admin", _("Administrator")


class Team(models.Model):
    """A sales team: a manager and the reps who belong to it."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_teams",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A Loudou user. The role decides what they may see and do.

    - rep: their own deals;
    - manager: their own deals and every deal of the teams they manage;
    - admin: everything, plus configuration.
    """

    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.REP)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in Role]), name="people_user_role_valid"
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def is_rep(self) -> bool:
        return self.role == Role.REP

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def is_loudou_admin(self) -> bool:
        # Django superusers are admins whatever their role column says.
        return self.role == Role.ADMIN or self.is_superuser


class Quota(models.Model):
    """A sales target for one user or one team over a period [start, end)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="quotas",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="quotas",
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end (exclusive)"))
    amount = models.DecimalField(
        _("amount"),
        max_digits=16,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_AMOUNT)],
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")

    class Meta:
        ordering = ["period_start", "id"]
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(team__isnull=True))
                | (Q(user__isnull=True) & Q(team__isnull=False)),
                name="people_quota_one_target",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=models.F("period_start")),
                name="people_quota_period_order",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="people_quota_amount_gte_0"),
            models.CheckConstraint(
                condition=Q(amount__lte=MAX_AMOUNT), name="people_quota_amount_lte_max"
            ),
            models.UniqueConstraint(
                fields=["user", "period_start", "period_end"],
                condition=Q(user__isnull=False),
                name="people_quota_unique_user_period",
            ),
            models.UniqueConstraint(
                fields=["team", "period_start", "period_end"],
                condition=Q(team__isnull=False),
                name="people_quota_unique_team_period",
            ),
        ]

    def __str__(self) -> str:
        who = self.user or self.team
        return f"{who} {self.period_start}–{self.period_end}: {self.amount} {self.currency}"

    def clean(self) -> None:
        if (self.user_id is None) == (self.team_id is None):
            raise ValidationError(_("A quota belongs to exactly one user or one team."))
        if self.period_start and self.period_end and self.period_end <= self.period_start:
            raise ValidationError({"period_end": _("The period must end after it starts.")})
        if self.amount is not None and self.amount < Decimal(0):
            raise ValidationError({"amount": _("A quota cannot be negative.")})
