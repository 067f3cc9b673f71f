from django.apps import AppConfig


class ApikeysConfig(AppConfig):
    name = "registry.apikeys"
    label = "apikeys"
    verbose_name = "API keys and organisations"

    def ready(self) -> None:
        # drf-spectacular finds its extensions by import: register the API-key security scheme.
        from registry.apikeys import schema  # noqa: F401
