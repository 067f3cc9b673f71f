"""The demo seeder (and so `manage.py up`, which calls it)."""

from __future__ import annotations

import io

import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command

from registry.apikeys.models import ApiKey, Membership
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


def test_seed_demo_creates_a_demo_builder_who_owns_an_organisation(db, settings, tmp_path, client):
    settings.VAR_DIR = tmp_path
    seed()
    seed()  # still one organisation after a second run
    password = (tmp_path / "demo_password").read_text().strip()
    assert client.login(email="builder@example.org", password=password)
    memberships = Membership.objects.filter(user__email="builder@example.org")
    assert [(m.organisation.name, m.role) for m in memberships] == [("Demo Data", "owner")]


def test_create_api_key_prints_a_working_filter_key_for_an_organisation(db, settings, tmp_path, client):
    settings.VAR_DIR = tmp_path
    seed()
    out = io.StringIO()
    call_command(
        "create_api_key", "--email", "builder@example.org", "--organisation", "Demo Data", stdout=out
    )
    key = out.getvalue().strip()
    assert key.startswith("rk_")
    assert not ApiKey.objects.filter(key_hash__contains=key).exists()
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    assert response.json()["scope"] == "filter"


def test_create_api_key_names_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user with the email 'nobody@example.org'"):
        call_command("create_api_key", "--email", "nobody@example.org")
