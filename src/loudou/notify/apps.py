from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "loudou.notify"
    label = "notify"
    verbose_name = _("Chat notifications")

    def ready(self) -> None:
        from loudou.core import events

        from .events import on_event

        events.subscribe(on_event)
