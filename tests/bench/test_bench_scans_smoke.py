"""The scan benchmark runs end to end, tiny, and reports every figure; no timing is asserted.

It needs PostgreSQL, Redis and real Celery workers, so it runs in the server pass only (marker
`worker`). It uses its own database (`<the pass's database>_bench_smoke`) and Redis database,
never the test database or the session worker's queue.
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

RUN_KEYS = {
    "total", "done", "failed", "matched", "results_stored", "chunks", "intake_s", "scan_s", "wall_s",
    "samples_per_s", "workers", "worker_start_s", "warmup_s", "chunks_per_worker", "samples_per_s_per_worker",
}  # fmt: skip


def _urls() -> tuple[str, str]:
    database = urlsplit(os.environ["DATABASE_URL"])
    name = database.path.lstrip("/") + "_bench_smoke"
    broker = urlsplit(os.environ["CELERY_BROKER_URL"])
    return urlunsplit(database._replace(path="/" + name)), urlunsplit(broker._replace(path="/11"))


def test_the_scan_benchmark_reports_one_and_two_workers():
    database_url, broker_url = _urls()
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.bench_scans", "--json", "--samples", "300", "--registry", "300",
         "--database-url", database_url, "--broker-url", broker_url],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)

    assert set(report) >= {"machine", "registry", "samples", "one_worker", "two_workers", "speedup_2_vs_1",
                           "targets", "meets_targets"}  # fmt: skip
    assert report["registry"]["documents"] == 300 and "bulk_create" in report["registry"]["method"]
    for key, workers in (("one_worker", 1), ("two_workers", 2)):
        run = report[key]
        assert set(run) >= RUN_KEYS
        assert run["workers"] == workers and len(run["chunks_per_worker"]) == workers
        assert run["total"] == run["done"] == run["results_stored"] == 300
    assert report["speedup_2_vs_1"] is not None
