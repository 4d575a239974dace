from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "loudou.activities"
    label = "activities"
