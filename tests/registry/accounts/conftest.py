"""Account mail names the site from the accounts migration (0002_name_the_site).

A transactional test elsewhere in the run (the browser and worker tests) flushes every table when
it ends, and the flush puts back Django's default "example.com" site, or none at all: the row that
migration wrote is gone for the tests that run after it. Each account test starts from the row the
migration writes, whatever ran before.
"""

import pytest
from django.conf import settings
from django.contrib.sites.models import Site


@pytest.fixture(autouse=True)
def named_site(db):
    from importlib import import_module
    from urllib.parse import urlsplit

    migration = import_module("registry.accounts.migrations.0002_name_the_site")
    domain = urlsplit(settings.SITE_URL).netloc or "127.0.0.1:8000"
    Site.objects.update_or_create(
        id=settings.SITE_ID, defaults={"domain": domain, "name": migration.SITE_NAME}
    )
    Site.objects.clear_cache()
