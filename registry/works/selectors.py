"""Reads for works: the dashboard, a work's state, the public lookup."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from registry import engine
from registry.preferences.selectors import Decision, effective_preferences_for_works
from registry.works.models import Document, Location, Work
from registry.works.validation import lookup_keys


def work_list(*, owner) -> QuerySet[Work]:
    """The owner's works, newest first, with document counts per state (one query)."""
    return (
        Work.objects.filter(owner=owner)
        .annotate(
            n_documents=Count("documents"),
            n_pending=Count("documents", filter=Q(documents__state=Document.State.PENDING)),
            n_failed=Count("documents", filter=Q(documents__state=Document.State.FAILED)),
        )
        .order_by("-created_at")
    )


def work_get_for_owner(*, owner, public_id: str) -> Work:
    """The owner's work; 404 for anyone else's (not 403: others must not learn it exists)."""
    work = Work.objects.filter(owner=owner, public_id=public_id).first()
    if work is None:
        raise Http404("No such work.")
    return work


def state_of(*, n_documents: int, n_pending: int, n_failed: int) -> str:
    """A work is failed if any document failed, pending while any is pending, else ready."""
    if n_failed:
        return Work.State.FAILED
    if n_pending or not n_documents:
        return Work.State.PENDING
    return Work.State.READY


def work_state(work: Work) -> tuple[str, list[str]]:
    """(state, reasons): the failure reasons name the documents that failed."""
    counts = work.documents.aggregate(
        n=Count("id"),
        pending=Count("id", filter=Q(state=Document.State.PENDING)),
        failed=Count("id", filter=Q(state=Document.State.FAILED)),
    )
    reasons = [
        f"{path}: {error}"
        for path, error in work.documents.filter(state=Document.State.FAILED).values_list("path", "error")[
            :20
        ]
    ]
    return state_of(n_documents=counts["n"], n_pending=counts["pending"], n_failed=counts["failed"]), reasons


def work_documents(work: Work) -> QuerySet[Document]:
    """The documents for the owner's page, without the stored fingerprints."""
    return work.documents.defer("fingerprint", "pending_text").order_by("path")


@dataclass(frozen=True)
class LookupResult:
    """What the public lookup shows about one matched work. Never carries a registered text."""

    work: Work
    owner_name: str
    match_kind: str  # "exact" | "near-duplicate" | "snippet" | "location"
    estimated: float | None
    verified: float | None
    sample_lines: tuple[tuple[int, int], ...]  # line ranges in the PASTED text
    document_path: str | None
    preferences: dict[str, Decision]


def lookup_text(text: str, *, kind: str | None = None, language: str | None = None) -> list[LookupResult]:
    """Registered works that `text` copies, best match per work first."""
    hits = engine.find_matches(text, kind=kind, language=language)
    docs = {
        d.pk: d
        for d in Document.objects.filter(pk__in=[h.document_id for h in hits]).only("id", "path", "work_id")
    }
    best_per_work = {}
    for hit in hits:  # best first already
        if hit.document_id in docs and hit.work_id not in best_per_work:
            best_per_work[hit.work_id] = hit
    works = Work.objects.select_related("owner").in_bulk(list(best_per_work))
    prefs = effective_preferences_for_works(works.values())
    results = []
    for work_id, hit in best_per_work.items():
        work = works.get(work_id)
        if work is None:
            continue
        m = hit.match
        results.append(
            LookupResult(
                work=work,
                owner_name=work.owner.display_name,
                match_kind=m.kind,
                estimated=m.estimated,
                verified=m.verified,
                sample_lines=tuple(m.sample_lines),
                document_path=docs[hit.document_id].path if work.source == Work.Source.ARCHIVE else None,
                preferences=prefs[work.pk],
            )
        )
    return results


def lookup_url(url: str) -> list[LookupResult]:
    """Works registered under the URL, a parent path of it, or its domain."""
    locations = Location.objects.filter(normalised__in=lookup_keys(url)).select_related("work__owner")
    works = {loc.work_id: loc.work for loc in locations}
    prefs = effective_preferences_for_works(works.values())
    return [
        LookupResult(
            work=work,
            owner_name=work.owner.display_name,
            match_kind="location",
            estimated=None,
            verified=None,
            sample_lines=(),
            document_path=None,
            preferences=prefs[work.pk],
        )
        for work in sorted(works.values(), key=lambda w: w.title)
    ]
