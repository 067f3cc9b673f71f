"""The defaults page and the per-work preference form."""

from __future__ import annotations

from django.urls import reverse

from registry.preferences.selectors import current_values, effective_preferences
from tests.factories import WorkFactory

ALL_UNSET = {
    "pref_train_ai": "unset",
    "pref_train_genai": "unset",
    "pref_ai_use": "unset",
    "pref_search": "unset",
}


def test_alice_sets_her_defaults_and_sees_the_history(client_alice, alice):
    data = {**ALL_UNSET, "pref_attribution": "yes", "pref_train_genai": "no"}
    response = client_alice.post(reverse("preferences:defaults"), data)
    assert response.status_code == 302
    assert current_values(owner=alice)["train-genai"] == "no"
    page = client_alice.get(reverse("preferences:defaults")).content.decode()
    assert "<code>train-genai</code>" in page and "No statements yet" not in page


def test_alice_revokes_a_work_statement_from_the_work_page(client_alice, alice):
    work = WorkFactory(owner=alice)
    url = reverse("preferences:work", args=[work.public_id])
    client_alice.post(url, {**ALL_UNSET, "pref_attribution": "unset", "pref_train_ai": "no"})
    assert effective_preferences(work)["train-genai"].value == "no"
    client_alice.post(url, {**ALL_UNSET, "pref_attribution": "unset"})
    assert effective_preferences(work)["train-ai"].value == "unset"
    page = client_alice.get(work.get_absolute_url()).content.decode()
    assert page.count("<code>train-ai</code>") >= 3  # effective table + two history rows


def test_an_invalid_choice_records_nothing(client_alice, alice):
    work = WorkFactory(owner=alice)
    client_alice.post(reverse("preferences:work", args=[work.public_id]), {"pref_train_ai": "perhaps"})
    assert not work.preference_statements.exists()
