from django.apps import AppConfig


class SpreadsheetsConfig(AppConfig):
    name = "loudou.spreadsheets"
    label = "spreadsheets"
