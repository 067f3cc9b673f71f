"""Writes: record preference statements (never change old ones)."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from registry.preferences import vocabulary
from registry.preferences.models import PreferenceStatement
from registry.preferences.selectors import current_values


@transaction.atomic
def preference_set(
    *, owner, work=None, values: Mapping[str, str], note: str = ""
) -> list[PreferenceStatement]:
    """Record new statements for the keys whose value changes.

    Args:
        owner: the author making the statement.
        work: the work the statements are about, or None for the owner's defaults.
        values: `{key: "yes" | "no" | "unset"}`; keys left out keep their current value.
            ``unset`` revokes an earlier statement.
        note: an optional short note kept with the statements.

    Returns:
        The statements recorded, all with the same `effective_at` (empty if nothing changed).

    Raises:
        ValidationError: a key or value outside the vocabulary.
        PermissionDenied: `work` belongs to someone else.
    """
    if work is not None and work.owner_id != owner.pk:
        raise PermissionDenied("Only the owner of a work can state its preferences.")
    for key, value in values.items():
        if key not in vocabulary.BY_KEY:
            raise ValidationError(f"Unknown preference {key!r}; known: {', '.join(vocabulary.KEYS)}.")
        if value not in vocabulary.VALUES:
            raise ValidationError(
                f"Preference {key!r} must be one of {', '.join(vocabulary.VALUES)}, not {value!r}."
            )
    current = current_values(owner=owner, work=work)
    now = timezone.now()
    created = []
    for key in vocabulary.KEYS:  # vocabulary order keeps the history readable
        if key in values and values[key] != current[key]:
            created.append(
                PreferenceStatement.objects.create(
                    owner=owner, work=work, key=key, value=values[key], effective_at=now, note=note
                )
            )
    return created


def preference_revoke(*, owner, work=None, key: str) -> list[PreferenceStatement]:
    """Revoke the statement for `key` (back to unset); the old statement stays in the history."""
    return preference_set(owner=owner, work=work, values={key: vocabulary.UNSET}, note="revoked")
