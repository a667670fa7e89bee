from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "sebenzai.common"
    label = "common"
