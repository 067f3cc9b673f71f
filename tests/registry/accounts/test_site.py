"""The site that account mail names survives a flush (manage.py flush, transactional tests)."""

import pytest
from django.conf import settings
from django.contrib.sites.models import Site
from django.core.management import call_command


@pytest.mark.django_db(transaction=True)
def test_after_a_flush_the_site_is_still_the_registry_not_example_com():
    call_command("flush", interactive=False, verbosity=0)
    Site.objects.clear_cache()

    site = Site.objects.get(id=settings.SITE_ID)
    assert site.name == "Opt-out registry" and site.domain != "example.com"
