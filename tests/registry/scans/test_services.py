"""Scan jobs end to end through the services: results per sample, counters, cancel, resume."""

from __future__ import annotations

import pytest

from registry.scans import services
from registry.scans.models import ScanChunk, ScanHit, ScanJob, ScanResult

from .conftest import PROSE, TEXTWRAP, TEXTWRAP_SNIPPET, UNRELATED, UNRELATED_CODE, samples_intake


def test_a_job_over_copies_snippets_and_unrelated_samples_finishes_with_per_sample_results(
    carol, alice_code, alice_prose, scan, small_chunks
):
    job = scan(
        samples_intake(
            {"id": "whole-copy", "text": TEXTWRAP, "language": "python"},
            {
                "id": "snippet",
                "text": "import os\n\n" + TEXTWRAP_SNIPPET + "\nprint('done')\n",
                "language": "python",
            },
            {"id": "prose-copy", "text": PROSE, "language": "text"},
            {"id": "unrelated-prose", "text": UNRELATED},
            {"id": "unrelated-code", "text": UNRELATED_CODE, "language": "python"},
        ),
        owner=carol,
    )

    assert job.status == ScanJob.Status.FINISHED
    assert (job.total, job.done, job.failed, job.matched) == (5, 5, 0, 3)
    assert job.finished_at is not None and job.started_at is not None
    assert job.chunks.count() == 3 and not job.chunks.filter(status="pending").exists()
    results = {r.sample_id: r for r in ScanResult.objects.filter(job=job)}
    whole = results["whole-copy"].matches[0]
    assert whole["work"] == alice_code.public_id
    assert whole["kind"] == "whole"
    assert whole["title"] == "Text wrapping"
    assert whole["owner"] == "Alice Example"
    assert whole["licence"] == "PSF-2.0"
    assert whole["attribution"] == "textwrap by Alice Example"
    assert whole["verified"] >= 0.7 and 0 <= whole["estimated"] <= 1
    snippet = results["snippet"].matches[0]
    assert snippet["work"] == alice_code.public_id and snippet["kind"] == "snippet"
    [(start, end)] = snippet["sample_lines"][:1]
    assert start >= 2 and end <= TEXTWRAP_SNIPPET.count("\n") + 4
    assert results["prose-copy"].matches[0]["work"] == alice_prose.public_id
    assert not results["unrelated-prose"].matched and results["unrelated-prose"].matches == []
    assert not results["unrelated-code"].matched
    assert ScanHit.objects.filter(job=job).count() == 3


def test_registered_lines_are_given_only_when_the_text_is_kept_and_public(carol, alice_code, scan):
    job = scan(samples_intake({"id": "a", "text": TEXTWRAP, "language": "python"}), owner=carol)
    [match] = ScanResult.objects.get(job=job).matches
    assert "doc_lines" not in match and "document" not in match

    alice_code.text_public = True
    alice_code.save()
    job = scan(samples_intake({"id": "a", "text": TEXTWRAP, "language": "python"}), owner=carol)
    [match] = ScanResult.objects.get(job=job).matches
    assert match["doc_lines"] and match["document"] == "textwrap.py"

    alice_code.storage = "fingerprints"  # public, but the text is not kept: no lines
    alice_code.save()
    job = scan(samples_intake({"id": "a", "text": TEXTWRAP, "language": "python"}), owner=carol)
    [match] = ScanResult.objects.get(job=job).matches
    assert "doc_lines" not in match


def test_running_the_same_chunk_twice_writes_its_results_once(carol, alice_prose, scan):
    job = scan(samples_intake({"id": "a", "text": PROSE}, {"id": "b", "text": UNRELATED}), owner=carol)
    chunk = job.chunks.get()

    assert services.chunk_process(chunk_id=chunk.pk) == "already-done"
    # Even a worker that computed results before the first write committed writes nothing.
    results = services.match_samples([{"id": "a", "text": PROSE, "language": None}], first_index=0)
    assert services.chunk_write_results(chunk_id=chunk.pk, results=results) == "already-done"

    job.refresh_from_db()
    assert ScanResult.objects.filter(job=job).count() == 2
    assert (job.done, job.matched) == (2, 1)


def test_a_chunk_whose_transaction_fails_part_way_leaves_nothing_and_a_rerun_completes_it(
    carol, alice_prose, monkeypatch, django_capture_on_commit_callbacks
):
    from registry.scans import intake

    def explode(rows):
        from registry.scans.models import ScanResult as Row

        Row.objects.bulk_create(rows[:1])  # half-written...
        raise RuntimeError("the worker died")  # ...then the transaction is lost

    with django_capture_on_commit_callbacks(execute=False):
        job = services.scan_create(
            intake=intake.read_samples([{"id": "a", "text": PROSE}, {"id": "b", "text": UNRELATED}]),
            owner=carol,
        )
    chunk = job.chunks.get()
    monkeypatch.setattr(services, "_results_create", explode)
    with pytest.raises(RuntimeError):
        services.chunk_process(chunk_id=chunk.pk)

    chunk.refresh_from_db()
    job.refresh_from_db()
    assert chunk.status == ScanChunk.Status.PENDING
    assert not ScanResult.objects.filter(job=job).exists()
    assert (job.done, job.matched) == (0, 0)

    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.chunk_process(chunk_id=chunk.pk) == "done"
    job.refresh_from_db()
    chunk.refresh_from_db()
    assert chunk.status == ScanChunk.Status.DONE and chunk.attempts == 2
    assert (job.status, job.done, job.matched) == ("finished", 2, 1)


def test_cancel_stops_the_remaining_chunks(
    carol, alice_prose, small_chunks, django_capture_on_commit_callbacks
):
    from registry.scans import intake

    with django_capture_on_commit_callbacks(execute=False):
        job = services.scan_create(
            intake=intake.read_samples([{"id": str(i), "text": PROSE} for i in range(6)]), owner=carol
        )
    first, *rest = job.chunks.order_by("index")
    services.chunk_process(chunk_id=first.pk)

    assert services.scan_cancel(job=job) is True
    assert [services.chunk_process(chunk_id=c.pk) for c in rest] == ["skipped", "skipped"]

    job.refresh_from_db()
    assert job.status == ScanJob.Status.CANCELLED and job.finished_at is not None
    assert (job.total, job.done) == (6, 2)
    assert services.scan_cancel(job=job) is False  # already ended


def test_a_failing_sample_is_recorded_with_its_reason_and_the_job_finishes(
    carol, alice_prose, scan, settings
):
    settings.REGISTRY = {**settings.REGISTRY, "MAX_FILE_BYTES": 2000}
    job = scan(
        samples_intake(
            {"id": "binary", "text": "abc\x00\x01\x02"},
            {"id": "huge", "text": "word " * 1000},
            {"id": "empty", "text": "   "},
            {"id": "fine", "text": PROSE},
        ),
        owner=carol,
    )
    assert (job.status, job.done, job.failed, job.matched) == ("finished", 4, 3, 1)
    errors = dict(ScanResult.objects.filter(job=job, status="failed").values_list("sample_id", "error"))
    assert "binary" in errors["binary"]
    assert "the limit per sample is 2 KB" in errors["huge"]
    assert "empty" in errors["empty"]


def test_a_sample_that_breaks_the_engine_fails_alone(carol, alice_prose, scan, monkeypatch):
    from registry import engine

    real = engine.find_matches_batch

    def fragile(queries):
        if any("poison" in q.text for q in queries):
            raise ValueError("the tokenizer choked")
        return real(queries)

    monkeypatch.setattr(engine, "find_matches_batch", fragile)
    job = scan(
        samples_intake({"id": "bad", "text": "poison pill"}, {"id": "good", "text": PROSE}), owner=carol
    )
    assert (job.status, job.failed, job.matched) == ("finished", 1, 1)
    assert ScanResult.objects.get(job=job, sample_id="bad").error == "the engine could not read this sample"


def test_resume_re_enqueues_the_pending_chunks_of_running_jobs(
    carol, alice_prose, small_chunks, django_capture_on_commit_callbacks
):
    from registry.scans import intake

    with django_capture_on_commit_callbacks(execute=False):  # as if the broker lost the messages
        job = services.scan_create(
            intake=intake.read_samples([{"id": str(i), "text": PROSE} for i in range(5)]), owner=carol
        )
    services.chunk_process(chunk_id=job.chunks.get(index=0).pk)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.scan_resume() == 2
    job.refresh_from_db()
    assert (job.status, job.done, job.matched) == ("finished", 5, 5)
    assert ScanResult.objects.filter(job=job).count() == 5
    assert services.scan_resume() == 0


def test_beat_re_sends_only_jobs_that_stopped_moving(
    carol, alice_prose, small_chunks, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from registry.scans import intake

    def lost_job():  # a job whose chunk messages the broker lost
        with django_capture_on_commit_callbacks(execute=False):
            return services.scan_create(
                intake=intake.read_samples([{"id": str(i), "text": PROSE} for i in range(4)]), owner=carol
            )

    stalled, moving, young = lost_job(), lost_job(), lost_job()
    long_ago = timezone.now() - timedelta(hours=1)
    ScanJob.objects.filter(pk__in=[stalled.pk, moving.pk]).update(created_at=long_ago)
    services.chunk_process(chunk_id=stalled.chunks.get(index=0).pk)
    ScanChunk.objects.filter(job=stalled, index=0).update(done_at=long_ago)  # its last progress
    services.chunk_process(chunk_id=moving.chunks.get(index=0).pk)  # progress just now

    with django_capture_on_commit_callbacks(execute=True):
        assert services.scan_resume_stalled(idle_seconds=600) == 1  # stalled's one pending chunk
    assert [
        j.status for j in ScanJob.objects.filter(pk__in=[stalled.pk, moving.pk, young.pk]).order_by("pk")
    ] == [
        "finished",
        "running",
        "queued",
    ]
    assert ScanResult.objects.filter(job=stalled).count() == 4
    with django_capture_on_commit_callbacks(execute=True):
        assert services.scan_resume_stalled(idle_seconds=600) == 0  # safe to run again


def test_celery_beat_runs_the_stalled_scan_resume(settings):
    from registry.celery import app
    from registry.scans import tasks

    [entry] = [
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == tasks.resume_stalled_scans.name
    ]
    assert entry["schedule"] > 0 and tasks.resume_stalled_scans.name in app.tasks


def test_a_job_belongs_to_an_owner_or_an_organisation(db):
    from registry.scans import intake

    with pytest.raises(ValueError, match="owner or an organisation"):
        services.scan_create(intake=intake.read_samples([{"text": "x"}]))
