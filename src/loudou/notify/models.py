"""Chat channels of teams (企业微信, 钉钉, 飞书 group robots, or a generic webhook) and the
log of every message sent to them."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Platform(models.TextChoices):
    WECOM = "wecom", _("WeCom group robot (企业微信)")
    DINGTALK = "dingtalk", _("DingTalk custom robot (钉钉)")
    FEISHU = "feishu", _("Feishu custom bot (飞书)")
    WEBHOOK = "webhook", _("Generic webhook")


class MessageKind(models.TextChoices):
    DIGEST = "digest", _("Daily digest")
    WEEKLY = "weekly", _("Weekly diagnosis")
    APPROVALS = "approvals", _("Approval requests")
    WON = "won", _("Won deals")


class ChatChannel(models.Model):
    """Where a team's messages go. ``url`` is the robot's webhook address as the platform
    shows it (with its key or access token); ``secret`` the signing secret (钉钉 加签,
    飞书 签名校验, generic webhook). Messages in ``lang``; none during quiet hours (they
    wait for the end)."""

    team = models.ForeignKey(
        "people.Team", verbose_name=_("team"), on_delete=models.CASCADE, related_name="channels"
    )
    name = models.CharField(_("name"), max_length=100)
    platform = models.CharField(_("platform"), max_length=10, choices=Platform.choices)
    url = models.URLField(_("webhook URL"), max_length=500)
    secret = models.CharField(_("signing secret"), max_length=200, blank=True)
    lang = models.CharField(
        _("language"),
        max_length=7,
        choices=[("zh-hans", "简体中文"), ("en", "English")],
        default="zh-hans",
    )
    kinds = models.JSONField(_("messages"), default=list)
    quiet_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["team_id", "id"]
        verbose_name = _("chat channel")
        verbose_name_plural = _("chat channels")

    def __str__(self) -> str:
        return f"{self.team} · {self.name}"


class SendStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class ChatMessage(models.Model):
    """One message to one channel: its text, and how sending it went (retried with
    backoff; the last error is kept for administrators and managers)."""

    channel = models.ForeignKey(
        ChatChannel, verbose_name=_("channel"), on_delete=models.CASCADE, related_name="messages"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=MessageKind.choices)
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"))
    status = models.CharField(
        _("status"), max_length=10, choices=SendStatus.choices, default=SendStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")

    def __str__(self) -> str:
        return f"{self.kind} → {self.channel} ({self.status})"
