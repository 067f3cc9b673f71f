from django.apps import AppConfig


class FilteringConfig(AppConfig):
    name = "registry.filtering"
    label = "filtering"
    verbose_name = "Filter and lookup API"
