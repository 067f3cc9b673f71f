"""Celery beat re-sends the chunks of a scan job whose messages the broker lost.

A real `celery -A registry beat` process (with a one-second schedule) and the session's real
worker (tests/conftest.py): the job's chunk tasks are never sent, as after a Redis restart
without persistence, and the job must still finish with every sample scanned once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from registry.scans import intake, services, tasks
from registry.scans.models import ScanJob, ScanResult
from tests.conftest import BASE_DIR, _database_url_for, _stop, wait_for

from .conftest import PROSE

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def beat(celery_worker, tmp_path):
    """Start beat on the session worker's queue, re-sending jobs idle for a second, every second."""
    from django.db import connections

    from registry.celery import app

    started = []

    def start() -> subprocess.Popen:
        environment = {
            **os.environ,
            "DATABASE_URL": _database_url_for(connections["default"].settings_dict["NAME"]),
            "CELERY_TASK_DEFAULT_QUEUE": app.conf.task_default_queue,
            "REGISTRY_RESUME_SCANS_SECONDS": "1",
            "REGISTRY_RESUME_SCANS_IDLE_SECONDS": "1",
            "PYTHONUNBUFFERED": "1",
        }
        environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        command = [
            sys.executable, "-m", "celery", "-A", "registry", "beat", "-l", "info",
            "--schedule", str(tmp_path / "celerybeat-schedule"),
        ]  # fmt: skip
        with (tmp_path / "beat.log").open("wb") as log:
            process = subprocess.Popen(
                command, cwd=BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        started.append(process)
        return process

    yield start
    for process in started:
        _stop(process)


@pytest.fixture
def alices_prose(alice):
    """alice's prose work, fingerprinted in this process (tasks eager for the registration only)."""
    from registry.celery import app
    from registry.works import services as works

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        works.work_register(
            owner=alice, title="The lighthouse ledger", kind="prose", source="text",
            prepared=works.prepare_text(text=PROSE, name="text"), licence="CC-BY-4.0",
        )  # fmt: skip
    finally:
        app.conf.task_always_eager = eager


def test_beat_finishes_a_job_whose_chunk_messages_were_lost(carol, alices_prose, settings, monkeypatch, beat):
    settings.REGISTRY = {**settings.REGISTRY, "SCAN_CHUNK_SIZE": 3}
    sent = []
    monkeypatch.setattr(tasks.scan_chunk, "delay", lambda *args: sent.append(args))  # the broker "loses" them
    job = services.scan_create(
        intake=intake.read_samples([{"id": str(i), "text": PROSE} for i in range(10)]), owner=carol
    )
    monkeypatch.undo()
    assert len(sent) == 4  # four chunks were "sent" and lost
    ScanJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=5))

    beat()
    wait_for(
        lambda: ScanJob.objects.get(pk=job.pk).status == ScanJob.Status.FINISHED,
        timeout=60,
        what="beat and the worker to finish the stalled job",
    )
    job.refresh_from_db()
    assert (job.done, job.matched) == (10, 10)
    per_sample = ScanResult.objects.filter(job=job).values("sample_index").annotate(n=Count("id"))
    assert sorted((r["sample_index"], r["n"]) for r in per_sample) == [(i, 1) for i in range(10)]
