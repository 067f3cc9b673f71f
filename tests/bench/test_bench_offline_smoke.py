"""The offline benchmark runs end to end, tiny, and reports every figure; no timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REPORT_KEYS = {
    "docs", "queries", "real_documents", "fork_documents", "fingerprint_and_add_seconds",
    "matcher_add_docs_per_second", "snapshot_bytes_per_doc", "open_verified_seconds",
    "filter_docs_per_second_per_core", "target_docs_per_second_per_core", "decisions",
    "planted_copies_found", "planted_snippets_found", "unplanted_excluded", "snapshot_reused",
    "matched_docs_per_second_per_core", "unmatched_docs_per_second_per_core", "matched_share",
}  # fmt: skip


def _bench(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.bench_offline", "--json", "--docs", "400", "--queries", "200",
         "--jobs", "1", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_the_offline_benchmark_filters_a_corpus_and_finds_the_planted_copies(tmp_path):
    report = _bench("--keep", str(tmp_path))

    assert set(report) >= REPORT_KEYS
    assert report["docs"] == 400 and report["queries"] == 200
    assert sum(report["decisions"].values()) == 200
    found, planted = (int(x) for x in report["planted_copies_found"].split(" / "))
    assert planted > 0 and found == planted  # whole registered files, lightly wrapped
    # the two kinds of document were also filtered apart, each on its own share of the corpus
    assert report["matched_share"] == round(1 - report["decisions"].get("allow", 0) / 200, 3)
    assert report["matched_documents"] >= planted and report["unmatched_documents"] >= 1
    assert report["snapshot_reused"] is False


def test_a_kept_snapshot_is_reused_and_gives_the_same_decisions(tmp_path):
    first = _bench("--keep", str(tmp_path))
    again = _bench("--keep", str(tmp_path))

    assert again["snapshot_reused"] is True
    assert again["decisions"] == first["decisions"]
