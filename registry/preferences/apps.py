from django.apps import AppConfig


class PreferencesConfig(AppConfig):
    name = "registry.preferences"
    label = "preferences"
