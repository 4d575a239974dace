from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "loudou.accounts"
    label = "accounts"
