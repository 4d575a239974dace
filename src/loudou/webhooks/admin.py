from django.contrib import admin

from .models import WebhookAttempt, WebhookDelivery, WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("url", "events", "active", "created_at")
    readonly_fields = ("secret", "created_by", "created_at")


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("number", "at", "status_code", "error", "duration_ms")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("event", "subscription", "status", "attempts", "created_at", "next_attempt_at")
    list_filter = ("status", "event")
    readonly_fields = (
        "subscription",
        "event",
        "event_id",
        "body",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
    )
    inlines = [AttemptInline]

    def has_add_permission(self, request: object) -> bool:
        return False
