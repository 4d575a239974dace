from django.apps import AppConfig


class PipelinesConfig(AppConfig):
    name = "loudou.pipelines"
    label = "pipelines"
