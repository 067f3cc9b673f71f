"""Registered works, their documents and canonical locations.

A `Work` is what an author registers (a pasted text, a file, or a repository archive); each
text file in it is a `Document`, fingerprinted in the background by the engine. A work's state
(pending / ready / failed) is derived from its documents and never stored twice.

Texts: with storage "text" a document keeps its text in `Document.text`, shown to its owner
only. With storage "fingerprints" the text is held in `Document.pending_text` only until the
fingerprint task has run: the task stores the fingerprint and clears `pending_text` in the same
transaction, so the registry never holds both, and never the text after fingerprinting.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models


def new_public_id() -> str:
    """A short random id for URLs and the API: no sequence to enumerate, 10 chars of base32."""
    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o/1/l look-alikes
    return "".join(secrets.choice(alphabet) for _ in range(10))


class Work(models.Model):
    class Kind(models.TextChoices):
        CODE = "code", "Code"
        PROSE = "prose", "Prose"

    class Storage(models.TextChoices):
        TEXT = "text", "Keep the text (visible to me only)"
        FINGERPRINTS = "fingerprints", "Keep fingerprints only (the text is dropped after fingerprinting)"

    class Source(models.TextChoices):
        TEXT = "text", "Pasted text"
        FILE = "file", "File"
        ARCHIVE = "archive", "Repository archive"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="works")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    language = models.CharField(
        max_length=32, blank=True, help_text="Overrides the language detected from each file's extension."
    )
    licence = models.CharField(max_length=500, blank=True, help_text="An SPDX licence expression.")
    attribution = models.TextField(blank=True, help_text="What users of the work should show.")
    storage = models.CharField(max_length=16, choices=Storage.choices, default=Storage.TEXT)
    # Only meaningful with storage "text": the matched registered lines may then be shown beside
    # a builder's sample in scan reports (registry/scans). Off by default: kept text is private.
    text_public = models.BooleanField(
        default=False, help_text="Show the registered lines beside matches in scan reports."
    )
    source = models.CharField(max_length=8, choices=Source.choices)
    # What was taken from and skipped in an upload, and why: {"taken": [...], "skipped": [...],
    # "counts": {...}}; shown to the owner on the work page.
    import_report = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # The dashboard: WHERE owner_id = ? ORDER BY created_at DESC
            models.Index(fields=["owner", "-created_at"], name="work_owner_created"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("works:detail", kwargs={"public_id": self.public_id})


class Location(models.Model):
    """A canonical location of a work (a URL, a repository, a domain), normalised for lookup."""

    class Kind(models.TextChoices):
        URL = "url", "URL"
        REPOSITORY = "repository", "Repository"
        DOMAIN = "domain", "Domain"

    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="locations")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    url = models.CharField(max_length=2000, help_text="As the author entered it.")
    normalised = models.CharField(
        max_length=2000, help_text="Lower-case host, no scheme/www/trailing slash/.git."
    )

    class Meta:
        indexes = [
            # URL lookup: WHERE normalised = ? (and the domain fallback WHERE normalised = host)
            models.Index(fields=["normalised"], name="location_normalised"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["work", "normalised"], name="location_unique_per_work"),
        ]

    def __str__(self) -> str:
        return self.url


class Document(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="documents")
    path = models.CharField(
        max_length=1000, help_text="The file's path in the upload, or a name for pasted text."
    )
    language = models.CharField(max_length=32, blank=True)
    encoding = models.CharField(max_length=32, default="utf-8")
    size_bytes = models.PositiveBigIntegerField(default=0)
    # Kept text (storage "text"): shown to the owner only, never on public pages.
    text = models.TextField(null=True, blank=True)  # noqa: DJ001 - None: not kept; "" would be an empty text
    # Short-lived text (storage "fingerprints"): cleared by the fingerprint task in the same
    # transaction that stores the fingerprint.
    pending_text = models.TextField(null=True, blank=True)  # noqa: DJ001 - None once cleared
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    error = models.TextField(blank=True, help_text="Why fingerprinting failed.")
    fingerprint = models.BinaryField(null=True, blank=True, help_text="dedup.Fingerprint.to_bytes()")
    exact_hash = models.CharField(max_length=64, blank=True)
    num_lines = models.PositiveIntegerField(default=0)
    num_tokens = models.PositiveIntegerField(default=0)
    fingerprinted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["path"]
        indexes = [
            # Building the matcher and its version check: WHERE state = 'ready'
            # (count / max(fingerprinted_at) / the fingerprints themselves)
            models.Index(fields=["state", "fingerprinted_at"], name="document_state_time"),
            # Exact-copy lookup: WHERE exact_hash = ?
            models.Index(fields=["exact_hash"], name="document_exact_hash"),
        ]

    def __str__(self) -> str:
        return self.path

    @property
    def source_text(self) -> str | None:
        """The text to fingerprint, wherever the storage choice put it."""
        return self.text if self.text is not None else self.pending_text
