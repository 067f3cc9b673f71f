"""The registry's change log, from which snapshot versions and deltas are made.

A snapshot is "the works that restrict some purpose, as of version V". V is the id of the newest
`SnapshotChange`: every event that can change what a snapshot holds about a work appends a row
naming the work, so "what changed since V" is "the works named by rows after V", and the delta
for them is read from the current state (present and restricting: an upsert; deleted, or no
longer restricting anything: a removal). The rows never hold a decision or a text, only *which*
work to look at again, so a missed or doubled row can only cost an extra upsert, never a wrong
answer -- except a missed row, which is why the writers are chosen to miss nothing
(registry/snapshots/signals.py and `services.snapshot_sync`).

The rows keep the work's ids as plain columns, not a foreign key: the row must outlive the work,
since a deletion is exactly what a delta has to report.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class SnapshotChange(models.Model):
    class Reason(models.TextChoices):
        SAVED = "saved", "Work registered or edited"
        DELETED = "deleted", "Work deleted"
        DOCUMENT_DELETED = "document-deleted", "Document deleted"
        FINGERPRINTED = "fingerprinted", "Document fingerprinted"
        PREFERENCES = "preferences", "Preference statement took effect"
        BASELINE = "baseline", "Start of the change log"

    work_pk = models.BigIntegerField(null=True, help_text="Work.pk (no foreign key: rows outlive works).")
    work_public_id = models.CharField(max_length=16, blank=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    # For events found by `snapshot_sync` rather than a signal: the document or statement, and
    # its fingerprinted_at / effective_at, so the same event is never logged twice.
    source_pk = models.BigIntegerField(null=True, blank=True)
    stamp = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # The sync's watermark and its "logged already?" check:
            # WHERE reason = ? ORDER BY stamp DESC / WHERE reason = ? AND source_pk IN (...)
            models.Index(fields=["reason", "stamp"], name="snapchange_reason_stamp"),
            models.Index(fields=["reason", "source_pk"], name="snapchange_reason_source"),
            # A delta's safety window: WHERE created_at >= ? (see services.changed_work_pks)
            models.Index(fields=["created_at"], name="snapchange_created"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.reason} work {self.work_public_id or self.work_pk}"
