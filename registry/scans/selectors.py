"""Reads for scans: who sees which job, progress, result pages, summaries, authors' found counts.

Visibility: a person sees the jobs they created and those of their organisations; an
organisation's API key sees its organisation's jobs. Everything else is a 404 (not a 403), so
a job id proves nothing about someone else's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from registry.scans.models import ScanHit, ScanJob, ScanResult

RESULTS_PAGE = 100
RESULTS_PAGE_MAX = 1000


def _visibility(principal) -> Q:
    """The jobs `principal` may see: a User, or an apikeys OrganisationPrincipal."""
    organisation = getattr(principal, "organisation", None)
    if organisation is not None and getattr(principal, "pk", None) is None:
        return Q(organisation=organisation)
    if not getattr(principal, "is_authenticated", False):
        return Q(pk__in=[])
    return Q(owner=principal) | Q(organisation__memberships__user=principal)


def scan_list(*, principal) -> QuerySet[ScanJob]:
    """The jobs `principal` may see, newest first."""
    return ScanJob.objects.filter(_visibility(principal)).distinct().select_related("organisation", "owner")


def scan_get(*, principal, public_id: str) -> ScanJob:
    """One job `principal` may see; Http404 otherwise (whether it exists or not)."""
    job = scan_list(principal=principal).filter(public_id=public_id).first()
    if job is None:
        raise Http404("No scan with that id.")
    return job


@dataclass(frozen=True)
class Progress:
    status: str
    total: int
    done: int
    failed: int
    matched: int
    skipped: int
    samples_per_second: float | None
    eta_seconds: float | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.total if self.total else 100.0


def scan_progress(*, job: ScanJob, now: datetime | None = None) -> Progress:
    """done / total, the rate since the first chunk started, and the time left at that rate."""
    now = now or timezone.now()
    rate = eta = None
    if job.started_at is not None:
        elapsed = ((job.finished_at or now) - job.started_at).total_seconds()
        if elapsed > 0 and job.done:
            rate = round(job.done / elapsed, 1)
            if job.is_active:
                eta = round((job.total - job.done) / (job.done / elapsed), 1)
    if job.status == ScanJob.Status.FINISHED:
        eta = 0.0
    return Progress(
        status=job.status,
        total=job.total,
        done=job.done,
        failed=job.failed,
        matched=job.matched,
        skipped=job.skipped,
        samples_per_second=rate,
        eta_seconds=eta,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        error=job.error,
    )


def scan_results(
    *,
    job: ScanJob,
    matched: bool | None = None,
    failed: bool | None = None,
    after: int = -1,
    limit: int = RESULTS_PAGE,
) -> tuple[list[ScanResult], int | None]:
    """A page of results in upload order after sample index `after`; (rows, next cursor or None).

    Keyset paging on (job, sample_index) -- the unique constraint's index, or the matched /
    status indexes with a filter -- so page 10,000 costs what page 1 does.
    """
    limit = max(1, min(limit, RESULTS_PAGE_MAX))
    qs = ScanResult.objects.filter(job=job, sample_index__gt=after)
    if matched is not None:
        qs = qs.filter(matched=matched)
    if failed is not None:
        qs = (
            qs.filter(status=ScanResult.Status.FAILED)
            if failed
            else qs.exclude(status=ScanResult.Status.FAILED)
        )
    rows = list(qs.order_by("sample_index")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].sample_index if more else None)


def scan_failed_samples(*, job: ScanJob, limit: int = 100) -> list[ScanResult]:
    """The first failed samples with their reasons (the job page lists them)."""
    return list(scan_results(job=job, failed=True, limit=limit)[0])


def scan_summary(*, job: ScanJob) -> dict:
    """Samples scanned and matched, matched samples by licence and by work (most first)."""
    hits = ScanHit.objects.filter(job=job)
    by_licence = [
        {"licence": row["licence"] or "(none stated)", "samples": row["samples"]}
        for row in hits.values("licence")
        .annotate(samples=Count("result", distinct=True))
        .order_by("-samples", "licence")
    ]
    by_work = [
        {
            "work": row["work__public_id"],
            "title": row["work__title"],
            "owner": row["work__owner__public_name"] or "anonymous author",
            "licence": row["work__licence"],
            "samples": row["samples"],
            "whole": row["whole"],
            "snippet": row["snippet"],
        }
        for row in hits.values("work__public_id", "work__title", "work__owner__public_name", "work__licence")
        .annotate(
            samples=Count("result", distinct=True),
            whole=Count("id", filter=Q(kind="whole")),
            snippet=Count("id", filter=Q(kind="snippet")),
        )
        .order_by("-samples", "work__title")
    ]
    return {
        "samples": job.total,
        "scanned": job.done - job.failed,
        "failed": job.failed,
        "matched": job.matched,
        "skipped_files": job.skipped,
        "by_licence": by_licence,
        "by_work": by_work,
    }


def _scanned_by(job: ScanJob) -> str:
    """Who ran a scan, as an author may see it: the organisation, or the builder's public name."""
    if job.organisation_id:
        return job.organisation.name
    return job.owner.display_name if job.owner_id else "a dataset builder"


def found_counts_for_author(owner, *, limit: int = 50) -> list[dict]:
    """Where `owner`'s works were found: per finished scan, per work, how many samples.

    Never the samples' text nor their ids: an author learns that and how often, not what.
    [{"scan": public_id, "scanned_by", "finished_at", "works": [{"work", "title", "samples",
    "whole", "snippet"}], "samples": total}], newest scan first.
    """
    rows = (
        ScanHit.objects.filter(work__owner=owner, job__status=ScanJob.Status.FINISHED)
        .values("job_id", "work__public_id", "work__title")
        .annotate(
            samples=Count("result", distinct=True),
            whole=Count("id", filter=Q(kind="whole")),
            snippet=Count("id", filter=Q(kind="snippet")),
        )
        .order_by("job_id", "work__title")
    )
    per_job: dict[int, list[dict]] = {}
    for row in rows:
        per_job.setdefault(row["job_id"], []).append(
            {
                "work": row["work__public_id"],
                "title": row["work__title"],
                "samples": row["samples"],
                "whole": row["whole"],
                "snippet": row["snippet"],
            }
        )
    jobs = (
        ScanJob.objects.filter(pk__in=per_job)
        .select_related("organisation", "owner")
        .order_by("-finished_at")
    )
    return [
        {
            "scan": job.public_id,
            "scanned_by": _scanned_by(job),
            "finished_at": job.finished_at,
            "works": per_job[job.pk],
            "samples": sum(w["samples"] for w in per_job[job.pk]),
        }
        for job in jobs[:limit]
    ]


def found_counts_for_job(*, job: ScanJob) -> dict[int, list[dict]]:
    """Per author (user pk) who has works matched in `job`: [{"work", "title", "samples"}]."""
    rows = (
        ScanHit.objects.filter(job=job)
        .values("work__owner_id", "work__public_id", "work__title")
        .annotate(samples=Count("result", distinct=True))
        .order_by("work__owner_id", "-samples", "work__title")
    )
    out: dict[int, list[dict]] = {}
    for row in rows:
        out.setdefault(row["work__owner_id"], []).append(
            {"work": row["work__public_id"], "title": row["work__title"], "samples": row["samples"]}
        )
    return out
