from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "loudou.core"
    label = "core"
