"""Benchmark of the near-duplicate engine: speed, index size and accuracy, in one run.

    python -m tests.bench.bench_engine            # full run (a few minutes on 2 cores)
    python -m tests.bench.bench_engine --quick    # small and fast, for the smoke test
    python -m tests.bench.bench_engine --json     # one JSON object on stdout instead of a table
    python -m tests.bench.bench_engine --list-misses 20   # also print missed snippets and
                                                          # false matches on stderr
    python -m tests.bench.bench_engine --accuracy-only    # only the labelled-set accuracy

Every figure comes from the same process and the same run:

* **signatures**: end-to-end throughput, bytes in -> MinHash signature out (128 permutations,
  5-token shingles), on one core, for the engine (numba kernels), for the engine's pure
  numpy/Python fallback, and for the pipeline a user would write with datasketch alone (regex
  tokens, space-joined 5-grams, ``MinHash.update_batch`` with the default sha1). The engine runs
  on the whole Python standard library; the slower two on a deterministic subset, and the
  speed-up divides the engine's rate *on that same subset* by the reference's, so both read the
  same files. ``fingerprint_mb_per_s_per_core`` is the rate of the whole fingerprint the registry
  stores per document (signature, exact hash, shingle set, winnowing fingerprints). JIT
  compilation (or loading numba's cache) happens in a warm-up call that is timed and reported
  separately. ``*_per_core`` figures (and the targets) use the process's CPU
  time, so a shared, loaded machine does not distort them; ``*_wall`` figures use elapsed time.
* **index**: the compact LSH index at 1,000,000 synthetic signatures, bytes per document (sum of
  the arrays' ``nbytes``) and batch query time per document; ``datasketch.MinHashLSH`` with the
  same bands on the same signatures at 100,000 documents (at a million it takes minutes and
  gigabytes), its memory measured with ``tracemalloc``.
* **accuracy**: the labelled set of :mod:`tests.bench.labelled` (real code, type-1/2/3 copies,
  edited snippets with known line ranges, unrelated files), run through
  :func:`dedup.fingerprint.fingerprint` and :class:`dedup.matcher.Matcher` with default settings.
  Unrelated files share no run of >= 150 characters with a registered file, verbatim, renamed
  or edited token for token (:mod:`tests.bench.overlap`, :mod:`tests.bench.aligned`). Snippet
  recall for >= 10 lines is the headline figure; the same recall over snippets at or above the
  engine's ``min_snippet_chars`` is printed beside it.

Nothing here asserts on timings; ``tests/bench/test_bench_smoke.py`` only checks the report's
shape.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import tracemalloc

import numpy as np

from tests.bench import accuracy, corpus
from tests.bench.throughput import bench_signatures

TARGETS = {
    "signatures.engine_mb_per_s_per_core": ">= 50",
    "signatures.speedup_vs_reference": ">= 25",
    "index.bytes_per_doc": "<= 256",
    "index.query_us_per_doc": "<= 10",
    "accuracy.doc_f1": ">= 0.95",
    "accuracy.snippet_recall_10plus": ">= 0.95",
    "accuracy.snippet_iou_10plus_mean": ">= 0.8",
    "accuracy.false_matches_per_1000_unrelated": "<= 1",
}


def bench_index(*, n_docs: int, n_queries: int, n_datasketch: int, seed: int) -> dict:
    """Compact LSH vs datasketch.MinHashLSH on the same synthetic signatures."""
    from datasketch import LeanMinHash, MinHashLSH

    from dedup.config import EngineConfig
    from dedup.lsh import CompactLSH
    from dedup.matcher import LSH_THRESHOLD_MARGIN

    config = EngineConfig()
    # The bands the Matcher really uses: tuned below the threshold so that near-duplicates at the
    # threshold are found (see dedup.matcher); candidates are verified afterwards.
    lsh_threshold = max(0.05, config.threshold - LSH_THRESHOLD_MARGIN)
    rng = np.random.default_rng(seed)
    sigs = rng.integers(0, 2**32, size=(n_docs, config.num_perm), dtype=np.uint32)
    # Half the queries are near-duplicates of registered signatures (about 80 % of the values
    # kept, so estimated Jaccard ~0.8 > threshold 0.7), half are unrelated: the index does real
    # candidate work instead of answering "nothing" to random noise.
    queries = rng.integers(0, 2**32, size=(n_queries, config.num_perm), dtype=np.uint32)
    near = rng.choice(n_docs, size=n_queries // 2, replace=False)
    keep = rng.random((n_queries // 2, config.num_perm)) < 0.8
    queries[: n_queries // 2] = np.where(keep, sigs[near], queries[: n_queries // 2])

    lsh = CompactLSH(lsh_threshold, config.num_perm)
    started = time.perf_counter()
    lsh.add(np.arange(n_docs, dtype=np.uint32), sigs)
    if hasattr(lsh, "compact"):
        lsh.compact()  # a saved/loaded index is compacted; measure that state
    build_s = time.perf_counter() - started
    lsh.query_batch(queries[:100])  # warm-up (first searchsorted on fresh arrays)
    started = time.perf_counter()
    qidx, rows = lsh.query_batch(queries)
    query_s = time.perf_counter() - started
    found_rate = _found_rate(qidx, rows, near)

    small = sigs[:n_datasketch]
    ds_queries = queries.copy()
    ds_near = rng.choice(n_datasketch, size=n_queries // 2, replace=False)
    ds_queries[: n_queries // 2] = np.where(keep, small[ds_near], queries[: n_queries // 2])
    ds_queries = ds_queries[: max(1000, n_queries // 10)]
    ds_near = ds_near[: len(ds_queries)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    ds = MinHashLSH(threshold=lsh_threshold, num_perm=config.num_perm, params=(lsh.b, lsh.r))
    ds_started = time.perf_counter()
    with ds.insertion_session() as session:
        for row, sig in enumerate(small):
            session.insert(row, LeanMinHash(seed=config.seed, hashvalues=sig, scheme="affine32"))
    ds_build_s = time.perf_counter() - ds_started
    ds_bytes = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    # The LeanMinHash wrappers are built before the clock starts: a user holding signatures
    # already holds MinHash objects, and the figure is meant to be datasketch's query cost.
    wrapped = [LeanMinHash(seed=config.seed, hashvalues=sig, scheme="affine32") for sig in ds_queries]
    started = time.perf_counter()
    answers = [ds.query(m) for m in wrapped]
    ds_query_s = time.perf_counter() - started
    ds_qidx = np.repeat(np.arange(len(answers)), [len(a) for a in answers])
    ds_rows = np.concatenate([np.sort(np.fromiter(a, np.int64, len(a))) for a in answers])
    # Same bands and same signatures: the compact index at the datasketch size must find every
    # candidate datasketch finds; it may add a few from 32-bit band-key collisions (about
    # queries * bands * docs / 2**32), which the matcher's verification removes.
    check = CompactLSH(lsh_threshold, config.num_perm, params=(lsh.b, lsh.r))
    check.add(np.arange(n_datasketch, dtype=np.uint32), small)
    cq, cr = check.query_batch(ds_queries)
    ours = set(zip(cq.tolist(), cr.tolist(), strict=True))
    theirs = set(zip(ds_qidx.tolist(), ds_rows.tolist(), strict=True))
    agreement = len(ours & theirs) / max(1, len(theirs))
    extra = len(ours - theirs) / len(ds_queries)
    return {
        "n_docs": n_docs,
        "n_queries": n_queries,
        "lsh_threshold": lsh_threshold,
        "bands": lsh.b,
        "rows": lsh.r,
        "bytes_per_doc": lsh.nbytes / n_docs,
        "build_s": build_s,
        "query_us_per_doc": query_s / n_queries * 1e6,
        "near_duplicate_found_rate": found_rate,
        "datasketch_n_docs": n_datasketch,
        "datasketch_n_queries": len(ds_queries),
        "datasketch_bytes_per_doc": ds_bytes / n_datasketch,
        "datasketch_build_s": ds_build_s,
        "datasketch_query_us_per_doc": ds_query_s / len(ds_queries) * 1e6,
        "compact_recall_of_datasketch_candidates": agreement,
        "compact_extra_candidates_per_query": extra,
    }


def _found_rate(qidx: np.ndarray, rows: np.ndarray, near: np.ndarray) -> float:
    """Share of the near-duplicate queries whose source came back as a candidate."""
    hit = (qidx < len(near)) & (rows == near[np.minimum(qidx, len(near) - 1)])
    return len(np.unique(qidx[hit])) / max(1, len(near))


def run(*, quick: bool, seed: int, progress, list_misses: int = 0, accuracy_only: bool = False) -> dict:
    started = time.perf_counter()
    progress("reading corpus")
    python = corpus.python_stdlib()
    others = corpus.other_languages()
    report: dict = {
        "mode": "quick" if quick else "full",
        "seed": seed,
        "machine": {
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
        },
        "corpus": {
            "python_stdlib_files": len(python),
            "python_stdlib_mb": corpus.total_bytes(python) / 1e6,
            "other_files_by_language": corpus.language_counts(others),
            "other_mb": corpus.total_bytes(others) / 1e6,
        },
    }
    # Accuracy work (judging false matches, checking a second seed) needs only the labelled
    # set; the throughput and index parts take most of a full run and do not depend on it.
    if not accuracy_only:
        progress("signature throughput")
        report["signatures"] = bench_signatures(python, others, quick=quick, seed=seed)
        progress("index size and query time")
        report["index"] = (
            bench_index(n_docs=20_000, n_queries=2_000, n_datasketch=5_000, seed=seed)
            if quick
            else bench_index(n_docs=1_000_000, n_queries=100_000, n_datasketch=100_000, seed=seed)
        )
    progress("accuracy on the labelled set")
    report["accuracy"] = accuracy.bench_accuracy(
        python + others, quick=quick, seed=seed, progress=progress, list_misses=list_misses
    )
    report["targets"] = TARGETS
    report["total_s"] = time.perf_counter() - started
    return report


def print_table(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    c = report["corpus"]
    console.print(
        f"[bold]dedup engine benchmark[/] ({report['mode']}, seed {report['seed']}, "
        f"{report['machine']['cpu_count']} CPUs, Python {report['machine']['python']}, "
        f"{report['total_s']:.0f}s)\ncorpus: stdlib {c['python_stdlib_files']} .py files "
        f"({c['python_stdlib_mb']:.1f} MB); other languages {c['other_files_by_language']} "
        f"({c['other_mb']:.1f} MB)"
    )
    for section in ("signatures", "index", "accuracy"):
        if section not in report:
            continue
        table = Table(title=section, title_justify="left", show_header=True)
        table.add_column("measure")
        table.add_column("value", justify="right")
        table.add_column("target", justify="right")
        for key, value in report[section].items():
            if isinstance(value, dict | list):
                continue
            shown = (
                f"{value:,.4g}"
                if isinstance(value, float)
                else f"{value:,}"
                if isinstance(value, int)
                else value
            )
            table.add_row(key, shown, TARGETS.get(f"{section}.{key}", ""))
        console.print(table)
    for note in report["accuracy"].get("notes", []):
        console.print(f"note: {note}")
    for example in report["accuracy"].get("false_match_examples", []):
        console.print(f"false match: {example}")
    for example in report["accuracy"].get("removed_negative_examples", [])[:5]:
        console.print(f"not a negative (shares a run with a registered file): {example}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.bench_engine", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--quick", action="store_true", help="small, fast run (the smoke test uses it)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--list-misses",
        type=int,
        default=0,
        metavar="N",
        help="print the first N missed snippets (>= 10 lines) and false matches on stderr",
    )
    parser.add_argument(
        "--accuracy-only",
        action="store_true",
        help="measure only the accuracy on the labelled set (skip signature throughput and the index)",
    )
    args = parser.parse_args(argv)
    if args.list_misses < 0:
        parser.error(f"--list-misses must be 0 or more, got {args.list_misses}")

    def progress(message: str) -> None:
        print(f"[bench] {message}", file=sys.stderr, flush=True)

    report = run(
        quick=args.quick,
        seed=args.seed,
        progress=progress,
        list_misses=args.list_misses,
        accuracy_only=args.accuracy_only,
    )
    if args.json:
        print(json.dumps(report, indent=2, default=float))
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
