"""Batch scans: a builder uploads generated samples; workers check each against the registry.

A `ScanJob` is split at intake into `ScanChunk`s (the samples themselves, compressed); one
Celery task per chunk matches its samples and writes one `ScanResult` per sample, plus one
`ScanHit` per (sample, matched work) so summaries and authors' "found" counts are plain
indexed GROUP BYs instead of a scan over JSON.

Exactly-once: a chunk's results are written in the same transaction that flips the chunk from
pending to done and bumps the job's counters (see services.chunk_write_results). Re-running a
chunk (a redelivered message, a resume after a broker restart, a retry) finds it done and
writes nothing; a worker killed before that transaction committed wrote nothing, so the
re-run writes everything. The unique constraints below are the backstop: a bug that wrote a
sample twice fails loudly instead of double-counting.

Who may see a job: its owner (a person) or the members of its organisation (jobs created with
an organisation's API key belong to the organisation, not to the person who made the key).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q


def new_public_id() -> str:
    """A random id for URLs and the API: 12 chars of base32 without look-alikes."""
    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


class ScanJob(models.Model):
    class Source(models.TextChoices):
        JSONL = "jsonl", "JSON Lines file"
        ARCHIVE = "archive", "Archive of files"
        SAMPLES = "samples", "Samples in the request"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    public_id = models.CharField(max_length=16, unique=True, default=new_public_id, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="scan_jobs",
        help_text="Who created the job; empty when made with an organisation's key.",
    )
    organisation = models.ForeignKey(
        "apikeys.Organisation", on_delete=models.CASCADE, null=True, blank=True, related_name="scan_jobs"
    )
    name = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # Counters, maintained with F() by the chunk writes (never recounted from rows).
    total = models.PositiveIntegerField(default=0, help_text="Samples in the job.")
    done = models.PositiveIntegerField(default=0, help_text="Samples with a result (ok or failed).")
    failed = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    # Files of an archive that were not samples (binary, empty, build directories), as
    # {"skipped": [{"path", "reason"}...], "counts": {reason: n}}; set at intake.
    skipped = models.PositiveIntegerField(default=0, help_text="Archive files that were not samples.")
    intake_report = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    webhook_url = models.URLField(max_length=2000, blank=True)
    # Delivery state of the finish webhook and the authors' emails, so a re-run sends neither twice.
    webhook_status = models.CharField(max_length=200, blank=True)
    webhook_delivered_at = models.DateTimeField(null=True, blank=True)
    authors_notified_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The job list: WHERE owner_id = ? ORDER BY created_at DESC (and the same per organisation)
            models.Index(fields=["owner", "-created_at"], name="scanjob_owner_created"),
            models.Index(fields=["organisation", "-created_at"], name="scanjob_org_created"),
            # resume: WHERE status IN ('queued', 'running')
            models.Index(fields=["status"], name="scanjob_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(owner__isnull=False) | Q(organisation__isnull=False),
                name="scanjob_has_owner_or_organisation",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.public_id

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("scans:detail", kwargs={"public_id": self.public_id})

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class ScanChunk(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"

    job = models.ForeignKey(ScanJob, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    first_sample = models.PositiveIntegerField(help_text="sample_index of the chunk's first sample.")
    size = models.PositiveIntegerField(help_text="Number of samples in the chunk.")
    # zlib-compressed JSON list of {"id", "text", "language"} (or {"id", "error"} for a sample
    # rejected at intake, e.g. a malformed JSON line); see intake.pack_payload.
    payload = models.BinaryField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="Times a worker started this chunk.")
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [
            # Also the index for "all chunks of a job" and resume's WHERE job_id = ? AND status = ?
            models.UniqueConstraint(fields=["job", "index"], name="scanchunk_unique_index"),
        ]
        indexes = [
            # "Are all chunks done?" and resume: WHERE job_id = ? AND status = 'pending'
            models.Index(fields=["job", "status"], name="scanchunk_job_status"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}#{self.index}"


class ScanResult(models.Model):
    class Status(models.TextChoices):
        OK = "ok", "Scanned"
        FAILED = "failed", "Failed"

    job = models.ForeignKey(ScanJob, on_delete=models.CASCADE, related_name="results")
    chunk = models.ForeignKey(ScanChunk, on_delete=models.CASCADE, related_name="results")
    sample_index = models.PositiveIntegerField(help_text="0-based position of the sample in the upload.")
    sample_id = models.CharField(max_length=500)
    status = models.CharField(max_length=8, choices=Status.choices)
    error = models.TextField(blank=True)
    matched = models.BooleanField(default=False)
    # [{"work", "title", "owner", "licence", "attribution", "kind" (whole|snippet), "estimated",
    #   "verified", "sample_lines", "doc_lines"?, "document"?}], best first. doc_lines and the
    # document path only when the work's owner keeps the text and made it public.
    matches = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["job", "sample_index"]
        constraints = [
            # Exactly once per sample; also the index for paging results in upload order.
            models.UniqueConstraint(fields=["job", "sample_index"], name="scanresult_unique_sample"),
        ]
        indexes = [
            # Matched-only pages and the HTML report: WHERE job_id = ? AND matched ORDER BY sample_index
            models.Index(fields=["job", "matched", "sample_index"], name="scanresult_job_matched"),
            # The failed-samples list: WHERE job_id = ? AND status = 'failed' ORDER BY sample_index
            models.Index(fields=["job", "status", "sample_index"], name="scanresult_job_status"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.sample_index}"


class ScanHit(models.Model):
    """One (sample, registered work) match, denormalised for GROUP BY queries.

    The licence and title are copied as they were at scan time, so a summary does not change
    when the work is edited later.
    """

    job = models.ForeignKey(ScanJob, on_delete=models.CASCADE, related_name="hits")
    result = models.ForeignKey(ScanResult, on_delete=models.CASCADE, related_name="hits")
    work = models.ForeignKey("works.Work", on_delete=models.CASCADE, related_name="scan_hits")
    kind = models.CharField(max_length=8)  # "whole" | "snippet"
    licence = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["result", "work"], name="scanhit_unique_result_work"),
        ]
        indexes = [
            # The summary by work / licence: WHERE job_id = ? GROUP BY work_id (or licence)
            models.Index(fields=["job", "work"], name="scanhit_job_work"),
            # An author's dashboard: WHERE work_id IN (their works) GROUP BY job_id, work_id
            models.Index(fields=["work", "job"], name="scanhit_work_job"),
        ]

    def __str__(self) -> str:
        return f"{self.result_id} -> work {self.work_id}"


class ScanAccountSettings(models.Model):
    """Per-account scan settings: the webhook secret's rotation counter, the author's email choice.

    The webhook secret itself is never stored: it is HMAC(SECRET_KEY, "webhook:<account>:<n>")
    (services.webhook_secret), so a database dump does not leak it and rotating it is `n += 1`.
    An account is a person or an organisation; exactly one is set.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="scan_settings",
    )
    organisation = models.OneToOneField(
        "apikeys.Organisation", on_delete=models.CASCADE, null=True, blank=True, related_name="scan_settings"
    )
    webhook_rotation = models.PositiveIntegerField(default=0)
    email_when_found = models.BooleanField(
        default=False, help_text="Email me when a scan finds my works (counts only, never the samples)."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(organisation__isnull=True))
                | (Q(user__isnull=True) & Q(organisation__isnull=False)),
                name="scansettings_user_xor_organisation",
            ),
        ]

    def __str__(self) -> str:
        return f"scan settings of {self.user or self.organisation}"
