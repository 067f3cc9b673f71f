"""The demo seeder (and so `manage.py up`, which calls it)."""

from __future__ import annotations

import io

from allauth.account.models import EmailAddress
from django.core.management import call_command

from registry.works.models import Document, Work


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_creates_a_verified_demo_author_with_ready_works(db, settings, tmp_path, client):
    settings.VAR_DIR = tmp_path
    output = seed()
    password = (tmp_path / "demo_password").read_text().strip()
    assert f"Demo author: demo@example.org / password: {password}" in output
    assert EmailAddress.objects.get(email="demo@example.org").verified
    assert client.login(email="demo@example.org", password=password)
    works = Work.objects.filter(owner__email="demo@example.org")
    assert sorted(works.values_list("source", flat=True)) == ["archive", "file", "text"]
    assert not Document.objects.exclude(state="ready").exists()
    archive = works.get(source="archive")
    assert archive.documents.count() == 4  # three stdlib modules and a README


def test_seed_demo_is_idempotent(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    seed()
    counts = (Work.objects.count(), Document.objects.count())
    assert "Demo works: 3 (0 new)" in seed()
    assert (Work.objects.count(), Document.objects.count()) == counts
