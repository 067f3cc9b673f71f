"""Preference statements are append-only: in the model, the queryset and the database."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction

from registry.preferences.models import AppendOnlyError, PreferenceStatement
from registry.preferences.services import preference_set
from tests.factories import WorkFactory


@pytest.fixture
def statement(alice):
    [statement] = preference_set(owner=alice, values={"train-ai": "no"})
    return statement


def test_a_statement_cannot_be_changed_with_save(statement):
    statement.value = "yes"
    with pytest.raises(AppendOnlyError):
        statement.save()


def test_a_statement_cannot_be_deleted(statement):
    with pytest.raises(AppendOnlyError):
        statement.delete()


def test_statements_cannot_be_bulk_updated_or_deleted(statement):
    with pytest.raises(AppendOnlyError):
        PreferenceStatement.objects.filter(pk=statement.pk).update(value="yes")
    with pytest.raises(AppendOnlyError):
        PreferenceStatement.objects.all().delete()


def test_the_database_refuses_an_update_behind_the_orms_back(statement):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE preferences_preferencestatement SET value = 'yes' WHERE id = %s", [statement.pk]
        )
    assert PreferenceStatement.objects.get(pk=statement.pk).value == "no"


def test_deleting_the_work_removes_its_statements(alice):
    work = WorkFactory(owner=alice)
    preference_set(owner=alice, work=work, values={"search": "no"})
    work.delete()
    assert not PreferenceStatement.objects.filter(key="search").exists()


def test_only_the_owner_can_state_preferences_for_a_work(alice, bob):
    with pytest.raises(PermissionDenied):
        preference_set(owner=bob, work=WorkFactory(owner=alice), values={"train-ai": "yes"})


@pytest.mark.parametrize("values", [{"train-everything": "no"}, {"train-ai": "maybe"}])
def test_keys_and_values_outside_the_vocabulary_are_refused(alice, values):
    with pytest.raises(ValidationError):
        preference_set(owner=alice, values=values)
    assert not PreferenceStatement.objects.exists()
