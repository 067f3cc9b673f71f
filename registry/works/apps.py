from django.apps import AppConfig


class WorksConfig(AppConfig):
    name = "registry.works"
    label = "works"
