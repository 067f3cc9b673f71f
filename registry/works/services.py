"""Writes for works: prepare an upload, register a work, edit it, delete it, fingerprint a document.

Registration happens in two steps. `prepare_text` / `prepare_file` / `prepare_archive` turn the
input into documents (decoding, limits, archive safety) and raise `ValidationError` with the
message the author sees -- the forms call them while validating. `work_register` then writes the
work, its locations, its documents and its initial preference statements in ONE transaction and
queues one fingerprint task per document once that transaction has committed: a failure part-way
leaves nothing behind, and a task never runs for a row that does not exist yet.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from registry import engine
from registry.preferences.services import preference_set
from registry.works import archives
from registry.works.archives import format_size
from registry.works.models import Document, Location, Work
from registry.works.validation import normalise_licence, normalise_location

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DocumentInput:
    path: str
    text: str
    encoding: str
    size_bytes: int


@dataclass
class Prepared:
    """Documents ready to register and the report of what was taken and skipped."""

    documents: list[DocumentInput]
    report: dict = field(default_factory=dict)


def _limits() -> dict:
    return settings.REGISTRY


def _taken(doc: DocumentInput) -> dict:
    entry = {"path": doc.path, "size": doc.size_bytes, "encoding": doc.encoding}
    if doc.encoding not in ("utf-8", "ascii"):
        entry["note"] = f"not valid UTF-8; decoded as {doc.encoding}"
    return entry


def prepare_text(*, text: str, name: str = "text") -> Prepared:
    """A pasted text as one document."""
    size = len(text.encode("utf-8"))
    limit = _limits()["MAX_TEXT_BYTES"]
    if size > limit:
        raise ValidationError(
            f"The text is {format_size(size)}; the limit is {format_size(limit)}.", code="too_large"
        )
    if not text.strip():
        raise ValidationError("The text is empty.", code="empty")
    doc = DocumentInput(path=name, text=text, encoding="utf-8", size_bytes=size)
    return Prepared([doc], {"taken": [_taken(doc)], "skipped": []})


def prepare_file(*, name: str, data: bytes) -> Prepared:
    """One uploaded text file as one document."""
    limit = _limits()["MAX_FILE_BYTES"]
    if len(data) > limit:
        raise ValidationError(
            f"The file is {format_size(len(data))}; the limit is {format_size(limit)}.", code="too_large"
        )
    if not data.strip():
        raise ValidationError("The file is empty.", code="empty")
    try:
        text, encoding = engine.decode(data)
    except engine.BinaryInputError:
        raise ValidationError(
            f"{name} looks like a binary file; upload a text file (or an archive of text files).",
            code="binary",
        ) from None
    doc = DocumentInput(path=name, text=text, encoding=encoding, size_bytes=len(data))
    return Prepared([doc], {"taken": [_taken(doc)], "skipped": []})


def archive_limits() -> archives.Limits:
    conf = _limits()
    return archives.Limits(
        max_archive_bytes=conf["MAX_ARCHIVE_BYTES"],
        max_unpacked_bytes=conf["MAX_ARCHIVE_UNPACKED_BYTES"],
        max_files=conf["MAX_ARCHIVE_FILES"],
        max_ratio=conf["MAX_ARCHIVE_RATIO"],
        max_file_bytes=conf["MAX_FILE_BYTES"],
    )


def prepare_archive(*, name: str, fileobj, size: int) -> Prepared:
    """Each text file of a repository archive as one document; binary files are skipped and counted."""
    try:
        contents = archives.read_archive(fileobj, name=name, size=size, limits=archive_limits())
    except archives.ArchiveError as exc:
        raise ValidationError(str(exc), code="archive") from None
    documents = []
    skipped = [{"path": s.path, "reason": s.reason} for s in contents.skipped]
    for entry in contents.entries:
        try:
            text, encoding = engine.decode(entry.data)
        except engine.BinaryInputError:
            skipped.append({"path": entry.path, "reason": "binary file"})
            continue
        if not text.strip():
            skipped.append({"path": entry.path, "reason": "only whitespace"})
            continue
        documents.append(
            DocumentInput(path=entry.path, text=text, encoding=encoding, size_bytes=len(entry.data))
        )
    if not documents:
        raise ValidationError(
            f"The archive {name} has no text files to register ({len(skipped)} skipped).",
            code="archive_empty",
        )
    binary = sum(1 for s in skipped if s["reason"] == "binary file")
    report = {
        "taken": [_taken(d) for d in documents],
        "skipped": skipped,
        "counts": {"taken": len(documents), "skipped": len(skipped), "binary": binary},
    }
    return Prepared(documents, report)


def _locations(raw: Iterable[str]) -> list[tuple[str, str, str]]:
    seen = {}
    for url in raw:
        if url.strip():
            kind, normalised = normalise_location(url)
            seen.setdefault(normalised, (kind, url.strip(), normalised))
    return list(seen.values())


def _document_create(**fields) -> Document:
    # One function so a test can make the n-th document fail and check nothing remains.
    return Document.objects.create(**fields)


def _enqueue_fingerprints(document_ids: list[int]) -> None:
    from registry.works.tasks import fingerprint_document

    for doc_id in document_ids:
        # After commit: the worker must find the row, and a rolled-back registration sends nothing.
        transaction.on_commit(functools.partial(fingerprint_document.delay, doc_id))


@transaction.atomic
def work_register(
    *,
    owner,
    title: str,
    kind: str,
    source: str,
    prepared: Prepared,
    language: str = "",
    licence: str = "",
    attribution: str = "",
    locations: Iterable[str] = (),
    storage: str = Work.Storage.TEXT,
    preferences: Mapping[str, str] | None = None,
) -> Work:
    """Register a work with its documents and initial preferences, and queue fingerprinting.

    Raises:
        ValidationError: empty title, bad licence or location, unknown kind/storage.
    """
    title = title.strip()
    if not title:
        raise ValidationError({"title": "A title is required."})
    if kind not in Work.Kind.values:
        raise ValidationError({"kind": f"Kind must be one of {', '.join(Work.Kind.values)}."})
    if storage not in Work.Storage.values:
        raise ValidationError({"storage": f"Storage must be one of {', '.join(Work.Storage.values)}."})
    if not prepared.documents:
        raise ValidationError("There is nothing to register.")
    work = Work.objects.create(
        owner=owner,
        title=title,
        kind=kind,
        language=language.strip(),
        licence=normalise_licence(licence),
        attribution=attribution.strip(),
        storage=storage,
        source=source,
        import_report=prepared.report,
    )
    Location.objects.bulk_create(
        Location(work=work, kind=k, url=url, normalised=n) for k, url, n in _locations(locations)
    )
    keep = storage == Work.Storage.TEXT
    ids = []
    for doc in prepared.documents:
        created = _document_create(
            work=work,
            path=doc.path,
            language=work.language or engine.language_for_path(doc.path) or "",
            encoding=doc.encoding,
            size_bytes=doc.size_bytes,
            text=doc.text if keep else None,
            pending_text=None if keep else doc.text,
        )
        ids.append(created.pk)
    if preferences:
        preference_set(owner=owner, work=work, values=preferences, note="at registration")
    _enqueue_fingerprints(ids)
    return work


@transaction.atomic
def work_update(
    *,
    work: Work,
    owner,
    title: str,
    licence: str,
    attribution: str,
    locations: Iterable[str],
    text_public: bool | None = None,
) -> Work:
    """Edit a work's metadata. Kind, language and storage are fixed once fingerprinted.

    `text_public` (None: unchanged) lets scan reports show the registered lines beside matches.
    """
    if work.owner_id != owner.pk:
        raise PermissionDenied("Only the owner can edit a work.")
    title = title.strip()
    if not title:
        raise ValidationError({"title": "A title is required."})
    work.title = title
    work.licence = normalise_licence(licence)
    work.attribution = attribution.strip()
    fields = ["title", "licence", "attribution", "updated_at"]
    if text_public is not None:
        work.text_public = bool(text_public)
        fields.append("text_public")
    work.save(update_fields=fields)
    work.locations.all().delete()
    Location.objects.bulk_create(
        Location(work=work, kind=k, url=url, normalised=n) for k, url, n in _locations(locations)
    )
    return work


@transaction.atomic
def work_delete(*, work: Work, owner) -> None:
    """Delete a work with its documents, fingerprints, locations and preference history."""
    if work.owner_id != owner.pk:
        raise PermissionDenied("Only the owner can delete a work.")
    work.delete()


def document_fingerprint(*, document_id: int) -> str:
    """Fingerprint one document; safe to run twice. Returns the document's state afterwards.

    The engine runs outside any transaction (it may take a while); the result is stored with a
    conditional UPDATE (`state = pending`), so two workers racing on the same document store one
    fingerprint, and a document that is ready already is left alone. For fingerprints-only
    storage the same UPDATE clears `pending_text`.

    An engine error marks the document failed with the reason (shown to the author) and is not
    raised: running it again would fail the same way. Database errors do raise, so the task retries.
    """
    doc = Document.objects.select_related("work").filter(pk=document_id).first()
    if doc is None:
        return "gone"  # the work was deleted before the task ran
    if doc.state != Document.State.PENDING:
        return doc.state
    text = doc.source_text
    pending = Document.objects.filter(pk=doc.pk, state=Document.State.PENDING)
    if text is None:
        pending.update(state=Document.State.FAILED, error="The text was not available to fingerprint.")
        return Document.State.FAILED
    try:
        fp = engine.fingerprint_document_text(text, doc.work.kind, doc.language or None)
        blob = fp.to_bytes()
    except Exception as exc:  # noqa: BLE001 - any engine failure is reported to the author
        logger.exception("fingerprinting document %s failed", doc.pk)
        with transaction.atomic():
            # Fingerprints-only: the text goes even on failure; the author chose not to have it kept.
            pending.update(
                state=Document.State.FAILED,
                error=f"The engine could not fingerprint this document: {exc}",
                pending_text=None,
            )
        return Document.State.FAILED
    with transaction.atomic():
        pending.update(
            state=Document.State.READY,
            fingerprint=blob,
            exact_hash=fp.exact_hash,
            num_lines=fp.num_lines,
            num_tokens=fp.num_tokens,
            fingerprinted_at=timezone.now(),
            error="",
            pending_text=None,
        )
    return Document.objects.values_list("state", flat=True).get(pk=doc.pk)


@dataclass
class RefingerprintReport:
    """What `documents_refingerprint_stale` found and did."""

    checked: int = 0
    refingerprinted: int = 0
    failed: int = 0  # stale, and the text was not kept: the author must register it again


def _is_stale(doc: Document) -> bool:
    """Whether a ready document's stored fingerprint was made with other engine parameters."""
    try:
        fp = engine.fingerprint_from_bytes(bytes(doc.fingerprint))
    except ValueError:
        return True  # an older storage format the engine no longer reads
    return engine.fingerprint_params(fp) != engine.expected_fingerprint_params(doc.work.kind)


def documents_refingerprint_stale() -> RefingerprintReport:
    """Fingerprint again every ready document whose fingerprint the engine would skip.

    The matcher only compares fingerprints made with the registry's current parameters
    (`settings.DEDUP` and the engine's normaliser version), so after either changes, stored
    fingerprints would silently stop matching. Documents whose text is kept are fingerprinted
    again here, in this process; fingerprints-only documents cannot be (their text is gone), so
    they are marked failed with a reason the author sees on the dashboard. Safe to run twice: a
    second run finds nothing stale.
    """
    report = RefingerprintReport()
    ready = Document.objects.select_related("work").filter(state=Document.State.READY)
    for doc in ready.only("id", "fingerprint", "text", "work__kind").iterator(chunk_size=200):
        report.checked += 1
        if not _is_stale(doc):
            continue
        still_ready = Document.objects.filter(pk=doc.pk, state=Document.State.READY)
        if doc.text is None:
            still_ready.update(
                state=Document.State.FAILED,
                error="This document was fingerprinted by an older version of the matching engine and "
                "its text was not kept, so it cannot be fingerprinted again; register it again.",
            )
            report.failed += 1
            continue
        # Back to pending, then the usual idempotent path stores the new fingerprint.
        still_ready.update(state=Document.State.PENDING)
        if document_fingerprint(document_id=doc.pk) == Document.State.READY:
            report.refingerprinted += 1
        else:
            report.failed += 1
    return report
