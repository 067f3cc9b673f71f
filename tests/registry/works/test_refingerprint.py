"""After the engine's parameters change, `refingerprint` brings stored fingerprints up to date,
so registered works keep matching (the matcher skips fingerprints made with other parameters)."""

from __future__ import annotations

import io

from django.core.management import call_command

from dedup import EngineConfig
from dedup.fingerprint import fingerprint
from registry import engine
from registry.works import services
from registry.works.models import Document
from tests.factories import DocumentFactory
from tests.registry.works.conftest import PROSE


def _ready_with_old_fingerprint(**fields) -> Document:
    """A ready document fingerprinted with another seed, as an older configuration made it."""
    doc = DocumentFactory(**{"text": PROSE, **fields})
    old = fingerprint(PROSE, kind="prose", config=EngineConfig(seed=12345))
    Document.objects.filter(pk=doc.pk).update(
        state=Document.State.READY, fingerprint=old.to_bytes(), exact_hash=old.exact_hash
    )
    return doc


def _refingerprint() -> str:
    out = io.StringIO()
    call_command("refingerprint", stdout=out)
    return out.getvalue()


def test_a_kept_text_is_fingerprinted_again_and_found_by_lookup(db):
    doc = _ready_with_old_fingerprint()
    assert engine.find_matches(PROSE, kind="prose") == []  # skipped: other parameters

    assert "1 fingerprinted again, 0 could not be" in _refingerprint()

    doc.refresh_from_db()
    assert doc.state == Document.State.READY
    stored = engine.fingerprint_from_bytes(bytes(doc.fingerprint))
    assert engine.fingerprint_params(stored) == engine.expected_fingerprint_params("prose")
    engine.reset_matcher_cache()
    assert [m.document_id for m in engine.find_matches(PROSE, kind="prose")] == [doc.pk]


def test_a_fingerprints_only_document_is_marked_failed_with_a_reason_the_author_sees(db):
    doc = _ready_with_old_fingerprint(text=None, work__storage="fingerprints")

    assert "0 fingerprinted again, 1 could not be" in _refingerprint()

    doc.refresh_from_db()
    assert doc.state == Document.State.FAILED
    assert "register it again" in doc.error


def test_refingerprinting_twice_changes_nothing_the_second_time(db):
    _ready_with_old_fingerprint()
    _refingerprint()
    report = services.documents_refingerprint_stale()
    assert (report.checked, report.refingerprinted, report.failed) == (1, 0, 0)
