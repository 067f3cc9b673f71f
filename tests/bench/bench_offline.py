"""Offline filtering benchmark: build a large snapshot, then filter a corpus against it.

    python -m tests.bench.bench_offline [--json] [--docs 1000000] [--queries 50000] [--jobs 2]

1. A snapshot of ``--docs`` registered documents of real code nobody here wrote, the same kind
   of registry the filter-API benchmark uses (:func:`tests.bench.seeding.load_corpus`: the
   standard library's and site-packages' Python, C headers, JavaScript, split into file-sized
   documents of at most 80 lines). A machine holds about a hundred thousand such documents; the
   rest of a million are forks of them (:func:`tests.bench.seeding.variant`: identifiers renamed,
   or lines inserted, deleted and moved), as a real registry holds forks and vendored copies.
   Ten documents make a work, every work refusing ``train-genai``. Fingerprints are computed in
   ``--jobs`` processes and added to the snapshot's :class:`dedup.Matcher` with ``add_batch``;
   each step is timed.
2. A corpus of ``--queries`` documents: windows of 20-60 lines of files that were *not*
   registered, with 5% replaced by planted copies (a registered document, lightly wrapped) and
   snippets (15-40 lines of one, inside an unregistered window).
3. The snapshot is opened (checksums verified, then without verification) and the corpus is
   decided with :meth:`dedup.snapshot.Snapshot.decide_batch` in one process: docs/second/core
   (process CPU time, so other load on the machine does not count) against the 5,000 target.
   Then the documents that matched and those that did not are filtered again apart (a fifth of
   the corpus at most each), since the two cost very different amounts.

A report for people (and CI logs), never a timed assertion.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tests.bench import seeding

TARGET_DOCS_PER_SECOND_PER_CORE = 5000
SEED = 5
DOCS_PER_WORK = 10
PLANTED_SHARE = 20  # one query in 20 is planted
KEPT_RECIPE = "bench-recipe.json"  # beside a kept snapshot: what it was built from, and the build's figures

# The real documents, set before the pool forks so every process shares them unpickled.
_REAL: list[seeding.Doc] = []


def registered_doc(i: int) -> seeding.Doc:
    """Registered document number `i`: a real one, or a fork of one past the real ones."""
    if i < len(_REAL):
        return _REAL[i]
    return seeding.variant(_REAL, i - len(_REAL), SEED)


def _language(i: int) -> str | None:
    if i < len(_REAL):
        return _REAL[i].language
    return seeding.variant_language(_REAL, i - len(_REAL), SEED)


def _fingerprint_range(job):
    from dedup import EngineConfig, fingerprint

    start, stop, config = job
    cfg = EngineConfig(**config)
    out = []
    for i in range(start, stop):
        doc = registered_doc(i)
        try:
            out.append((i, fingerprint(doc.text, kind="code", language=doc.language, config=cfg)))
        except ValueError:
            continue  # refused by the engine (binary, too large): counted by the caller
    return out


def _matchable(rng: random.Random, docs: int) -> seeding.Doc:
    """A registered document with enough code to be matched at all: the engine reports no match
    under ``min_snippet_chars`` of code, and some real files are a licence comment and an include
    guard (their copies are rightly not found, so planting them would count the wrong thing)."""
    from dedup import EngineConfig, fingerprint

    config = EngineConfig()
    while True:
        doc = registered_doc(rng.randrange(docs))
        try:
            fp = fingerprint(doc.text, kind="code", language=doc.language, config=config)
            if fp.num_chars >= config.min_snippet_chars:
                return doc
        except ValueError:
            continue  # refused by the engine, so not in the snapshot


def _line_comment(language: str | None) -> str:
    """How a line comment starts in `language`: a planted copy's header line must be a comment
    there, or it adds code to a small file (``#`` is code in JavaScript) and the copy is rightly
    no longer whole."""
    return "#" if language in ("python", "cython") else "//"


def corpus(n: int, unregistered: list[seeding.Doc], docs: int, seed: int = 7):
    """`n` (text, language) queries and the indices of the planted ones (copies and snippets)."""
    rng = random.Random(seed)
    queries = []
    for _ in range(n):
        host = unregistered[rng.randrange(len(unregistered))]
        queries.append((seeding.window(rng, host.text, 20, 60), host.language))
    planted = set(rng.sample(range(n), n // PLANTED_SHARE))
    for i in sorted(planted):
        doc = _matchable(rng, docs)
        if i % 2:
            queries[i] = (f"{_line_comment(doc.language)} vendored copy\n" + doc.text + "\n", doc.language)
        else:
            host = queries[i][0].splitlines()
            cut = rng.randrange(len(host) + 1)
            snippet = seeding.window(rng, doc.text, 15, 40)
            queries[i] = ("\n".join(host[:cut] + [snippet] + host[cut:]), doc.language)
    return queries, planted


def _kept_build(recipe_path: Path, recipe: dict) -> dict | None:
    """The build figures of a snapshot kept by an earlier run with the same recipe, or None."""
    try:
        kept = json.loads(recipe_path.read_text())
    except (OSError, ValueError):
        return None
    if kept.get("recipe") != json.loads(json.dumps(recipe)):  # as JSON reads it back: lists, not tuples
        return None
    return {**kept["build"], "snapshot_reused": True}


def _build(snap_dir: Path, docs: int, jobs: int, config) -> dict:
    """Fingerprint the registered documents and write them as a full snapshot into `snap_dir`."""
    from dedup import Matcher
    from dedup.policy import WorkPolicy
    from dedup.snapshot import write_full
    from dedup.tokenize import NORMALISER_VERSION

    if snap_dir.exists():
        shutil.rmtree(snap_dir)
    snap_dir.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    step = 2000
    jobs_list = [(s, min(s + step, docs), config.as_dict()) for s in range(0, docs, step)]
    matcher = Matcher(config)
    result: dict = {}
    add_seconds = 0.0
    added = 0
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for n, chunk in enumerate(pool.imap(_fingerprint_range, jobs_list), 1):
            t = time.perf_counter()
            matcher.add_batch([i for i, _ in chunk], [fp for _, fp in chunk])
            add_seconds += time.perf_counter() - t
            added += len(chunk)
            if n % 50 == 0:
                seeding.log(f"{added:,} documents fingerprinted and added", prog="bench_offline")
    result["fingerprint_and_add_seconds"] = round(time.perf_counter() - started, 1)
    result["refused_by_engine"] = docs - added
    result["matcher_add_seconds"] = round(add_seconds, 1)
    result["matcher_add_docs_per_second"] = round(added / add_seconds) if add_seconds else None

    works = [
        WorkPolicy(
            work_id=f"w{w}",
            title=f"Work {w}",
            values={"train-genai": "no"},
            reasons={"train-genai": "Stated for this work."},
        )
        for w in range((docs + DOCS_PER_WORK - 1) // DOCS_PER_WORK)
    ]
    doc_rows = {
        i: {"work_id": f"w{i // DOCS_PER_WORK}", "kind": "code", "language": _language(i)}
        for i in range(docs)
    }
    manifest = {
        "version": 1,
        "since": None,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "engine": {"config": config.as_dict(), "normaliser_version": NORMALISER_VERSION},
        "purposes": ["train-ai", "train-genai", "ai-use", "search"],
        "code_languages": sorted({d.language for d in _REAL if d.language}),
    }
    t = time.perf_counter()
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
    result["snapshot_reused"] = False
    return result


def run(docs: int, queries: int, jobs: int, workdir: Path, keep: Path | None = None) -> dict:
    from dedup import EngineConfig
    from dedup.matcher import FORMAT_VERSION as MATCHER_FORMAT
    from dedup.snapshot import Item, Snapshot
    from dedup.tokenize import NORMALISER_VERSION

    global _REAL
    config = EngineConfig()
    result: dict = {"docs": docs, "queries": queries, "jobs": jobs}

    started = time.perf_counter()
    _REAL, unregistered = seeding.load_corpus(docs, SEED, fill=False)
    result["real_documents"] = len(_REAL)
    result["fork_documents"] = docs - len(_REAL)
    result["corpus_seconds"] = round(time.perf_counter() - started, 1)

    snap_dir = (keep or workdir) / "snapshot"
    recipe = {
        "docs": docs,
        "seed": SEED,
        "real_documents": len(_REAL),
        "real_paths_sha1": seeding.paths_digest(_REAL),
        "engine": {"config": config.as_dict(), "normaliser_version": NORMALISER_VERSION},
        "matcher_format": MATCHER_FORMAT,
    }
    built = _kept_build(keep / KEPT_RECIPE, recipe) if keep else None
    if built is None:
        built = _build(snap_dir, docs, jobs, config)
        if keep:
            (keep / KEPT_RECIPE).write_text(json.dumps({"recipe": recipe, "build": built}))
    else:
        seeding.log(f"reusing the snapshot kept in {snap_dir}", prog="bench_offline")
    result.update(built)

    t = time.perf_counter()
    Snapshot.open(snap_dir)
    result["open_verified_seconds"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    snap = Snapshot.open(snap_dir, verify=False, populate=True)
    # populated, as `python -m dedup filter` opens it: the pages are mapped in now, not faulted
    # in one by one by the first thousands of queries
    result["open_seconds"] = round(time.perf_counter() - t, 2)

    pairs, planted = corpus(queries, unregistered, docs)
    items = [Item(text, language) for text, language in pairs]
    result["query_mean_bytes"] = round(sum(len(t) for t, _ in pairs) / len(pairs))
    # First use: numba's cache and the lookup directories of the big arrays (built once per
    # process), reported apart from the filtering rate
    t = time.perf_counter()
    snap.decide_batch(items[:8], "train-genai")
    result["first_batch_seconds"] = round(time.perf_counter() - t, 2)
    t, cpu = time.perf_counter(), time.process_time()
    verdicts = []
    for start in range(0, len(items), 256):
        verdicts += snap.decide_batch(items[start : start + 256], "train-genai")
    seconds, cpu_seconds = time.perf_counter() - t, time.process_time() - cpu
    result["filter_seconds"] = round(seconds, 1)
    result["filter_cpu_seconds"] = round(cpu_seconds, 1)
    # Per core: CPU time of the one filtering process (wall time counts other load on the host).
    result["filter_docs_per_second_per_core"] = round(queries / cpu_seconds)
    result["filter_docs_per_second_wall"] = round(queries / seconds)
    result["target_docs_per_second_per_core"] = TARGET_DOCS_PER_SECOND_PER_CORE
    decisions: dict[str, int] = {}
    for verdict in verdicts:
        decisions[verdict.decision] = decisions.get(verdict.decision, 0) + 1
    result["decisions"] = decisions
    copies = [i for i in planted if i % 2]
    snippets = [i for i in planted if not i % 2]
    for name, planted_ones in (("copies", copies), ("snippets", snippets)):
        found = sum(verdicts[i].decision == "exclude" for i in planted_ones)
        result[f"planted_{name}_found"] = f"{found} / {len(planted_ones)}"
    # Unplanted windows come from unregistered files, but real code repeats itself across
    # packages (vendored modules, shared idioms), so a few may rightly match: counted, not judged.
    result["unplanted_excluded"] = sum(
        v.decision == "exclude" for i, v in enumerate(verdicts) if i not in planted
    )
    # The rate above mixes two costs: a document that matches nothing is read against the index
    # and dropped, one that matches is localised in every registered copy it has (a file with
    # forks in the registry is found in each). Each kind is filtered again on its own so that
    # the share of matching documents a real corpus has can be weighed in.
    for name, matched in (("unmatched", False), ("matched", True)):
        chosen = [item for item, v in zip(items, verdicts, strict=True) if (v.decision != "allow") == matched]
        chosen = chosen[: max(1, queries // 5)]
        cpu = time.process_time()
        for start in range(0, len(chosen), 256):
            snap.decide_batch(chosen[start : start + 256], "train-genai")
        cpu_seconds = time.process_time() - cpu
        result[f"{name}_documents"] = len(chosen)
        result[f"{name}_docs_per_second_per_core"] = round(len(chosen) / cpu_seconds) if chosen else None
    result["matched_share"] = round(1 - decisions.get("allow", 0) / queries, 3)
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
    parser.add_argument(
        "--keep",
        type=Path,
        help="build the snapshot in this directory and keep it; a later run with the same "
        "documents, seed and engine settings reuses it instead of building again",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-offline-") as tmp:
        result = run(args.docs, args.queries, args.jobs, Path(tmp), keep=args.keep)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    rows = [
        (
            "registered documents",
            f"{result['docs']:,} ({result['real_documents']:,} from real files, "
            f"{result['fork_documents']:,} forks of them)",
        ),
        (
            "fingerprint + add (s)",
            f"{result['fingerprint_and_add_seconds']}"
            + (" (kept snapshot reused)" if result["snapshot_reused"] else ""),
        ),
        ("Matcher.add (docs/s, one core)", f"{result['matcher_add_docs_per_second']:,}"),
        ("write snapshot (s)", result["write_seconds"]),
        (
            "snapshot size",
            f"{result['snapshot_bytes'] / 1e6:.1f} MB ({result['snapshot_bytes_per_doc']} B/doc)",
        ),
        ("open, checksums verified (s)", result["open_verified_seconds"]),
        ("open, no verification, paged in (s)", result["open_seconds"]),
        ("first batch of 8: directories, numba cache (s)", result["first_batch_seconds"]),
        ("corpus documents", f"{result['queries']:,} (mean {result['query_mean_bytes']} bytes)"),
        (
            "filter (docs/s/core)",
            f"{result['filter_docs_per_second_per_core']:,} (target >= {TARGET_DOCS_PER_SECOND_PER_CORE:,})",
        ),
        (
            "  of which matching nothing (docs/s/core)",
            f"{result['unmatched_docs_per_second_per_core']} (on {result['unmatched_documents']:,})",
        ),
        (
            "  of which matching (docs/s/core)",
            f"{result['matched_docs_per_second_per_core']} (on {result['matched_documents']:,}; "
            f"{result['matched_share']:.1%} of the corpus)",
        ),
        ("decisions", result["decisions"]),
        ("planted copies found", result["planted_copies_found"]),
        ("planted snippets found", result["planted_snippets_found"]),
        ("unplanted windows excluded", result["unplanted_excluded"]),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
