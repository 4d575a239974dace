from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "loudou.people"
    label = "people"
