from django.contrib import admin

from .models import ChatChannel, ChatMessage


@admin.register(ChatChannel)
class ChatChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "team", "platform", "lang", "kinds", "active")
    list_filter = ("platform", "team")


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    list_display = ("title", "channel", "kind", "status", "attempts", "last_error", "created_at")
    list_filter = ("status", "kind")
    readonly_fields = (
        "channel",
        "kind",
        "title",
        "text",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
    )

    def has_add_permission(self, request: object) -> bool:
        return False
