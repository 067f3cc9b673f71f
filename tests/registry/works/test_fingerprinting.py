"""Fingerprinting in the background: ready, failed with a reason, idempotent."""

from __future__ import annotations

import pytest

from registry import engine
from registry.works import services
from registry.works.models import Document, Work
from registry.works.selectors import work_state
from registry.works.tasks import fingerprint_document
from tests.conftest import wait_for
from tests.factories import DocumentFactory, WorkFactory
from tests.registry.works.conftest import PROSE


def test_a_registered_work_becomes_ready(alice, register):
    register(title="Ledger", text=PROSE)
    work = Work.objects.get(owner=alice)
    assert work_state(work) == ("ready", [])


def test_the_task_is_not_sent_before_the_registration_commits(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.work_register(
            owner=alice, title="L", kind="prose", source="text", prepared=services.prepare_text(text=PROSE)
        )
    assert len(callbacks) == 1
    assert Document.objects.get().state == "pending"


def test_a_document_the_engine_cannot_fingerprint_fails_with_the_reason(alice, monkeypatch):
    doc = DocumentFactory(work=WorkFactory(owner=alice), text=PROSE)

    def explode(text, kind, language):
        raise ValueError("the tokenizer choked on line 3")

    monkeypatch.setattr(engine, "fingerprint_document_text", explode)
    assert fingerprint_document.delay(doc.pk).get() == "failed"
    doc.refresh_from_db()
    assert doc.state == "failed"
    assert doc.error == "The engine could not fingerprint this document: the tokenizer choked on line 3"
    state, reasons = work_state(doc.work)
    assert state == "failed" and reasons == [f"{doc.path}: {doc.error}"]


def test_running_the_task_twice_is_a_no_op_the_second_time(alice, monkeypatch):
    doc = DocumentFactory(work=WorkFactory(owner=alice), text=PROSE)
    assert fingerprint_document(doc.pk) == "ready"
    doc.refresh_from_db()
    first = (bytes(doc.fingerprint), doc.fingerprinted_at)

    def must_not_run(*args, **kwargs):
        raise AssertionError("a ready document was fingerprinted again")

    monkeypatch.setattr(engine, "fingerprint_document_text", must_not_run)
    assert fingerprint_document(doc.pk) == "ready"
    doc.refresh_from_db()
    assert (bytes(doc.fingerprint), doc.fingerprinted_at) == first


def test_the_task_for_a_deleted_document_does_nothing(db):
    assert fingerprint_document(123456) == "gone"


def test_fingerprints_only_text_is_cleared_in_the_same_update_that_stores_the_fingerprint(alice):
    doc = DocumentFactory(
        work=WorkFactory(owner=alice, storage="fingerprints"), text=None, pending_text=PROSE
    )
    fingerprint_document(doc.pk)
    doc.refresh_from_db()
    assert doc.state == "ready" and doc.fingerprint and doc.pending_text is None and doc.text is None


def test_fingerprints_only_text_is_dropped_even_when_fingerprinting_fails(alice, monkeypatch):
    doc = DocumentFactory(
        work=WorkFactory(owner=alice, storage="fingerprints"), text=None, pending_text=PROSE
    )
    monkeypatch.setattr(engine, "fingerprint_document_text", lambda *a: 1 / 0)
    fingerprint_document(doc.pk)
    doc.refresh_from_db()
    assert doc.state == "failed" and doc.pending_text is None


@pytest.mark.worker
def test_a_real_worker_fingerprints_a_registered_work_and_lookups_see_it(
    transactional_db, celery_worker, alice
):
    work = services.work_register(
        owner=alice,
        title="Ledger",
        kind="prose",
        source="text",
        prepared=services.prepare_text(text=PROSE),
        storage="fingerprints",
    )
    wait_for(lambda: work_state(work)[0] == "ready", what="the worker to fingerprint the document")
    doc = work.documents.get()
    assert doc.pending_text is None and doc.fingerprint
    # The worker is another process: this process's matcher cache learns of it by its version check.
    assert [hit.work_id for hit in engine.find_matches(PROSE)] == [work.pk]
