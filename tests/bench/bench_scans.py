"""Benchmark of batch scans: samples per second with one and with two real Celery workers.

    python -m tests.bench.bench_scans                       # 100,000 samples against 100,000 documents
    python -m tests.bench.bench_scans --samples 5000 --registry 5000   # a smoke run
    python -m tests.bench.bench_scans --json                # one JSON object on stdout instead of a table

What it does, in order:

1. **Servers.** PostgreSQL and Redis on loopback, started the way `.ci/run` starts them if they
   are not answering. The benchmark makes its own database (``registry_bench`` by default,
   dropped and created again, then migrated) and uses its own Redis database number and queue,
   so it never touches the development or test data.
2. **Registry.** ``--registry`` documents of real code nobody on this project wrote (the Python
   standard library and site-packages, C headers, JavaScript of installed packages; see
   :mod:`tests.bench.corpus`), each file split into file-sized documents of at most 60 lines.
   Registering them one by one through ``work_register`` and a fingerprint task each would take
   hours, so they are fingerprinted in-process with the engine (``registry.engine``, the same
   function the fingerprint task calls; one process per core) and written with ``bulk_create``
   as ready documents of 100 works -- exactly the rows the task would have written.
3. **Samples.** ``--samples`` generated-like samples of 10-60 lines, with a language, as a model's
   output would come in a JSONL file: a tenth are windows of registered documents edited the way
   generated code differs (identifiers renamed, a line dropped, a comment added), the rest are
   windows of files that are not registered.
4. **Runs.** For 1 and then 2 workers: start that many ``celery -A registry worker -c 1 --pool
   prefork`` processes (one process each, so the count of workers is the count of cores used),
   warm them up with a small job (each worker loads the registry's fingerprints into its matcher
   once: that one-time cost is reported as ``warmup_s`` and excluded), then create the measured
   job through the scans service and wait for it to finish. Samples per second is
   ``total / (finished_at - started_at)`` of that job, as the job page and the API report it.

Targets: >= 1,000 samples/s per worker, and 2 workers >= 1.8x one. Nothing here asserts on
timings; ``tests/bench/test_bench_scans_smoke.py`` runs it tiny and checks the report's keys.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.bench import seeding
from tests.bench.seeding import Doc, create_database, ensure_servers, load_corpus, register

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/registry_bench"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/9"
QUEUE = "registry-bench"
DOC_LINES = 60  # the longest registered document, in lines: a small file of a repository
COPIED_FRACTION = 0.1
TARGETS = {"samples_per_s_per_worker": ">= 1000", "speedup_2_vs_1": ">= 1.8"}


def log(message: str) -> None:
    seeding.log(message, prog="bench_scans")


def setup_django(database_url: str, broker_url: str) -> None:
    seeding.setup_django(database_url, CELERY_BROKER_URL=broker_url)
    from registry.celery import app

    # Every task this process sends goes to the benchmark's queue, which only its workers read.
    app.conf.task_default_queue = QUEUE
    app.conf.task_always_eager = False


# --- 3. Samples ---------------------------------------------------------------------------------

_IDENT = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]{3,}\b")


def _edit(rng: random.Random, text: str) -> str:
    """Generated code rarely copies verbatim: rename identifiers, drop a line, add a comment."""
    names = sorted(set(_IDENT.findall(text)))
    for old in rng.sample(names, min(len(names), rng.randint(1, 3))):
        text = re.sub(rf"\b{re.escape(old)}\b", old + "_x", text)
    lines = text.splitlines()
    if len(lines) > 12:
        del lines[rng.randrange(len(lines))]
    lines.insert(rng.randrange(len(lines) + 1), "# generated")
    return "\n".join(lines)


def make_samples(n: int, registered: list[Doc], unregistered: list[Doc], seed: int) -> list[dict]:
    rng = random.Random(seed + 1)
    long_registered = [d for d in registered if d.text.count("\n") >= 20] or registered
    samples = []
    for i in range(n):
        if rng.random() < COPIED_FRACTION:
            doc = rng.choice(long_registered)
            text = _edit(rng, seeding.window(rng, doc.text, 20, 60))
        else:
            doc = rng.choice(unregistered)
            text = seeding.window(rng, doc.text, 10, 60)
        samples.append({"id": f"sample-{i}", "text": text, "language": doc.language or ""})
    return samples


# --- 4. Workers and jobs ------------------------------------------------------------------------


class Workers:
    """`count` worker processes (-c 1 each) on the benchmark's queue, with their logs."""

    def __init__(self, count: int, *, database_url: str, broker_url: str, log_dir: Path):
        self.count = count
        self.nodes = [f"bench{i}-{os.getpid()}@{platform.node()}" for i in range(count)]
        self.logs = [log_dir / f"worker-{count}-{i}.log" for i in range(count)]
        self.environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "WARNING",
        }
        self.processes: list[subprocess.Popen] = []

    def start(self) -> float:
        """Start the workers and wait until every one answers a ping; returns the seconds taken."""
        from registry.celery import app

        started = time.perf_counter()
        for i, (node, log_path) in enumerate(zip(self.nodes, self.logs, strict=True)):
            command = [
                sys.executable, "-m", "celery", "-A", "registry", "worker",
                "--pool", "prefork", "-c", "1", "-l", "info", "-n", node, "-Q", QUEUE,
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ]  # fmt: skip
            if i == 0:
                command.append("--purge")  # messages left by an interrupted run
            with log_path.open("wb") as out:
                self.processes.append(
                    subprocess.Popen(
                        command,
                        cwd=ROOT,
                        env=self.environment,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        start_new_session=True,
                    )  # fmt: skip
                )
        deadline = time.monotonic() + 120
        waiting = set(self.nodes)
        while waiting:
            for process, log_path in zip(self.processes, self.logs, strict=True):
                if process.poll() is not None:
                    raise SystemExit(f"bench_scans: a worker exited:\n{log_path.read_text()[-3000:]}")
            replies = app.control.ping(destination=sorted(waiting), timeout=0.5) or []
            for reply in replies:
                waiting -= set(reply)
            if time.monotonic() > deadline:
                raise SystemExit(f"bench_scans: workers {sorted(waiting)} did not answer within 120 s")
        return time.perf_counter() - started

    def chunks_done_per_worker(self) -> list[int]:
        return [
            len(re.findall(r"scan_chunk\[[^]]+\] succeeded in", p.read_text(errors="replace")))
            for p in self.logs
        ]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes = []


def run_job(owner, samples: list[dict], *, chunk_size: int, name: str, timeout: float) -> dict:
    """Create a job through the scans service, wait until it ends; its timings and counters."""
    from django.conf import settings

    from registry.scans import intake, services
    from registry.scans.models import ScanJob, ScanResult

    settings.REGISTRY["SCAN_CHUNK_SIZE"] = chunk_size
    started = time.perf_counter()
    job = services.scan_create(intake=intake.read_samples(samples), owner=owner, name=name)
    intake_s = time.perf_counter() - started
    deadline = time.monotonic() + timeout
    while True:
        job = ScanJob.objects.get(pk=job.pk)
        if job.status not in ScanJob.ACTIVE:
            break
        if time.monotonic() > deadline:
            raise SystemExit(
                f"bench_scans: job {name} did not finish within {timeout:.0f} s ({job.done} done)"
            )
        time.sleep(0.2)
    wall_s = time.perf_counter() - started - intake_s
    if job.status != ScanJob.Status.FINISHED:
        raise SystemExit(f"bench_scans: job {name} ended {job.status}: {job.error}")
    scan_s = (job.finished_at - job.started_at).total_seconds()
    results = ScanResult.objects.filter(job=job)
    return {
        "total": job.total,
        "done": job.done,
        "failed": job.failed,
        "matched": job.matched,
        "results_stored": results.count(),
        "chunks": job.chunks.count(),
        "intake_s": round(intake_s, 2),
        "scan_s": round(scan_s, 2),
        "wall_s": round(wall_s, 2),
        "samples_per_s": round(job.total / scan_s, 1) if scan_s > 0 else None,
    }


def measure(
    workers_count: int, *, owner, samples, warmup_samples, chunk_size, database_url, broker_url, log_dir
) -> dict:
    workers = Workers(workers_count, database_url=database_url, broker_url=broker_url, log_dir=log_dir)
    try:
        start_s = workers.start()
        # Warm-up: each worker loads the registry into its matcher on its first chunk. Small
        # chunks, two per worker, so every worker gets one; repeated until each has done one.
        warm_started = time.perf_counter()
        warmups = 0
        while min(workers.chunks_done_per_worker()) == 0 and warmups < 5:
            warmups += 1
            run_job(owner, warmup_samples, chunk_size=max(1, len(warmup_samples) // (2 * workers_count)),
                    name=f"warm-up {workers_count}/{warmups}", timeout=1800)  # fmt: skip
        warmup_s = time.perf_counter() - warm_started
        before = workers.chunks_done_per_worker()
        job = run_job(owner, samples, chunk_size=chunk_size, name=f"bench {workers_count}", timeout=7200)
        after = workers.chunks_done_per_worker()
    finally:
        workers.stop()
    job.update(
        workers=workers_count,
        worker_start_s=round(start_s, 2),
        warmup_s=round(warmup_s, 2),
        chunks_per_worker=[b - a for a, b in zip(before, after, strict=True)],
        samples_per_s_per_worker=(
            round(job["samples_per_s"] / workers_count, 1) if job["samples_per_s"] else None
        ),
    )
    return job


# --- Report -------------------------------------------------------------------------------------


def table(report: dict) -> str:
    rows = [
        ("registry documents", report["registry"]["documents"]),
        ("registering", f"{report['registry']['fingerprint_s']} s fingerprints + "
                        f"{report['registry']['insert_s']} s insert ({report['registry']['method']})"),
        ("samples", f"{report['samples']['count']} ({report['samples']['copied']} copied and edited)"),
    ]  # fmt: skip
    for key in ("one_worker", "two_workers"):
        run = report[key]
        rows += [
            (f"{run['workers']} worker(s): samples/s", f"{run['samples_per_s']} "
             f"({run['samples_per_s_per_worker']} per worker; target {TARGETS['samples_per_s_per_worker']})"),
            (f"{run['workers']} worker(s): scan / warm-up / intake",
             f"{run['scan_s']} s / {run['warmup_s']} s / {run['intake_s']} s"),
            (f"{run['workers']} worker(s): matched / failed", f"{run['matched']} / {run['failed']}"),
            (f"{run['workers']} worker(s): chunks per worker", run["chunks_per_worker"]),
        ]  # fmt: skip
    rows.append(("2 workers / 1 worker", f"{report['speedup_2_vs_1']}x (target {TARGETS['speedup_2_vs_1']})"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.bench_scans", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--samples", type=int, default=100_000, help="samples in the measured job")
    parser.add_argument("--registry", type=int, default=100_000, help="registered documents")
    parser.add_argument("--chunk-size", type=int, default=None,
                        help="samples per chunk (default: the setting, at most samples/40)")  # fmt: skip
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--broker-url", default=os.environ.get("BENCH_BROKER_URL", DEFAULT_BROKER_URL))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-database", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    if args.samples < 1 or args.registry < 1:
        parser.error("--samples and --registry must be at least 1")

    ensure_servers(args.database_url, args.broker_url)
    create_database(args.database_url)
    setup_django(args.database_url, args.broker_url)
    from django.conf import settings
    from django.contrib.auth import get_user_model

    log_dir = Path(settings.VAR_DIR) / "bench_scans"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    try:
        log("reading the corpus")
        registered, unregistered = load_corpus(args.registry, args.seed)
        log(f"registering {len(registered)} documents")
        registry = register(registered, processes=os.cpu_count() or 1)
        samples = make_samples(args.samples, registered, unregistered, args.seed)
        warmup_samples = make_samples(40, registered, unregistered, args.seed + 7)
        builder = get_user_model().objects.create_user(
            email="bench-builder@example.org", password=None, public_name=""
        )
        chunk_size = args.chunk_size or max(
            1, min(settings.REGISTRY["SCAN_CHUNK_SIZE"], math.ceil(args.samples / 40))
        )
        runs = {}
        for count, key in ((1, "one_worker"), (2, "two_workers")):
            log(f"scanning {len(samples)} samples with {count} worker(s), {chunk_size} per chunk")
            runs[key] = measure(
                count, owner=builder, samples=samples, warmup_samples=warmup_samples, chunk_size=chunk_size,
                database_url=args.database_url, broker_url=args.broker_url, log_dir=log_dir,
            )  # fmt: skip
            log(f"{count} worker(s): {runs[key]['samples_per_s']} samples/s")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep_database:
            try:
                create_database(args.database_url)  # leaves an empty database, not 100k rows
            except Exception as exc:  # noqa: BLE001 - cleanup must not hide the real error
                log(f"could not empty the benchmark database: {exc}")

    one, two = runs["one_worker"]["samples_per_s"], runs["two_workers"]["samples_per_s"]
    report = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "registry": registry,
        "samples": {
            "count": len(samples),
            "copied": sum(1 for s in samples if "# generated" in s["text"]),
            "chunk_size": chunk_size,
            "mean_lines": round(sum(s["text"].count("\n") + 1 for s in samples) / len(samples), 1),
        },
        "one_worker": runs["one_worker"],
        "two_workers": runs["two_workers"],
        "speedup_2_vs_1": round(two / one, 2) if one and two else None,
        "targets": TARGETS,
    }
    report["meets_targets"] = {
        "samples_per_s_per_worker": bool(
            one and runs["one_worker"]["samples_per_s_per_worker"] >= 1000
            and runs["two_workers"]["samples_per_s_per_worker"] >= 1000
        ),
        "speedup_2_vs_1": bool(report["speedup_2_vs_1"] and report["speedup_2_vs_1"] >= 1.8),
    }  # fmt: skip
    print(json.dumps(report, indent=2) if args.json else table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
