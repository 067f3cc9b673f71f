"""The client side of ``bench_filter_load``: keep-alive clients sending filter batches, the
warm-up round, and the latency summary (nearest-rank percentiles over the answered batches)."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass

from tests.bench.load_server import LOADED, PROG, Server


@dataclass
class Outcome:
    started: float
    latency: float
    status: int  # 0: no HTTP answer (connection error, timeout)
    decisions: Counter | None = None
    error: str = ""


def _post(connection: http.client.HTTPConnection, key: str, body: bytes) -> tuple[int, bytes]:
    headers = {
        "Authorization": f"Bearer {key}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    connection.request("POST", "/api/v1/filter", body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def _one(connection, key: str, body: bytes, expected: int) -> Outcome:
    started = time.perf_counter()
    try:
        status, payload = _post(connection, key, body)
    except (OSError, http.client.HTTPException) as exc:
        connection.close()  # the next request reconnects
        return Outcome(started, time.perf_counter() - started, 0, error=f"{type(exc).__name__}: {exc}")
    latency = time.perf_counter() - started
    if status != 200:
        return Outcome(started, latency, status, error=payload[:300].decode(errors="replace"))
    try:
        results = json.loads(payload)["results"]
    except (ValueError, KeyError) as exc:
        return Outcome(started, latency, status, error=f"unreadable answer: {exc}")
    if len(results) != expected:
        return Outcome(started, latency, status, error=f"{len(results)} results for {expected} documents")
    return Outcome(started, latency, status, Counter(r["decision"] for r in results))


def drive(
    port: int, key: str, bodies: list[bytes], *, clients: int, seconds: float, max_requests: int, batch: int,
    timeout: float,
) -> tuple[list[Outcome], float]:  # fmt: skip
    """`clients` threads sending bodies round-robin until the time or the request budget is up."""
    lock = threading.Lock()
    issued = 0
    outcomes: list[Outcome] = []
    deadline = time.perf_counter() + seconds

    def client() -> None:
        nonlocal issued
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        mine = []
        try:
            while time.perf_counter() < deadline:
                with lock:
                    if issued >= max_requests:
                        break
                    n = issued
                    issued += 1
                mine.append(_one(connection, key, bodies[n % len(bodies)], batch))
        finally:
            connection.close()
            with lock:
                outcomes.extend(mine)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + timeout + 30)
    return outcomes, time.perf_counter() - started


def warm_up(
    server: Server, key: str, bodies: list[bytes], *, concurrency: int, batch: int, limit_s: float
) -> dict:
    """Wait until every worker has loaded the registry (post_worker_init logs it), then send one
    round of `concurrency` requests so connections and the rest of the path are warm too."""
    started = time.perf_counter()
    while True:
        log_text = server.log_path.read_text(errors="replace")
        loaded = {int(pid): float(s) for pid, s in LOADED.findall(log_text)}
        if len(loaded) >= server.args.workers:
            break
        if server.process.poll() is not None:
            raise SystemExit(f"{PROG}: gunicorn exited while loading:\n{server.log_tail()}")
        if time.perf_counter() - started > limit_s:
            raise SystemExit(f"{PROG}: the workers did not load the registry within {limit_s:.0f} s")
        time.sleep(0.5)
    loaded_s = time.perf_counter() - started
    outcomes, round_s = drive(
        server.port, key, bodies, clients=concurrency, seconds=limit_s, max_requests=concurrency,
        batch=batch, timeout=limit_s,
    )  # fmt: skip
    bad = [o for o in outcomes if o.status != 200 or o.error]
    if bad:
        raise SystemExit(f"{PROG}: a warm-up request failed: {bad[0].status} {bad[0].error}")
    return {
        "warmup_s": round(loaded_s + round_s, 2),
        "matcher_load_s_per_worker": sorted(round(v, 2) for v in loaded.values()),
        "first_round_s": round(round_s, 2),
    }


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of `values`."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def summarise(outcomes: list[Outcome], wall_s: float, batch: int) -> dict:
    ok = [o for o in outcomes if o.status == 200 and not o.error]
    latencies_ms = [o.latency * 1000 for o in ok]
    decisions = Counter()
    for o in ok:
        decisions.update(o.decisions or {})
    errors = [o for o in outcomes if o not in ok]
    first_errors = Counter(f"{o.status} {o.error[:120]}" for o in errors).most_common(5)

    def ms(q):
        value = percentile(latencies_ms, q)
        return round(value, 1) if value is not None else None

    return {
        "requests": len(outcomes),
        "ok": len(ok),
        "errors": len(errors),
        "server_errors": sum(1 for o in outcomes if o.status >= 500),
        "client_errors": sum(1 for o in outcomes if 400 <= o.status < 500),
        "no_answer": sum(1 for o in outcomes if o.status == 0),
        "error_samples": [f"{n} x {text}" for text, n in first_errors],
        "wall_s": round(wall_s, 2),
        "p50_ms": ms(50),
        "p95_ms": ms(95),
        "p99_ms": ms(99),
        "max_ms": round(max(latencies_ms), 1) if latencies_ms else None,
        "mean_ms": round(sum(latencies_ms) / len(latencies_ms), 1) if latencies_ms else None,
        "batches_per_s": round(len(ok) / wall_s, 2) if wall_s > 0 else None,
        "documents_per_s": round(len(ok) * batch / wall_s, 1) if wall_s > 0 else None,
        "decisions": dict(sorted(decisions.items())),
    }
