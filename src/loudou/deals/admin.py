"""Deals are changed only through services; the admin shows them read-only."""

from django.contrib import admin
from django.http import HttpRequest

from .models import Deal, LostReason, StageEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class StageEventInline(admin.TabularInline):
    model = StageEvent
    extra = 0
    can_delete = False
    fields = ("at", "from_stage", "to_stage", "by", "override_reason")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Deal)
class DealAdmin(ReadOnlyAdmin):
    list_display = ("name", "owner", "team", "stage", "status", "amount", "created_at")
    list_filter = ("pipeline", "status", "team")
    search_fields = ("name", "external_id")
    list_select_related = ("owner", "team", "stage")
    inlines = [StageEventInline]


@admin.register(StageEvent)
class StageEventAdmin(ReadOnlyAdmin):
    list_display = ("deal", "from_stage", "to_stage", "at", "by", "override_reason")
    list_select_related = ("deal", "from_stage", "to_stage", "by")
    list_filter = ("to_stage__pipeline",)


@admin.register(LostReason)
class LostReasonAdmin(admin.ModelAdmin):
    list_display = ("key", "name_zh", "name_en", "active")
