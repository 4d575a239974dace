from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConfigureConfig(AppConfig):
    """The settings pages: configuration in the app, for admins (managers: their team's
    quotas). The Django admin stays, for superusers only."""

    name = "loudou.configure"
    verbose_name = _("Settings")

    def ready(self) -> None:
        from django.contrib import admin
        from django.http import HttpRequest

        def superusers_only(request: HttpRequest) -> bool:
            # Normal configuration happens on the settings pages; the Django admin (raw
            # tables, internal keys) is a superuser's tool.
            return request.user.is_active and request.user.is_superuser

        admin.site.has_permission = superusers_only
