"""The filter load benchmark runs end to end on a tiny registry and reports every figure.

Server pass only (marked `worker`): it needs PostgreSQL and Redis, and starts gunicorn. Nothing
here asserts on timings -- they belong in the report -- only on the report's shape and on the
server never answering with a 5xx.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.worker

LOAD_KEYS = {
    "requests", "ok", "errors", "server_errors", "client_errors", "no_answer", "wall_s",
    "p50_ms", "p95_ms", "p99_ms", "max_ms", "batches_per_s", "documents_per_s", "decisions",
}  # fmt: skip


def _url_with_database(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=path))


@pytest.fixture(scope="module")
def report() -> dict:
    # Its own database (never the suite's, nor the full benchmark's kept registry).
    database_url = _url_with_database(os.environ["DATABASE_URL"], "/registry_loadbench_smoke")
    cache_url = _url_with_database(os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"), "/8")
    done = subprocess.run(
        [
            sys.executable, "-m", "tests.bench.bench_filter_load", "--json",
            "--docs", "500", "--seconds", "3", "--clients", "2", "--pool", "300",
            "--database-url", database_url, "--cache-url", cache_url,
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_the_tiny_run_reports_latency_throughput_errors_and_memory(report):
    assert LOAD_KEYS <= set(report["load"])
    assert report["load"]["requests"] > 0
    assert report["registry"]["documents"] > 0
    assert {"warmup_s", "matcher_load_s_per_worker", "memory"} <= set(report["server"])
    assert len(report["server"]["memory"]["worker_rss_mb"]) == report["server"]["workers"]
    assert set(report["meets_targets"]) == {"p99_ms", "errors", "server_errors"}


def test_the_run_reports_the_cpu_time_per_batch_of_the_workers_and_the_database(report):
    cpu = report["load"]["cpu_ms_per_batch"]
    # The workers fingerprint and match every batch: they cannot have used no CPU at all.
    assert set(cpu) == {"workers", "database"} and cpu["workers"] > 0
    assert cpu["database"] >= 0


def test_the_server_never_answers_with_a_server_error(report):
    assert report["load"]["server_errors"] == 0
    assert report["load"]["errors"] == 0, report["load"]["error_samples"]


def test_every_document_gets_a_decision(report):
    decisions = report["load"]["decisions"]
    assert set(decisions) <= {"allow", "attribute", "exclude"}
    assert sum(decisions.values()) == report["load"]["ok"] * report["batch"]
