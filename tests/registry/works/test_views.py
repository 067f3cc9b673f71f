"""The author pages: ownership, editing, deleting, CSRF, the dashboard."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from registry.preferences.models import PreferenceStatement
from registry.works.models import Document, Work
from tests.registry.works.conftest import PROSE


@pytest.fixture
def alices_work(alice, register):
    register(title="The ledger", text=PROSE, preferences={"train-ai": "no"})
    return Work.objects.get(owner=alice)


@pytest.mark.parametrize("name", ["works:detail", "works:edit", "works:delete"])
def test_bob_cannot_see_alices_work_pages(client_bob, alices_work, name):
    response = client_bob.get(reverse(name, kwargs={"public_id": alices_work.public_id}))
    assert response.status_code == 404


def test_bob_cannot_edit_or_delete_alices_work(client_bob, alices_work):
    url = reverse("works:edit", kwargs={"public_id": alices_work.public_id})
    assert client_bob.post(url, {"title": "Mine now"}).status_code == 404
    assert (
        client_bob.post(reverse("works:delete", kwargs={"public_id": alices_work.public_id})).status_code
        == 404
    )
    data = {"pref_train_ai": "yes"}
    assert client_bob.post(reverse("preferences:work", args=[alices_work.public_id]), data).status_code == 404
    alices_work.refresh_from_db()
    assert alices_work.title == "The ledger"


def test_bob_does_not_see_alices_work_on_his_dashboard(client_bob, alices_work):
    assert "The ledger" not in client_bob.get(reverse("works:dashboard")).content.decode()


@pytest.mark.parametrize(
    "url",
    [
        reverse("works:dashboard"),
        reverse("works:register"),
        reverse("preferences:defaults"),
        "/works/abcdefghij/",
        "/works/abcdefghij/edit/",
        "/works/abcdefghij/delete/",
    ],
)
def test_anonymous_visitors_are_sent_to_the_login_page(client, db, url):
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("account_login"))


def test_the_dashboard_shows_each_work_with_its_state_and_preferences(client_alice, alices_work):
    page = client_alice.get(reverse("works:dashboard")).content.decode()
    assert "The ledger" in page
    assert 'class="badge ready"' in page
    assert "train-ai: no" in page and "train-genai: no" in page


def test_the_dashboard_shows_a_failed_work_with_the_reason_on_its_page(client_alice, alice):
    work = Work.objects.create(owner=alice, title="Broken", kind="prose", source="text")
    Document.objects.create(
        work=work, path="x.txt", state="failed", error="The engine could not fingerprint it"
    )
    assert 'class="badge failed"' in client_alice.get(reverse("works:dashboard")).content.decode()
    page = client_alice.get(work.get_absolute_url()).content.decode()
    assert "x.txt: The engine could not fingerprint it" in page


def test_the_owner_sees_the_text_and_history_on_the_work_page(client_alice, alices_work):
    page = client_alice.get(alices_work.get_absolute_url()).content.decode()
    assert "The lighthouse keeper wrote every evening" in page
    assert "at registration" in page


def test_alice_edits_the_metadata(client_alice, alices_work):
    url = reverse("works:edit", kwargs={"public_id": alices_work.public_id})
    response = client_alice.post(
        url,
        {"title": "The green ledger", "licence": "mit", "attribution": "By A.", "locations": "example.org"},
    )
    assert response.status_code == 302
    alices_work.refresh_from_db()
    assert (alices_work.title, alices_work.licence) == ("The green ledger", "MIT")
    assert list(alices_work.locations.values_list("normalised", flat=True)) == ["example.org"]


def test_an_edit_with_a_bad_licence_shows_the_error_and_changes_nothing(client_alice, alices_work):
    url = reverse("works:edit", kwargs={"public_id": alices_work.public_id})
    response = client_alice.post(url, {"title": "X", "licence": "NotALicence"})
    assert response.status_code == 200
    assert "Unknown SPDX licence identifier: NotALicence." in response.context["form"].errors["licence"][0]
    alices_work.refresh_from_db()
    assert alices_work.title == "The ledger"


def test_alice_deletes_her_work_with_its_documents_and_history(client_alice, alices_work):
    response = client_alice.post(reverse("works:delete", kwargs={"public_id": alices_work.public_id}))
    assert response.status_code == 302
    assert not Work.objects.exists() and not Document.objects.exists()
    assert not PreferenceStatement.objects.filter(work__isnull=False).exists()


def test_every_form_needs_the_csrf_token(alice, alices_work):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    posts = [
        (reverse("works:register"), {"title": "x", "text": PROSE, "kind": "prose", "storage": "text"}),
        (reverse("works:edit", args=[alices_work.public_id]), {"title": "x"}),
        (reverse("works:delete", args=[alices_work.public_id]), {}),
        (reverse("preferences:work", args=[alices_work.public_id]), {}),
        (reverse("preferences:defaults"), {}),
        (reverse("works:lookup"), {"text": PROSE}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert Work.objects.count() == 1
