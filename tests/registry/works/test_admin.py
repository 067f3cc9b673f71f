"""Staff see works, documents and statements in the admin; never the texts; statements read-only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from registry.preferences.models import PreferenceStatement
from registry.works.models import Work
from tests.factories import UserFactory
from tests.registry.works.conftest import PROSE


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(email="staff@example.org", is_staff=True, is_superuser=True))
    return client


def test_staff_see_documents_but_not_their_texts(staff_client, alice, register):
    register(title="The ledger", text=PROSE, preferences={"train-ai": "no"})
    work = Work.objects.get()
    for url in (
        reverse("admin:works_work_changelist"),
        reverse("admin:works_work_change", args=[work.pk]),
        reverse("admin:works_document_change", args=[work.documents.get().pk]),
    ):
        response = staff_client.get(url)
        assert response.status_code == 200, url
        assert "lighthouse keeper" not in response.content.decode()


def test_statements_are_read_only_in_the_admin(staff_client, alice, register):
    register(title="The ledger", text=PROSE, preferences={"train-ai": "no"})
    statement = PreferenceStatement.objects.get()
    assert staff_client.get(reverse("admin:preferences_preferencestatement_changelist")).status_code == 200
    assert staff_client.get(reverse("admin:preferences_preferencestatement_add")).status_code == 403
    url = reverse("admin:preferences_preferencestatement_delete", args=[statement.pk])
    assert staff_client.post(url, {"post": "yes"}).status_code == 403
    assert PreferenceStatement.objects.filter(pk=statement.pk).exists()
