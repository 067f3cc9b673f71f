"""Writes for scans: create a job from an upload, process a chunk exactly once, cancel, resume.

The chunk protocol (what makes results exactly-once, see models.py):

1. `chunk_process` loads the chunk and, if it is still pending and its job still active,
   matches its samples *outside* any transaction (the engine may take seconds; a transaction
   held that long would block the other chunks' writes).
2. `chunk_write_results` then takes the job's row lock, re-reads the chunk, and only if it is
   still pending writes every result, marks the chunk done and moves the counters, in one
   transaction. Two workers racing on one chunk (a redelivery while the first still runs)
   both compute, one writes, the other finds it done. A worker killed before the commit
   wrote nothing; the broker redelivers (acks_late + reject_on_worker_lost) or `scan_resume`
   re-sends the chunk.
3. The last chunk's write finishes the job and, on commit, sends the webhook and the authors'
   notifications. Finishing is decided under the job's row lock, so two last chunks committing
   together cannot both miss (or both see) the end.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from registry import engine
from registry.scans import intake as intake_module
from registry.scans.intake import Intake, IntakeError, Sample, pack_payload, unpack_payload
from registry.scans.models import ScanAccountSettings, ScanChunk, ScanHit, ScanJob, ScanResult

logger = logging.getLogger(__name__)

__all__ = [
    "IntakeError",
    "chunk_process",
    "chunk_write_results",
    "scan_cancel",
    "scan_create",
    "scan_fail",
    "scan_resume",
    "scan_settings_get",
    "found_email_set",
]


def chunk_size() -> int:
    from django.conf import settings

    return max(1, int(settings.REGISTRY["SCAN_CHUNK_SIZE"]))


# --- Creating a job ------------------------------------------------------------------------------


@transaction.atomic
def scan_create(
    *,
    intake: Intake,
    owner=None,
    organisation=None,
    name: str = "",
    webhook_url: str = "",
) -> ScanJob:
    """Store the samples as chunks and queue one task per chunk once this transaction commits.

    `owner` is the person (None for an organisation's API key); at least one of owner and
    organisation must be given. Raises IntakeError for an upload that cannot be scanned as a
    whole (raised while the samples are read, so the rows written so far roll back).
    """
    if owner is None and organisation is None:
        raise ValueError("A scan needs an owner or an organisation.")
    job = ScanJob.objects.create(
        owner=owner,
        organisation=organisation,
        name=name.strip()[:200],
        source=intake.source,
        webhook_url=webhook_url,
    )
    size = chunk_size()
    total = 0
    batch: list[Sample] = []
    chunks: list[ScanChunk] = []
    for sample in intake.samples:
        batch.append(sample)
        if len(batch) == size:
            chunks.append(_chunk(job, len(chunks), total, batch))
            total += len(batch)
            batch = []
            if len(chunks) % 50 == 0:
                # Write as we go: the compressed payloads of a million samples stay out of memory.
                ScanChunk.objects.bulk_create(chunks[-50:])
    if batch:
        chunks.append(_chunk(job, len(chunks), total, batch))
        total += len(batch)
    unsaved = [c for c in chunks if c.pk is None]
    ScanChunk.objects.bulk_create(unsaved)
    counts: dict[str, int] = {}
    for skip in intake.skipped:
        counts[skip["reason"]] = counts.get(skip["reason"], 0) + 1
    job.total = total
    job.skipped = len(intake.skipped)
    job.intake_report = {"skipped": intake.skipped[:1000], "counts": counts} if intake.skipped else {}
    job.save(update_fields=["total", "skipped", "intake_report"])
    transaction.on_commit(functools.partial(_enqueue_pending, job.pk))
    return job


def _chunk(job: ScanJob, index: int, first: int, samples: Sequence[Sample]) -> ScanChunk:
    return ScanChunk(
        job=job, index=index, first_sample=first, size=len(samples), payload=pack_payload(samples)
    )


def _enqueue_pending(job_id: int) -> int:
    """Send one task per pending chunk of the job; returns how many were sent."""
    from registry.scans.tasks import scan_chunk

    ids = list(
        ScanChunk.objects.filter(job_id=job_id, status=ScanChunk.Status.PENDING)
        .order_by("index")
        .values_list("id", flat=True)
    )
    for chunk_id in ids:
        scan_chunk.delay(chunk_id)
    return len(ids)


# --- Processing a chunk --------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleResult:
    sample_index: int
    sample_id: str
    status: str
    error: str = ""
    matches: tuple[dict, ...] = ()
    work_ids: tuple[int, ...] = ()  # the matched works' pks, in the order of `matches`


def chunk_process(*, chunk_id: int) -> str:
    """Match one chunk's samples and write their results once; safe to run any number of times.

    Returns what happened: "done" (written now), "already-done", "skipped" (job not active), "gone".
    """
    chunk = ScanChunk.objects.select_related("job").filter(pk=chunk_id).first()
    if chunk is None:
        return "gone"
    if chunk.status == ScanChunk.Status.DONE:
        return "already-done"
    if not chunk.job.is_active:
        return "skipped"  # cancelled (or failed): the remaining chunks stop here
    now = timezone.now()
    ScanJob.objects.filter(pk=chunk.job_id, status=ScanJob.Status.QUEUED).update(
        status=ScanJob.Status.RUNNING, started_at=now
    )
    ScanChunk.objects.filter(pk=chunk.pk).update(attempts=F("attempts") + 1)
    results = match_samples(unpack_payload(chunk.payload), first_index=chunk.first_sample)
    return chunk_write_results(chunk_id=chunk.pk, results=results)


def match_samples(payload: list[dict], *, first_index: int) -> list[SampleResult]:
    """Results for a chunk's samples: one engine batch, a fixed number of queries for the works."""
    results: list[SampleResult | None] = [None] * len(payload)
    queries: list[engine.Query] = []
    positions: list[int] = []
    for pos, item in enumerate(payload):
        index = first_index + pos
        if item.get("error"):
            results[pos] = SampleResult(index, item["id"], ScanResult.Status.FAILED, item["error"])
            continue
        problem = intake_module.sample_problem(item["text"])
        if problem:
            results[pos] = SampleResult(index, item["id"], ScanResult.Status.FAILED, problem)
            continue
        kinds, language = intake_module.query_kinds(item.get("language"))
        queries.append(engine.Query(item["text"], kinds, language))
        positions.append(pos)
    found = _find_isolating_failures(queries)
    describe = _MatchDescriber([m for ms in found if ms for m in ms])
    for pos, matches in zip(positions, found, strict=True):
        item = payload[pos]
        index = first_index + pos
        if matches is None:
            results[pos] = SampleResult(
                index, item["id"], ScanResult.Status.FAILED, "the engine could not read this sample"
            )
            continue
        entries, work_ids = describe(matches)
        results[pos] = SampleResult(
            index, item["id"], ScanResult.Status.OK, "", tuple(entries), tuple(work_ids)
        )
    return [r for r in results if r is not None]


def _find_isolating_failures(queries: list[engine.Query]) -> list[list[engine.EngineMatch] | None]:
    """One engine batch; if it raises, sample by sample so only the samples that break it fail."""
    if not queries:
        return []
    try:
        return list(engine.find_matches_batch(queries))
    except (ValueError, RecursionError, MemoryError, IndexError, TypeError):
        logger.warning("engine batch failed; retrying sample by sample", exc_info=True)
    out: list[list[engine.EngineMatch] | None] = []
    for q in queries:
        try:
            out.append(engine.find_matches_batch([q])[0])
        except (ValueError, RecursionError, MemoryError, IndexError, TypeError):
            logger.warning("engine failed on one sample", exc_info=True)
            out.append(None)
    return out


class _MatchDescriber:
    """Turns engine matches into result entries, loading works and documents in two queries."""

    def __init__(self, matches: Iterable[engine.EngineMatch]):
        from registry.works.models import Document, Work

        matches = list(matches)
        work_ids = {m.work_id for m in matches}
        self.works = (
            {w.pk: w for w in Work.objects.filter(pk__in=work_ids).select_related("owner")}
            if work_ids
            else {}
        )
        doc_ids = {m.document_id for m in matches}
        self.paths = (
            dict(Document.objects.filter(pk__in=doc_ids).values_list("pk", "path")) if doc_ids else {}
        )

    def __call__(self, matches: list[engine.EngineMatch]) -> tuple[list[dict], list[int]]:
        entries: list[dict] = []
        work_ids: list[int] = []  # in the order of `entries`
        # Best first already; one entry per work (its best document).
        for m in matches:
            work = self.works.get(m.work_id)
            if work is None or work.pk in work_ids:
                continue  # deleted since the matcher was built, or a second document of the work
            work_ids.append(work.pk)
            entries.append(_entry(work, self.paths.get(m.document_id, ""), m.match))
        return entries, work_ids


def registered_text_shown(work) -> bool:
    """May a scan show the registered document's lines? Only if the owner keeps the text and chose to."""
    return work.storage == work.Storage.TEXT and work.text_public


def _entry(work, path: str, match) -> dict:
    entry = {
        "work": work.public_id,
        "title": work.title,
        "owner": work.owner.display_name,
        "licence": work.licence,
        "attribution": work.attribution,
        "kind": "snippet" if match.kind == "snippet" else "whole",
        "match": match.kind,  # the engine's finer kind: exact | near-duplicate | snippet
        "estimated": round(float(match.estimated), 4),
        "verified": round(float(match.verified), 4),
        "sample_lines": [list(r) for r in match.sample_lines],
    }
    if registered_text_shown(work):
        entry["doc_lines"] = [list(r) for r in match.doc_lines]
        entry["document"] = path
    return entry


@transaction.atomic
def chunk_write_results(*, chunk_id: int, results: Sequence[SampleResult]) -> str:
    """Write a chunk's results, mark it done and move the job's counters -- once (module docstring)."""
    chunk = ScanChunk.objects.filter(pk=chunk_id).only("id", "job_id").first()
    if chunk is None:
        return "gone"
    # The job's lock first, always in this order: it serialises the "was this the last chunk?"
    # check between chunks of one job.
    job = ScanJob.objects.select_for_update().get(pk=chunk.job_id)
    chunk = ScanChunk.objects.select_for_update().get(pk=chunk_id)
    if chunk.status == ScanChunk.Status.DONE:
        return "already-done"
    if not job.is_active:
        return "skipped"
    rows = [
        ScanResult(
            job_id=job.pk,
            chunk_id=chunk.pk,
            sample_index=r.sample_index,
            sample_id=r.sample_id,
            status=r.status,
            error=r.error,
            matched=bool(r.matches),
            matches=list(r.matches),
        )
        for r in results
    ]
    _results_create(rows)
    hits = [
        ScanHit(
            job_id=job.pk, result_id=row.pk, work_id=work_id, kind=entry["kind"], licence=entry["licence"]
        )
        for row, r in zip(rows, results, strict=True)
        for work_id, entry in zip(r.work_ids, r.matches, strict=True)
    ]
    ScanHit.objects.bulk_create(hits, batch_size=1000)
    now = timezone.now()
    ScanChunk.objects.filter(pk=chunk.pk).update(status=ScanChunk.Status.DONE, done_at=now)
    failed = sum(1 for r in results if r.status == ScanResult.Status.FAILED)
    matched = sum(1 for r in results if r.matches)
    ScanJob.objects.filter(pk=job.pk).update(
        done=F("done") + len(results), failed=F("failed") + failed, matched=F("matched") + matched
    )
    if not ScanChunk.objects.filter(job_id=job.pk, status=ScanChunk.Status.PENDING).exists():
        _finish(job.pk, now)
    return "done"


def _results_create(rows: list[ScanResult]) -> None:
    # One function so a test can make the write fail part-way and check nothing remains.
    ScanResult.objects.bulk_create(rows, batch_size=1000)


def _finish(job_id: int, now) -> None:
    updated = ScanJob.objects.filter(pk=job_id, status__in=ScanJob.ACTIVE).update(
        status=ScanJob.Status.FINISHED, finished_at=now
    )
    if updated:
        transaction.on_commit(functools.partial(_after_finish, job_id))


def _after_finish(job_id: int) -> None:
    from registry.scans.tasks import deliver_webhook, notify_authors

    job = ScanJob.objects.filter(pk=job_id).only("webhook_url").first()
    if job is None:
        return
    if job.webhook_url:
        deliver_webhook.delay(job_id)
    notify_authors.delay(job_id)


# --- Cancel, fail, resume ------------------------------------------------------------------------


@transaction.atomic
def scan_cancel(*, job: ScanJob) -> bool:
    """Stop a queued or running job: chunks not yet written are skipped. False if it had ended."""
    updated = ScanJob.objects.filter(pk=job.pk, status__in=ScanJob.ACTIVE).update(
        status=ScanJob.Status.CANCELLED, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return bool(updated)


@transaction.atomic
def scan_fail(*, job_id: int, error: str) -> None:
    """Mark a job failed (a chunk kept failing after its retries); its results so far remain."""
    ScanJob.objects.filter(pk=job_id, status__in=ScanJob.ACTIVE).update(
        status=ScanJob.Status.FAILED, finished_at=timezone.now(), error=error[:2000]
    )


def scan_resume(*, job: ScanJob | None = None) -> int:
    """Re-send the pending chunks of active jobs (one job, or all); returns the chunks sent.

    For a broker that lost its messages (a restart without persistence): sending a chunk that
    is also still queued, or being processed, is harmless because the write is idempotent.
    """
    jobs = [job] if job is not None else ScanJob.objects.filter(status__in=ScanJob.ACTIVE)
    sent = 0
    for j in jobs:
        if j.status in ScanJob.ACTIVE:
            sent += _enqueue_pending(j.pk)
    return sent


def scan_resume_stalled(*, idle_seconds: float) -> int:
    """Re-send the pending chunks of active jobs that made no progress for `idle_seconds`.

    What Celery beat runs (settings.CELERY_BEAT_SCHEDULE): a broker that lost its messages leaves
    a job "running" with nothing queued, for ever. A job counts as stalled when it is older than
    the idle time and none of its chunks finished within it, so a job that is being worked on is
    left alone however long it is; a stalled one that was only waiting behind others gets its
    chunks twice, which the idempotent chunk write makes harmless.
    """
    cutoff = timezone.now() - timedelta(seconds=idle_seconds)
    stalled = (
        ScanJob.objects.filter(status__in=ScanJob.ACTIVE, created_at__lt=cutoff)
        .annotate(last_done=Max("chunks__done_at"))
        .filter(Q(last_done__isnull=True) | Q(last_done__lt=cutoff))
        .values_list("pk", flat=True)
    )
    sent = 0
    for job_id in list(stalled):
        sent += _enqueue_pending(job_id)
    if sent:
        logger.warning("re-sent %d pending chunks of stalled scan jobs", sent)
    return sent


# --- Account settings: webhook secret rotation, the author's email choice -----------------------


def _settings_lookup(account) -> dict:
    from registry.apikeys.models import Organisation

    if isinstance(account, Organisation):
        return {"organisation": account}
    return {"user": account}


def scan_settings_get(*, account) -> ScanAccountSettings:
    """The scan settings of a person or an organisation (created on first use)."""
    settings_row, _ = ScanAccountSettings.objects.get_or_create(**_settings_lookup(account))
    return settings_row


@transaction.atomic
def found_email_set(*, user, enabled: bool) -> ScanAccountSettings:
    """The author's choice: be emailed when a finished scan found their works (default off)."""
    row = scan_settings_get(account=user)
    row.email_when_found = bool(enabled)
    row.save(update_fields=["email_when_found"])
    return row
