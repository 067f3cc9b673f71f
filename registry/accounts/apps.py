from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _name_the_site(sender, using, apps=None, **kwargs):
    """After every migrate and every flush, the site is named as migration 0002 names it.

    `flush` (run by `manage.py flush` and after each transactional test) empties the sites table
    and emits post_migrate, on which Django puts back its default "example.com" site, or none
    when the table was emptied after migrating; account mail would then say "example.com".
    """
    from importlib import import_module

    from django.apps import apps as installed
    from django.db import connections

    apps = apps or installed  # flush sends no `apps`; migrate sends its migration state
    if not apps.is_installed("django.contrib.sites"):
        return
    migration = import_module("registry.accounts.migrations.0002_name_the_site")
    with connections[using].schema_editor() as schema_editor:
        migration.name_the_site(apps, schema_editor)


class AccountsConfig(AppConfig):
    name = "registry.accounts"
    label = "accounts"

    def ready(self) -> None:
        # after the sites app's own handler (it runs first: django.contrib.sites precedes us in
        # INSTALLED_APPS), so the default site it may create is renamed, not duplicated
        post_migrate.connect(_name_the_site, sender=self, dispatch_uid="registry.accounts.name_the_site")
