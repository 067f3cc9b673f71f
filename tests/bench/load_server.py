"""The server side of ``bench_filter_load``: gunicorn on loopback, its workers' memory and CPU time.

Also gunicorn's configuration module (``-c python:tests.bench.load_server``) for the
``post_worker_init`` hook that loads each worker's matcher before it takes a request.

CPU time: the machine is small and shared, so wall-clock latency moves with whatever else runs.
The CPU time the workers spend per batch (utime + stime from ``/proc/<pid>/stat``, summed over
the workers, divided by the batches answered) does not wait for other work, so it is the figure
to compare between changes; latency is what the target is about.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

PROG = "bench_filter_load"
ROOT = Path(__file__).resolve().parents[2]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    args: argparse.Namespace
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    def start(self) -> float:
        from django.conf import settings

        self.log_path = Path(settings.VAR_DIR) / PROG / "gunicorn.log"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "gunicorn", "registry.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.args.workers),
            "--worker-class", self.args.worker_class,
            "--timeout", "600",  # the first request of a worker loads the whole registry
            "--graceful-timeout", "10",
            "--keep-alive", "30",
            "--config", "python:tests.bench.load_server",  # for post_worker_init below
        ]  # fmt: skip
        if self.args.worker_class == "gthread":
            command += ["--threads", str(self.args.threads)]
        environment = {
            **os.environ,
            "DATABASE_URL": self.args.database_url,
            "CACHE_URL": self.args.cache_url,
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            # One connection per thread kept open, as in production (deploy/): not one per request.
            "DATABASE_CONN_MAX_AGE": "600",
            "PYTHONUNBUFFERED": "1",
        }
        started = time.perf_counter()
        with self.log_path.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"{PROG}: gunicorn exited:\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"{PROG}: gunicorn did not listen within 60 s:\n{self.log_tail()}"
                    ) from None
                time.sleep(0.2)
        return time.perf_counter() - started

    def log_tail(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-40:])

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            # The field after the parenthesised command is the state, then the parent pid.
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                pids.append(int(entry))
        return sorted(pids)

    def memory_mb(self) -> dict:
        def rss(pid: int) -> float | None:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        return round(int(line.split()[1]) / 1024, 1)
            except OSError:
                return None
            return None

        workers = [rss(pid) for pid in self.worker_pids()]
        return {
            "master_rss_mb": rss(self.process.pid) if self.process else None,
            "worker_rss_mb": workers,
            "total_rss_mb": round(sum(w for w in workers if w) + (rss(self.process.pid) or 0), 1),
        }

    def cpu_s(self) -> float:
        """CPU seconds the workers have used so far (see the module docstring)."""
        return cpu_seconds(self.worker_pids())

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # gunicorn: graceful stop of the workers, then the master
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


# gunicorn reads this module as its configuration (`-c python:tests.bench.load_server`) for
# this hook only: it ignores the module's other names, which are not gunicorn settings.
def post_worker_init(worker) -> None:
    """Load the registry into the worker's matcher before it takes a request, and log how long.

    Without it the first request a worker takes pays for the load; the bench waits for every
    worker's line in the log and reports the load as warm-up, apart from the figures.
    """
    from registry import engine

    started = time.perf_counter()
    engine.find_matches("def warm_up():\n    return 'the matcher and the tokenizer'\n")
    worker.log.warning(
        "%s: worker %s loaded the matcher in %.2f s", PROG, os.getpid(), time.perf_counter() - started
    )


LOADED = re.compile(rf"{PROG}: worker (\d+) loaded the matcher in ([0-9.]+) s")


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of `pids` (a process that went away counts 0)."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        # After the parenthesised command: state is field 3; utime and stime are fields 14 and 15.
        fields = stat.rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def database_backend_pids(database_url: str) -> list[int]:
    """The local PostgreSQL backends connected to the bench database (its name is in their
    command line: ``postgres: [15/main: ]<user> <database> 127.0.0.1(port) idle``)."""
    from urllib.parse import urlsplit

    name = urlsplit(database_url).path.lstrip("/").encode()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            words = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").split()
        except OSError:
            continue
        if words[:1] == [b"postgres:"] and name in words[2:4]:
            pids.append(int(entry))
    return pids
