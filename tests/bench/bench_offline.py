"""Offline filtering benchmark: build a large snapshot, then filter a corpus against it.

    python -m tests.bench.bench_offline [--json] [--docs 1000000] [--queries 50000] [--jobs 2]

1. A snapshot of ``--docs`` synthetic code documents (seeded, code-like Python: functions with
   loops, conditions and calls over a random vocabulary), ten per work, every work restricting
   ``train-genai``. Fingerprints are computed in ``--jobs`` processes and added to the snapshot's
   :class:`dedup.Matcher` through its public API (``add`` per document): the time of each step
   is reported, since the add rate is what bounds a registry-sized build.
2. A corpus of ``--queries`` documents: windows of 20-60 lines of the Python standard library's
   own files, with 5% replaced by copies and snippets of registered documents.
3. The snapshot is opened (checksums verified, then without verification) and the corpus is
   decided with :meth:`dedup.snapshot.Snapshot.decide_batch` in one process: docs/second/core
   against the 5,000 target.

A report for people (and CI logs), never a timed assertion.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

TARGET_DOCS_PER_SECOND_PER_CORE = 5000
WORDS = (
    "alpha beta gamma delta value index count total item node tree path name size data buffer "
    "offset limit result record entry field table row column key cache state queue stack frame "
    "token parser reader writer stream chunk block page user group order price amount weight"
).split()


def synthetic_document(seed: int) -> str:
    """A code-like Python module of 20-40 lines, different for every seed."""
    rng = random.Random(seed)
    lines = []
    for _f in range(rng.randint(2, 3)):
        name = "_".join(rng.sample(WORDS, 2)) + str(rng.randint(0, 999))
        args = ", ".join(rng.sample(WORDS, rng.randint(1, 3)))
        lines.append(f"def {name}({args}):")
        for _s in range(rng.randint(5, 10)):
            a, b, c = rng.sample(WORDS, 3)
            template = rng.choice(
                [
                    f"    {a} = {b} + {c} * {rng.randint(1, 99)}",
                    f"    for {a} in range(len({b})):\n        {c}.append({a} % {rng.randint(2, 9)})",
                    f"    if {a} > {b}:\n        {c} = {a} - {b}",
                    f"    {a} = {b}.get('{c}', {rng.randint(0, 9)})",
                    f"    while {a} < {rng.randint(10, 99)}:\n        {a} += {b}",
                ]
            )
            lines.append(template)
        lines.append(f"    return {rng.choice(WORDS)}\n\n")
    return "\n".join(lines)


def _fingerprint_range(job):
    from dedup import EngineConfig, fingerprint

    start, stop, config = job
    cfg = EngineConfig(**config)
    return [
        (i, fingerprint(synthetic_document(i), kind="code", language="python", config=cfg))
        for i in range(start, stop)
    ]


def stdlib_windows(n: int, seed: int = 7) -> list[str]:
    files = sorted(Path(sysconfig.get_paths()["stdlib"]).rglob("*.py"))
    rng = random.Random(seed)
    texts = []
    for path in files:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for start in range(0, max(len(lines) - 20, 1), 40):
            window = "\n".join(lines[start : start + rng.randint(20, 60)])
            if window.strip():
                texts.append(window)
    rng.shuffle(texts)
    while len(texts) < n:
        texts += texts[: n - len(texts)]
    return texts[:n]


def run(docs: int, queries: int, jobs: int, workdir: Path) -> dict:
    from dedup import EngineConfig, Matcher
    from dedup.policy import WorkPolicy
    from dedup.snapshot import Item, Snapshot, write_full
    from dedup.tokenize import NORMALISER_VERSION

    config = EngineConfig()
    result: dict = {"docs": docs, "queries": queries, "jobs": jobs}

    started = time.perf_counter()
    step = 2000
    jobs_list = [(s, min(s + step, docs), config.as_dict()) for s in range(0, docs, step)]
    matcher = Matcher(config)
    add_seconds = 0.0
    with multiprocessing.get_context().Pool(jobs) as pool:
        for chunk in pool.imap(_fingerprint_range, jobs_list):
            t = time.perf_counter()
            for doc_id, fp in chunk:
                matcher.add(doc_id, fp)
            add_seconds += time.perf_counter() - t
    build_seconds = time.perf_counter() - started
    result["fingerprint_and_add_seconds"] = round(build_seconds, 1)
    result["matcher_add_seconds"] = round(add_seconds, 1)
    result["matcher_add_docs_per_second"] = round(docs / add_seconds) if add_seconds else None

    works = [
        WorkPolicy(
            work_id=f"w{w}",
            title=f"Work {w}",
            values={"train-genai": "no"},
            reasons={"train-genai": "Stated for this work."},
        )
        for w in range((docs + 9) // 10)
    ]
    doc_rows = {i: {"work_id": f"w{i // 10}", "kind": "code", "language": "python"} for i in range(docs)}
    manifest = {
        "version": 1,
        "since": None,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "engine": {"config": config.as_dict(), "normaliser_version": NORMALISER_VERSION},
        "purposes": ["train-ai", "train-genai", "ai-use", "search"],
        "code_languages": ["python"],
    }
    t = time.perf_counter()
    snap_dir = workdir / "snapshot"
    write_full(
        snap_dir,
        manifest=manifest,
        works=works,
        docs=doc_rows,
        matchers={"code": matcher, "prose": Matcher(config)},
    )
    result["write_seconds"] = round(time.perf_counter() - t, 1)
    result["snapshot_bytes"] = sum(p.stat().st_size for p in snap_dir.rglob("*") if p.is_file())
    result["snapshot_bytes_per_doc"] = round(result["snapshot_bytes"] / docs, 1)
    del matcher

    t = time.perf_counter()
    Snapshot.open(snap_dir)
    result["open_verified_seconds"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    snap = Snapshot.open(snap_dir, verify=False)
    result["open_seconds"] = round(time.perf_counter() - t, 2)

    texts = stdlib_windows(queries)
    rng = random.Random(11)
    planted = set(rng.sample(range(queries), queries // 20))
    for i in planted:
        doc = synthetic_document(rng.randrange(docs))
        texts[i] = doc if i % 2 else "import os\n\n" + doc + "\n\nprint(os.sep)\n"
    items = [Item(text, "python") for text in texts]
    result["query_mean_bytes"] = round(sum(len(t) for t in texts) / len(texts))
    t, cpu = time.perf_counter(), time.process_time()
    decisions: dict[str, int] = {}
    for start in range(0, len(items), 256):
        for verdict in snap.decide_batch(items[start : start + 256], "train-genai"):
            decisions[verdict.decision] = decisions.get(verdict.decision, 0) + 1
    seconds, cpu_seconds = time.perf_counter() - t, time.process_time() - cpu
    result["filter_seconds"] = round(seconds, 1)
    result["filter_cpu_seconds"] = round(cpu_seconds, 1)
    # Per core: CPU time of the one filtering process (wall time counts other load on the host).
    result["filter_docs_per_second_per_core"] = round(queries / cpu_seconds)
    result["filter_docs_per_second_wall"] = round(queries / seconds)
    result["target_docs_per_second_per_core"] = TARGET_DOCS_PER_SECOND_PER_CORE
    result["decisions"] = decisions
    result["planted_copies"] = len(planted)
    result["planted_found"] = sum(
        1 for i in planted if snap.decide_batch([items[i]], "train-genai")[0].decision == "exclude"
    )
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--docs", type=int, default=1_000_000, help="registered documents (default 1,000,000)"
    )
    parser.add_argument(
        "--queries", type=int, default=50_000, help="corpus documents to filter (default 50,000)"
    )
    parser.add_argument("--jobs", type=int, default=2, help="processes for fingerprinting the snapshot")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-offline-") as tmp:
        result = run(args.docs, args.queries, args.jobs, Path(tmp))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    rows = [
        ("registered documents", f"{result['docs']:,}"),
        ("fingerprint + add (s)", result["fingerprint_and_add_seconds"]),
        ("Matcher.add (docs/s, one core)", f"{result['matcher_add_docs_per_second']:,}"),
        ("write snapshot (s)", result["write_seconds"]),
        (
            "snapshot size",
            f"{result['snapshot_bytes'] / 1e6:.1f} MB ({result['snapshot_bytes_per_doc']} B/doc)",
        ),
        ("open, checksums verified (s)", result["open_verified_seconds"]),
        ("open, no verification (s)", result["open_seconds"]),
        ("corpus documents", f"{result['queries']:,} (mean {result['query_mean_bytes']} bytes)"),
        (
            "filter (docs/s/core)",
            f"{result['filter_docs_per_second_per_core']:,} (target >= {TARGET_DOCS_PER_SECOND_PER_CORE:,})",
        ),
        ("decisions", result["decisions"]),
        ("planted copies found", f"{result['planted_found']} / {result['planted_copies']}"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
