from django.apps import AppConfig


class DealsConfig(AppConfig):
    name = "loudou.deals"
    label = "deals"
