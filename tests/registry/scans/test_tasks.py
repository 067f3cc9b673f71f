"""The tasks: chunk task options and idempotency, authors' found counts and their opt-in email."""

from __future__ import annotations

from django.urls import reverse

from registry.scans import selectors, services, tasks
from registry.scans.models import ScanResult

from .conftest import PROSE, TEXTWRAP, UNRELATED, samples_intake


def test_the_chunk_task_survives_a_lost_worker_and_is_bounded_in_time():
    task = tasks.scan_chunk
    assert task.acks_late and task.reject_on_worker_lost
    assert task.time_limit and task.soft_time_limit < task.time_limit


def test_running_the_chunk_task_twice_writes_results_once(carol, alice_prose, scan):
    job = scan(samples_intake({"id": "a", "text": PROSE}), owner=carol)
    chunk = job.chunks.get()
    assert tasks.scan_chunk.delay(chunk.pk).get() == "already-done"
    assert ScanResult.objects.filter(job=job).count() == 1


def test_the_resume_task_sends_nothing_when_every_job_is_done(carol, alice_prose, scan):
    scan(samples_intake({"text": PROSE}), owner=carol)
    assert tasks.resume_scans.delay().get() == 0


def test_alice_sees_where_her_works_were_found_without_the_samples(
    carol, acme, alice, alice_prose, alice_code, scan
):
    scan(
        samples_intake({"id": "secret-id", "text": PROSE + "\nSECRET SAMPLE TEXT\n"}, {"text": UNRELATED}),
        organisation=acme,
    )
    scan(samples_intake({"text": PROSE}, {"text": TEXTWRAP, "language": "python"}), owner=carol)

    found = selectors.found_counts_for_author(alice)
    assert [scan["scanned_by"] for scan in found] == ["anonymous author", "Acme Data"]
    assert found[0]["samples"] == 2 and {w["title"] for w in found[0]["works"]} == {
        "Text wrapping",
        "The lighthouse ledger",
    }
    assert found[1]["works"] == [
        {
            "work": alice_prose.public_id,
            "title": "The lighthouse ledger",
            "samples": 1,
            "whole": 1,
            "snippet": 0,
        }
    ]
    assert "SECRET" not in repr(found) and "secret-id" not in repr(found)


def test_the_dashboard_shows_the_found_counts(client_alice, carol, alice_prose, scan):
    scan(samples_intake({"text": PROSE + "\nSECRET SAMPLE TEXT\n"}), owner=carol)
    html = client_alice.get(reverse("works:dashboard")).content.decode()
    assert "Where your works were found" in html and "The lighthouse ledger" in html
    assert "SECRET" not in html


def test_authors_are_not_emailed_unless_they_asked(carol, alice_prose, scan, mailoutbox):
    scan(samples_intake({"text": PROSE}), owner=carol)
    assert mailoutbox == []


def test_an_author_who_asked_gets_one_email_per_finished_job_with_counts_only(
    carol, alice, bob, alice_prose, register, scan, mailoutbox, small_chunks
):
    services.found_email_set(user=alice, enabled=True)
    services.found_email_set(user=bob, enabled=True)  # bob's works are not found: no email for him
    job = scan(
        samples_intake(*({"id": f"id-{i}", "text": PROSE + f"\nSECRET {i}\n"} for i in range(5))), owner=carol
    )

    [email] = mailoutbox
    assert email.to == [alice.email]
    assert "The lighthouse ledger" in email.body and "5 samples" in email.body
    assert "SECRET" not in email.body and "id-0" not in email.body and "lighthouse keeper" not in email.body
    job.refresh_from_db()
    assert job.authors_notified_at is not None
    assert tasks.notify_authors.delay(job.pk).get() == 0  # a redelivered task sends nothing
    assert len(mailoutbox) == 1
