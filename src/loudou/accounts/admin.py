from django.contrib import admin

from .models import Account, Contact


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("name", "industry", "created_at")
    search_fields = ("name",)
    inlines = [ContactInline]
