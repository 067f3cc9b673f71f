"""Registering a work by fingerprints alone: the text never reaches the registry.

The command-line client (`python -m dedup register FOLDER`) fingerprints each file on the
author's machine with the engine parameters this registry announces, and uploads only the
fingerprints. Here each one is decoded and checked against the registry's engine configuration
-- a fingerprint made with other parameters could never be compared with the stored ones -- and
the work is written in one transaction with every document READY at once: there is nothing left
to fingerprint, so no task is queued.

The work's metadata (title, kind, licence, locations, preferences) goes through the same
validators as `registry.works.services.work_register`; only the document rows differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from registry import engine
from registry.preferences.services import preference_set
from registry.works import services
from registry.works.models import Document, Location, Work
from registry.works.validation import normalise_licence

# What `python -m dedup register` needs to fingerprint exactly as the registry would.
FINGERPRINT_PARAMETERS = (
    "kind",
    "scheme",
    "seed",
    "num_perm",
    "shingle_size",
    "normaliser_version",
    "channel",
    "winnow_k",
    "winnow_window",
)


class FingerprintRejected(ValueError):
    """One uploaded fingerprint cannot be stored; `code` is the API's error code.

    Attributes:
        code: ``invalid_fingerprint`` (not a fingerprint, truncated, another format version) or
            ``fingerprint_params_mismatch`` (made with other engine parameters).
        path: the document the fingerprint belongs to.
        parameter, expected, got: for a mismatch, the first parameter that differs.
    """

    def __init__(self, code: str, message: str, *, path: str, parameter=None, expected=None, got=None):
        super().__init__(message)
        self.code = code
        self.path = path
        self.parameter = parameter
        self.expected = expected
        self.got = got


@dataclass(frozen=True)
class FingerprintInput:
    path: str
    fingerprint: bytes  # dedup Fingerprint.to_bytes()
    language: str = ""
    size_bytes: int = 0


def max_documents() -> int:
    # The same cap as a repository archive: a folder is an archive that was never packed.
    return settings.REGISTRY["MAX_ARCHIVE_FILES"]


def check_fingerprint(item: FingerprintInput, *, kind: str):
    """The decoded fingerprint, or `FingerprintRejected` naming what is wrong with it."""
    try:
        fp = engine.fingerprint_from_bytes(item.fingerprint)
    except (ValueError, KeyError, TypeError) as exc:
        raise FingerprintRejected(
            "invalid_fingerprint",
            f"{item.path}: the fingerprint cannot be read ({exc}); send base64 of "
            "dedup Fingerprint.to_bytes().",
            path=item.path,
        ) from None
    want = engine.expected_fingerprint_params(kind)
    got = engine.fingerprint_params(fp)
    for name in FINGERPRINT_PARAMETERS:
        if got[name] != want[name]:
            raise FingerprintRejected(
                "fingerprint_params_mismatch",
                f"{item.path}: the fingerprint was made with {name}={got[name]!r}; this registry "
                f"needs {name}={want[name]!r}. Fingerprint again with the parameters from "
                "GET /api/v1/works/fingerprints.",
                path=item.path,
                parameter=name,
                expected=want[name],
                got=got[name],
            )
    if item.language and (fp.language or "") != item.language:
        raise FingerprintRejected(
            "fingerprint_params_mismatch",
            f"{item.path}: the document says language {item.language!r} but its fingerprint was "
            f"made as {fp.language!r}.",
            path=item.path,
            parameter="language",
            expected=item.language,
            got=fp.language,
        )
    return fp


@transaction.atomic
def work_register_fingerprints(
    *,
    owner,
    title: str,
    kind: str,
    documents: list[FingerprintInput],
    licence: str = "",
    attribution: str = "",
    locations: Iterable[str] = (),
    preferences: Mapping[str, str] | None = None,
    skipped: list[dict] | None = None,
) -> Work:
    """Register a work from uploaded fingerprints; every document is READY, no text is stored.

    Args:
        skipped: what the client left out and why (binary, too large...), kept in the import
            report so the work page tells the same story as for an archive.

    Raises:
        FingerprintRejected: a fingerprint is unreadable or made with other parameters.
        ValidationError: empty title, unknown kind, bad licence or location, too many documents.
    """
    title = title.strip()
    if not title:
        raise ValidationError({"title": "A title is required."})
    if kind not in Work.Kind.values:
        raise ValidationError({"kind": f"Kind must be one of {', '.join(Work.Kind.values)}."})
    if not documents:
        raise ValidationError({"documents": "There is nothing to register."})
    if len(documents) > max_documents():
        raise ValidationError(
            {"documents": f"{len(documents)} documents; the limit is {max_documents()} per work."}
        )
    paths = [d.path for d in documents]
    if len(set(paths)) != len(paths):
        duplicate = next(p for p in paths if paths.count(p) > 1)
        raise ValidationError({"documents": f"The path {duplicate} appears twice."})
    checked = [(item, check_fingerprint(item, kind=kind)) for item in documents]

    skipped = list(skipped or [])[:1000]
    work = Work.objects.create(
        owner=owner,
        title=title,
        kind=kind,
        licence=normalise_licence(licence),
        attribution=attribution.strip(),
        storage=Work.Storage.FINGERPRINTS,
        # A folder registered remotely is shown like a repository archive (document paths kept).
        source=Work.Source.ARCHIVE,
        import_report={
            "via": "fingerprints",
            "taken": [{"path": item.path, "size": item.size_bytes} for item in documents],
            "skipped": skipped,
            "counts": {"taken": len(documents), "skipped": len(skipped)},
        },
    )
    Location.objects.bulk_create(
        Location(work=work, kind=k, url=url, normalised=n) for k, url, n in services._locations(locations)
    )
    now = timezone.now()
    Document.objects.bulk_create(
        Document(
            work=work,
            path=item.path,
            language=fp.language or "",
            size_bytes=item.size_bytes,
            text=None,
            pending_text=None,
            state=Document.State.READY,
            fingerprint=fp.to_bytes(),
            exact_hash=fp.exact_hash,
            num_lines=fp.num_lines,
            num_tokens=fp.num_tokens,
            fingerprinted_at=now,
        )
        for item, fp in checked
    )
    if preferences:
        preference_set(owner=owner, work=work, values=preferences, note="at registration")
    return work
