from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "loudou.reports"
    label = "reports"
