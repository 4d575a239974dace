"""Where messages go (team channels in chat groups, webhook subscriptions), and every
delivery with each attempt, for admins to see."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from loudou.core.events import EVENTS
from loudou.people.models import Team


class ChannelKind(models.TextChoices):
    WECOM = "wecom", _("WeCom group robot (企业微信)")
    DINGTALK = "dingtalk", _("DingTalk custom robot (钉钉)")
    FEISHU = "feishu", _("Feishu custom bot (飞书)")
    WEBHOOK = "webhook", _("Generic webhook (JSON)")


class Language(models.TextChoices):
    ZH = "zh-hans", _("Simplified Chinese")
    EN = "en", _("English")


class MessageKind(models.TextChoices):
    DIGEST = "digest", _("Daily digest")
    WEEKLY = "weekly", _("Weekly diagnosis")
    APPROVAL = "approval", _("Approval requests")
    WON = "won", _("Won deals")
    TEST = "test", _("Test message")
    EVENT = "event", _("Webhook event")


class Channel(models.Model):
    """A team's chat group robot (or generic webhook) and what it receives.

    ``address`` is what the platform gives when the robot is added: the WeCom webhook key,
    the DingTalk access token, the Feishu hook token, or the generic webhook's URL (a full
    URL is accepted for the three platforms too). ``secret`` signs: DingTalk's 加签
    secret (SEC…), Feishu's signature secret, the generic webhook's HMAC key. Neither is
    ever shown back in full."""

    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="channels"
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("platform"), max_length=10, choices=ChannelKind.choices)
    address = models.CharField(_("webhook key, token or URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=200, blank=True)
    language = models.CharField(
        _("language"), max_length=7, choices=Language.choices, default=Language.ZH
    )
    quiet_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    send_digest = models.BooleanField(_("daily digest"), default=True)
    send_weekly = models.BooleanField(_("weekly diagnosis"), default=True)
    send_approvals = models.BooleanField(_("approval requests"), default=True)
    send_won = models.BooleanField(_("won deals"), default=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["team__name", "name", "id"]
        verbose_name = _("notification channel")
        verbose_name_plural = _("notification channels")

    def __str__(self) -> str:
        return f"{self.team} · {self.name}"

    def wants(self, kind: str) -> bool:
        """Does this channel receive messages of ``kind`` (a MessageKind)?"""
        return kind == MessageKind.TEST or bool(
            getattr(
                self,
                {
                    "digest": "send_digest",
                    "weekly": "send_weekly",
                    "approval": "send_approvals",
                    "won": "send_won",
                }.get(kind, ""),
                False,
            )
        )


class Subscription(models.Model):
    """An admin's webhook: ``url`` receives the chosen events as signed JSON."""

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    secret = models.CharField(_("signing secret"), max_length=200)
    events = models.JSONField(_("events"), default=list)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return self.description or self.url

    def wants(self, event: str) -> bool:
        return event in EVENTS and event in (self.events or [])


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    HELD = "held", _("Held for quiet hours")
    RETRYING = "retrying", _("Retrying")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Delivery(models.Model):
    """One message to one channel or subscription: what is sent (``payload``, signed at
    each attempt, since signatures carry the time) and how it went."""

    channel = models.ForeignKey(
        Channel,
        verbose_name=_("channel"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("webhook subscription"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    kind = models.CharField(_("message"), max_length=10, choices=MessageKind.choices)
    event = models.CharField(_("event"), max_length=40, blank=True)
    title = models.CharField(_("subject"), max_length=200, blank=True)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(
        _("attempts"), default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(channel__isnull=False) | models.Q(subscription__isnull=False),
                name="notifications_delivery_has_target",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.channel or self.subscription}"


class Attempt(models.Model):
    """One try at sending a delivery: when, the answer, how long it took."""

    delivery = models.ForeignKey(
        Delivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="log"
    )
    number = models.PositiveSmallIntegerField(_("attempt"))
    at = models.DateTimeField(_("at"))
    ok = models.BooleanField(_("succeeded"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self) -> str:
        return f"#{self.number} {'ok' if self.ok else 'failed'}"


class ApprovalNotice(models.Model):
    """An approval request already announced for a deal's stay in a stage (one per stay,
    however many times the deal changes while it waits)."""

    deal = models.ForeignKey("deals.Deal", on_delete=models.CASCADE, related_name="+")
    stage = models.ForeignKey("pipelines.Stage", on_delete=models.CASCADE, related_name="+")
    entered_at = models.DateTimeField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["deal", "stage", "entered_at"], name="notifications_approval_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.deal_id} / {self.stage_id} @ {self.entered_at}"
