"""Admin: channels, webhook subscriptions, and every delivery with its attempts (read
only). Keys and secrets are written here but never shown back in full."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from loudou.core.events import EVENTS
from loudou.jobs.queue import enqueue_on_commit

from . import platforms
from .models import Attempt, Channel, Delivery, DeliveryStatus, Subscription


def _secret_field(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=500,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Never shown back. Leave blank to keep the stored value."),
    )


class KeepSecretsForm(forms.ModelForm):
    """Blank secret fields keep what is stored."""

    secret_fields: tuple[str, ...] = ()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in self.secret_fields:
            if not data.get(name) and self.instance.pk:
                data[name] = getattr(self.instance, name)
        return data


class ChannelForm(KeepSecretsForm):
    secret_fields = ("address", "secret")
    address = _secret_field(_("webhook key, token or URL"))
    secret = _secret_field(_("signing secret"))

    class Meta:
        model = Channel
        fields = [
            "team",
            "name",
            "kind",
            "address",
            "secret",
            "language",
            "quiet_start",
            "quiet_end",
            "send_digest",
            "send_weekly",
            "send_approvals",
            "send_won",
            "active",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind, address = data.get("kind"), data.get("address") or ""
        if not address:
            self.add_error("address", _("Give the robot's webhook key, token or URL."))
        elif kind and not platforms.valid_address(kind, address):
            self.add_error("address", _("Not a key, token or URL of this platform."))
        if kind == "webhook" and not data.get("secret"):
            self.add_error("secret", _("A webhook needs a secret to sign its messages."))
        return data


class SubscriptionForm(KeepSecretsForm):
    secret_fields = ("secret",)
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    secret = _secret_field(_("signing secret"))
    events = forms.MultipleChoiceField(
        label=_("events"), choices=[(e, e) for e in EVENTS], widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Subscription
        fields = ["url", "description", "secret", "events", "active"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("secret"):
            self.add_error("secret", _("A webhook needs a secret to sign its messages."))
        return data


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelForm
    list_display = ("name", "team", "kind", "masked_address", "language", "active")
    list_filter = ("kind", "team", "active")

    @admin.display(description=_("address"))
    def masked_address(self, channel: Channel) -> str:
        return platforms.mask(channel.address)


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ("url", "description", "event_list", "active")

    @admin.display(description=_("events"))
    def event_list(self, subscription: Subscription) -> str:
        return ", ".join(subscription.events or [])


class AttemptInline(admin.TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    readonly_fields = ("number", "at", "ok", "status_code", "duration_ms", "error")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "kind",
        "title",
        "event",
        "channel",
        "subscription",
        "status",
        "attempts",
        "last_error",
    )
    list_filter = ("status", "kind", "event")
    readonly_fields = [f.name for f in Delivery._meta.fields]
    inlines = [AttemptInline]
    actions = ["retry_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Try the failed ones again now"))
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        from .tasks import deliver

        count = 0
        # Failed ones only: a waiting or retrying delivery already has its task queued,
        # and a second one would send it twice.
        for delivery in queryset.filter(status=DeliveryStatus.FAILED):
            Delivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=None
            )
            enqueue_on_commit(deliver, delivery.pk)
            count += 1
        messages.success(request, _("%(count)s deliveries queued again.") % {"count": count})
