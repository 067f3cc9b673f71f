"""Downloads of a scan's results: JSON Lines, CSV and a self-contained HTML report.

All three stream: rows come from `QuerySet.iterator()` and each is turned into text as the
response is sent, so a million-sample job never sits in memory. The HTML report lists the
matched samples only (and the failed ones by id and reason), each with its matched lines
highlighted and, where that may be shown, the registered lines beside it.

What may be shown of a registered work: its title, licence, attribution and owner's public
name always; its lines only when its owner keeps the text AND made it public
(`Work.text_public`), checked again when the report is rendered, so an author who turns it
off later is not shown by an old report download. The report has no external URLs (inline
CSS, no scripts, no links out), and every piece of text goes through Django's autoescape.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from django.template.loader import get_template
from django.utils import timezone

from registry.scans import selectors
from registry.scans.intake import unpack_payload
from registry.scans.models import ScanChunk, ScanJob, ScanResult

ITERATOR_CHUNK = 2000
MAX_FAILED_LISTED = 1000

FORMATS = {
    "jsonl": "application/x-ndjson; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
}
CSV_COLUMNS = [
    "sample_index",
    "sample_id",
    "status",
    "error",
    "matched",
    "work",
    "title",
    "owner",
    "licence",
    "attribution",
    "kind",
    "match",
    "estimated",
    "verified",
    "sample_lines",
    "doc_lines",
    "document",
]


def _results(job: ScanJob, **filters):
    return (
        ScanResult.objects.filter(job=job, **filters)
        .order_by("sample_index")
        .iterator(chunk_size=ITERATOR_CHUNK)
    )


def result_dict(r: ScanResult) -> dict:
    """One result as the API and the JSON Lines download give it."""
    return {
        "sample_index": r.sample_index,
        "id": r.sample_id,
        "status": r.status,
        "error": r.error,
        "matched": r.matched,
        "matches": r.matches,
    }


# --- JSON Lines --------------------------------------------------------------------------------


def render_jsonl(job: ScanJob) -> Iterator[str]:
    for r in _results(job):
        yield json.dumps(result_dict(r), ensure_ascii=False, separators=(",", ":")) + "\n"


# --- CSV ---------------------------------------------------------------------------------------


def _cell(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (sample ids are untrusted)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _ranges(ranges) -> str:
    return ";".join(f"{a}-{b}" for a, b in ranges or [])


def render_csv(job: ScanJob) -> Iterator[str]:
    """One row per (sample, matched work); a sample without matches has one row with empty match columns."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return value

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for r in _results(job):
        base = [r.sample_index, _cell(r.sample_id), r.status, _cell(r.error), "yes" if r.matched else "no"]
        if not r.matches:
            writer.writerow(base + [""] * (len(CSV_COLUMNS) - len(base)))
        for m in r.matches:
            writer.writerow(
                base
                + [
                    m["work"],
                    _cell(m["title"]),
                    _cell(m["owner"]),
                    _cell(m["licence"]),
                    _cell(m["attribution"]),
                    m["kind"],
                    m.get("match", ""),
                    m["estimated"],
                    m["verified"],
                    _ranges(m["sample_lines"]),
                    _ranges(m.get("doc_lines")),
                    _cell(m.get("document", "")),
                ]
            )
        yield flush()


# --- HTML --------------------------------------------------------------------------------------


def _in_ranges(line: int, ranges) -> bool:
    return any(a <= line <= b for a, b in ranges)


def _numbered(text: str, ranges, *, only_context: bool = False, context: int = 3) -> list[dict]:
    """[{"n", "text", "hit"}] for the template (which escapes `text`).

    `only_context`: for a registered document, show only the matched lines with a little
    context around them, not the whole work.
    """
    lines = text.splitlines() or [""]
    rows = []
    for n, line in enumerate(lines, start=1):
        hit = _in_ranges(n, ranges)
        if only_context and not any(a - context <= n <= b + context for a, b in ranges):
            continue
        rows.append({"n": n, "text": line, "hit": hit})
    return rows


def _shown_documents(results: list[ScanResult]) -> dict[tuple[str, str], str]:
    """Texts of the registered documents that may be shown, keyed (work public id, path): one query."""
    from django.db.models import Q

    from registry.works.models import Document, Work

    wanted = {(m["work"], m["document"]) for r in results for m in r.matches if m.get("document")}
    if not wanted:
        return {}
    condition = Q()
    for work, path in wanted:
        condition |= Q(work__public_id=work, path=path)
    docs = Document.objects.filter(
        condition, work__storage=Work.Storage.TEXT, work__text_public=True, text__isnull=False
    ).values_list("work__public_id", "path", "text")
    return {(w, p): t for w, p, t in docs}


def _samples_html(job: ScanJob, template) -> Iterator[str]:
    """Matched samples, a chunk at a time: its payload (the samples' text) and the shown documents."""
    group: list[ScanResult] = []
    for r in _results(job, matched=True):
        if group and group[-1].chunk_id != r.chunk_id:
            yield from _render_group(group, template)
            group = []
        group.append(r)
    if group:
        yield from _render_group(group, template)


def _render_group(group: list[ScanResult], template) -> Iterator[str]:
    chunk = ScanChunk.objects.only("payload", "first_sample").get(pk=group[0].chunk_id)
    payload = unpack_payload(chunk.payload)
    documents = _shown_documents(group)
    for r in group:
        text = payload[r.sample_index - chunk.first_sample].get("text") or ""
        all_ranges = [rng for m in r.matches for rng in m["sample_lines"]]
        matches = []
        for m in r.matches:
            doc_text = documents.get((m["work"], m.get("document", "")))
            registered = None
            if doc_text is not None and m.get("doc_lines"):
                registered = _numbered(doc_text, m["doc_lines"], only_context=True)
            matches.append({**m, "registered": registered, "sample_ranges": _ranges(m["sample_lines"])})
        yield template.render(
            {"part": "sample", "r": r, "lines": _numbered(text, all_ranges), "matches": matches}
        )


def render_html(job: ScanJob) -> Iterator[str]:
    template = get_template("scans/report.html")
    context = {
        "job": job,
        "progress": selectors.scan_progress(job=job),
        "summary": selectors.scan_summary(job=job),
        "generated_at": timezone.now(),
    }
    yield template.render({"part": "head", **context})
    yield from _samples_html(job, template)
    failed = list(
        ScanResult.objects.filter(job=job, status=ScanResult.Status.FAILED)
        .order_by("sample_index")
        .values("sample_index", "sample_id", "error")[:MAX_FAILED_LISTED]
    )
    yield template.render(
        {"part": "tail", "failed": failed, "failed_more": job.failed > len(failed), **context}
    )


RENDERERS = {"jsonl": render_jsonl, "csv": render_csv, "html": render_html}


def streaming_report(job: ScanJob, fmt: str) -> StreamingHttpResponse:
    """The download response for `fmt` ("jsonl", "csv" or "html"); ValueError for another format."""
    if fmt not in RENDERERS:
        raise ValueError(f"Unknown report format {fmt!r}; use one of {', '.join(RENDERERS)}.")
    response = StreamingHttpResponse(RENDERERS[fmt](job), content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="scan-{job.public_id}.{fmt}"'
    response["X-Content-Type-Options"] = "nosniff"
    # The report holds the builder's samples: a strict policy so nothing in it can load or run.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
