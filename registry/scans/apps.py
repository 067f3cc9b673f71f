from django.apps import AppConfig


class ScansConfig(AppConfig):
    name = "registry.scans"
    label = "scans"
    verbose_name = "Batch scans of generated output"
