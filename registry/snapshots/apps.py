from django.apps import AppConfig


class SnapshotsConfig(AppConfig):
    name = "registry.snapshots"
    label = "snapshots"
    verbose_name = "Registry snapshots for offline filtering"

    def ready(self) -> None:
        # The change log is fed by signals: see registry/snapshots/signals.py for why.
        from registry.snapshots import signals

        signals.connect()
