"""A worker killed part-way through a chunk: the job still ends with every sample scanned once.

These tests start their OWN `celery -A registry worker` processes (not the session worker of
tests/conftest.py) on a queue of their own, because they kill one with SIGKILL -- the whole
process group, main process and pool child -- while it is in the middle of a chunk.

What makes the job finish anyway:

- Redelivery: chunk tasks are `acks_late` with `reject_on_worker_lost`, so the message of the
  chunk that was running is still unacknowledged in Redis when its worker dies. Redis hands such
  a message out again after the broker's visibility timeout; the workers here run with
  `CELERY_BROKER_VISIBILITY_TIMEOUT=2` (registry/settings.py) instead of an hour, and sweep for
  such messages every second instead of every ~100 s.
- Resume: `services.scan_resume()` re-enqueues the pending chunks of running jobs (for a broker
  that lost its messages). With both, the same chunk arrives twice or three times.

Either way a chunk's results are written in the one transaction that marks it done, and a
chunk found done is skipped, so the checks at the end -- one result per sample, no sample
missing, counters equal to the rows -- hold whatever was delivered how often.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db.models import Count

from tests.conftest import BASE_DIR, _database_url_for, _stop, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# Chunks big enough that a worker is inside one for a good while (the engine matches ~1,000+
# samples/s): with small chunks the kill could land between two chunks and prove nothing.
CHUNK_SIZE = 320
SAMPLES = 4800  # 15 chunks
VISIBILITY_TIMEOUT = 2


@pytest.fixture
def queue(request):
    """A queue only this test's workers read; the scans service sends its chunk tasks there."""
    from registry.celery import app

    name = getattr(request.config, "workerinput", {}).get("workerid", "main")
    before = app.conf.task_default_queue, app.conf.task_always_eager
    app.conf.task_default_queue = f"registry-kill-{name}"
    app.conf.task_always_eager = False
    yield app.conf.task_default_queue
    app.conf.task_default_queue, app.conf.task_always_eager = before


class Worker:
    """One worker process (-c 1) on `queue`, logging at info level so task ids can be followed."""

    def __init__(self, queue: str, log_path: Path, *, purge: bool = False):
        from django.db import connections

        self.log_path = log_path
        self.node = f"{log_path.stem}-{os.getpid()}@{os.uname().nodename}"
        environment = {
            **os.environ,
            "DATABASE_URL": _database_url_for(connections["default"].settings_dict["NAME"]),
            "CELERY_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            # a sweep for abandoned messages every second, not every ~100 s: a sweep that comes
            # before the killed message's timeout has run out is followed by another one soon
            "CELERY_BROKER_RESTORE_INTERVAL": "1",
            "CELERY_BROKER_RESTORE_THROTTLE": "1",
            "CELERY_TASK_DEFAULT_QUEUE": queue,  # what the worker sends stays on the test's queue
            "PYTHONUNBUFFERED": "1",
        }
        environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        command = [
            sys.executable, "-m", "celery", "-A", "registry", "worker",
            "--pool", "prefork", "-c", "1", "-l", "info", "-n", self.node, "-Q", queue,
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        if purge:
            command.append("--purge")
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self) -> None:
        from registry.celery import app

        def answers():
            if self.process.poll() is not None:
                pytest.fail(f"The worker exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            return app.control.ping(destination=[self.node], timeout=0.5)

        wait_for(answers, timeout=60, what=f"worker {self.node} to answer a ping")

    def kill(self) -> None:
        """SIGKILL to the whole process group: no warm shutdown, no ack, no cleanup."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def task_ids(self, event: str) -> set[str]:
        return set(re.findall(rf"scan_chunk\[([0-9a-f-]+)\] {event}", self.log()))


@pytest.fixture
def workers(tmp_path):
    started: list[Worker] = []

    def start(queue: str, name: str, **kwargs) -> Worker:
        worker = Worker(queue, tmp_path / f"{name}.log", **kwargs)
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        _stop(worker.process)


def _registered_sources() -> list[Path]:
    import bisect
    import colorsys
    import difflib
    import shlex
    import textwrap

    return [Path(m.__file__) for m in (shlex, textwrap, difflib, colorsys, bisect)]


def _unrelated_sources() -> list[Path]:
    import argparse
    import calendar
    import csv
    import heapq
    import json.decoder
    import pprint

    return [Path(m.__file__) for m in (argparse, calendar, csv, heapq, json.decoder, pprint)]


def _samples(n: int) -> list[dict]:
    """Windows of 20-40 lines: every fifth from a registered module, the rest from others."""
    registered = [p.read_text().splitlines() for p in _registered_sources()]
    unrelated = [p.read_text().splitlines() for p in _unrelated_sources()]
    samples = []
    for i in range(n):
        pool = registered if i % 5 == 0 else unrelated
        lines = pool[i % len(pool)]
        size = 20 + i % 21
        start = (i * 37) % max(1, len(lines) - size)
        samples.append({"id": f"s{i}", "text": "\n".join(lines[start : start + size]), "language": "python"})
    return samples


@pytest.fixture
def registry_with_works(alice):
    """alice's works, fingerprinted in this process (tasks eager for the registration only)."""
    from registry.celery import app
    from registry.works import services

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        for path in _registered_sources():
            services.work_register(
                owner=alice,
                title=path.stem,
                kind="code",
                source="file",
                prepared=services.prepare_file(name=path.name, data=path.read_bytes()),
                licence="MIT",
            )
    finally:
        app.conf.task_always_eager = eager


@pytest.fixture
def create_job(registry_with_works, carol, queue, settings):
    """Queue carol's job of SAMPLES samples in chunks of CHUNK_SIZE (after the worker started:
    its --purge would drop messages sent before)."""
    from registry.scans import intake, services

    settings.REGISTRY = {**settings.REGISTRY, "SCAN_CHUNK_SIZE": CHUNK_SIZE}
    return lambda: services.scan_create(
        intake=intake.read_samples(_samples(SAMPLES)), owner=carol, name="kill"
    )


def _kill_mid_chunk(worker: Worker, job) -> tuple[int, str]:
    """Let `worker` finish a few chunks, kill it inside the next; (that chunk's index, its task id)."""
    from registry.scans.models import ScanChunk

    def running_chunk():
        job.refresh_from_db()
        if job.done < 3 * CHUNK_SIZE:
            return None
        # Started (attempts bumped when a worker takes it) but not done: the worker is inside it.
        return ScanChunk.objects.filter(job=job, status="pending", attempts__gte=1).first()

    wait_for(running_chunk, timeout=120, interval=0.02, what="the worker to be inside a chunk")
    worker.kill()
    # Let the killed message's visibility timeout run out before a new worker starts (its sweeps
    # come every second, but the first one, at its start, then finds the message at once).
    time.sleep(VISIBILITY_TIMEOUT + 1)
    started_not_done = list(
        ScanChunk.objects.filter(job=job, status="pending", attempts__gte=1).values_list("index", flat=True)
    )
    job.refresh_from_db()
    assert job.status == "running" and 0 < job.done < job.total
    assert len(started_not_done) == 1, f"the kill should land inside one chunk, found {started_not_done}"
    # The killed task: received by the worker, never finished.
    unfinished = worker.task_ids("received") - worker.task_ids("succeeded")
    assert len(unfinished) == 1, worker.log()[-3000:]
    return started_not_done[0], unfinished.pop()


def _wait_finished(job, timeout: float = 180):
    def finished():
        job.refresh_from_db()
        return job.status == "finished"

    wait_for(finished, timeout=timeout, interval=0.2, what=f"job {job.public_id} to finish")


def _assert_every_sample_once(job) -> None:
    from registry.scans.models import ScanChunk, ScanResult

    job.refresh_from_db()
    results = ScanResult.objects.filter(job=job)
    assert results.count() == job.total == SAMPLES
    indexes = sorted(results.values_list("sample_index", flat=True))
    assert indexes == list(range(SAMPLES)), "every sample index exactly once"
    assert not results.values("sample_index").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert job.done == job.total
    assert job.failed == results.filter(status="failed").count()
    assert job.matched == results.filter(matched=True).count()
    assert job.matched > 0, "the samples copied from alice's works must match"
    assert set(results.values_list("sample_id", flat=True)) == {f"s{i}" for i in range(SAMPLES)}
    assert not ScanChunk.objects.filter(job=job).exclude(status="done").exists()


def test_a_chunk_killed_with_its_worker_is_redelivered_and_every_sample_is_scanned_once(
    create_job, queue, workers
):
    first = workers(queue, "first", purge=True)
    job = create_job()
    killed_index, killed_task = _kill_mid_chunk(first, job)

    second = workers(queue, "second")
    _wait_finished(job)
    # The killed message itself came back (redelivery after the visibility timeout), and the
    # second worker ran it: the job could not have finished otherwise.
    wait_for(lambda: killed_task in second.task_ids("succeeded"), timeout=120, what="the redelivered task")
    from registry.scans.models import ScanChunk

    assert ScanChunk.objects.get(job=job, index=killed_index).attempts >= 2
    _assert_every_sample_once(job)


def test_resume_and_redelivery_together_do_not_scan_a_sample_twice(create_job, queue, workers):
    from registry.scans import services
    from registry.scans.models import ScanChunk

    first = workers(queue, "first", purge=True)
    job = create_job()
    killed_index, killed_task = _kill_mid_chunk(first, job)
    pending = ScanChunk.objects.filter(job=job, status="pending").count()

    # As after a broker restart: every pending chunk of the running job is sent again, on top of
    # the messages still queued and the killed one that Redis will redeliver.
    assert services.scan_resume() == pending

    second = workers(queue, "second")
    _wait_finished(job)
    # Every resumed message (new task ids) and the redelivered original (the killed task's id)
    # ran on the second worker -- after the job had finished, most of them found their chunk
    # done. Wait for all of them so their runs happen before the checks.
    wait_for(
        lambda: killed_task in second.task_ids("succeeded") and len(second.task_ids("succeeded")) > pending,
        timeout=120,
        what="the resumed and the redelivered tasks",
    )
    _assert_every_sample_once(job)
