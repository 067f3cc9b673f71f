"""Preference statements: an append-only history.

Every change an author makes is a new `PreferenceStatement` row; nothing is ever updated. The
current state is derived by reading the newest statement per (owner, work, key) -- see
`registry.preferences.selectors`. Keeping the history lets an author (and later a dataset
builder) see what was stated when: a revocation does not erase that a work was opted out
between two dates.

Append-only is enforced at three levels:
- `save()` refuses to update an existing row and `delete()` refuses to delete one;
- the queryset refuses bulk `update()` and `delete()`;
- the database refuses UPDATE through a trigger (migration 0002, SQLite and PostgreSQL).

Rows do go away in one case: when the author deletes the work (or their account), the
statements about it are removed with it by the ORM's cascade, which does not go through the
guards above. An author's right to remove their work outweighs keeping a history about a work
the registry no longer holds.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from registry.preferences import vocabulary


class AppendOnlyError(RuntimeError):
    """Raised on any attempt to change or remove a statement."""


class PreferenceStatementQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Preference statements are append-only; record a new statement instead.")

    def delete(self):
        raise AppendOnlyError("Preference statements are append-only; record a new statement instead.")


class PreferenceStatement(models.Model):
    """One statement: `owner` says `value` for `key`, about `work` (or as a default if work is None)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    work = models.ForeignKey(
        "works.Work",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="preference_statements",
        help_text="Empty for the author's default, which applies to all their works.",
    )
    key = models.CharField(max_length=32, choices=vocabulary.KEY_CHOICES)
    value = models.CharField(max_length=8, choices=vocabulary.VALUE_CHOICES)
    effective_at = models.DateTimeField(default=timezone.now, help_text="When the statement took effect.")
    note = models.CharField(max_length=200, blank=True)

    objects = PreferenceStatementQuerySet.as_manager()

    class Meta:
        indexes = [
            # "Newest statement per key for this work" (current state, history page):
            # WHERE work_id = ? ORDER BY effective_at DESC, id DESC
            models.Index(fields=["work", "key", "-effective_at", "-id"], name="pref_work_key_time"),
            # "Newest default statement per key for this author": WHERE owner_id = ? AND work_id IS NULL
            models.Index(
                fields=["owner", "key", "-effective_at", "-id"],
                name="pref_default_key_time",
                condition=models.Q(work__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(key__in=vocabulary.KEYS), name="pref_key_in_vocabulary"
            ),
            models.CheckConstraint(
                condition=models.Q(value__in=vocabulary.VALUES), name="pref_value_in_vocabulary"
            ),
        ]

    def __str__(self) -> str:
        scope = f"work {self.work_id}" if self.work_id else "default"
        return f"{scope}: {self.key}={self.value} at {self.effective_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise AppendOnlyError("Preference statements are append-only; record a new statement instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Preference statements are append-only; record a new statement instead.")
