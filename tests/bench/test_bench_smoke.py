"""The benchmark runs and reports every figure; no timing is asserted (timings belong in the report)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

REQUIRED = {
    "signatures": [
        "engine_mb_per_s_per_core",
        "engine_mb_per_s_wall",
        "engine_other_languages_mb_per_s_per_core",
        "fallback_mb_per_s_per_core",
        "reference_mb_per_s_per_core",
        "engine_on_reference_files_mb_per_s_per_core",
        "speedup_vs_reference",
        "speedup_vs_reference_wall",
        "fingerprint_mb_per_s_per_core",
        "cpu_over_wall",
        "jit_warmup_s",
    ],
    "index": [
        "n_docs",
        "bytes_per_doc",
        "query_us_per_doc",
        "datasketch_n_docs",
        "datasketch_bytes_per_doc",
        "datasketch_query_us_per_doc",
        "compact_recall_of_datasketch_candidates",
    ],
    "accuracy": [
        "doc_precision",
        "doc_recall",
        "doc_f1",
        "doc_recall_type1",
        "doc_recall_type2",
        "doc_recall_type3",
        "snippet_recall",
        "snippet_recall_10plus",
        "snippet_recall_10plus_iou80",
        "snippet_recall_10plus_min_chars",
        "snippet_iou_sample_mean",
        "snippet_iou_doc_mean",
        "false_matches_per_1000_unrelated",
        "unrelated",
    ],
}


def _quick_bench(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.bench_engine", "--quick", "--json", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def report() -> dict:
    # --list-misses exercises the debugging listing (on stderr, so stdout stays one JSON object)
    return _quick_bench("--list-misses", "3")


@pytest.mark.parametrize(("section", "key"), [(s, k) for s, keys in REQUIRED.items() for k in keys])
def test_the_quick_benchmark_reports_every_figure_as_a_number(report, section, key):
    value = report[section][key]

    assert isinstance(value, int | float) and not isinstance(value, bool)
    assert math.isfinite(value)


def test_the_report_names_the_corpus_and_the_targets(report):
    assert report["mode"] == "quick"
    assert report["corpus"]["python_stdlib_files"] > 0
    assert "accuracy.doc_f1" in report["targets"]


def test_rates_and_scores_are_in_range(report):
    accuracy = report["accuracy"]
    for key in (
        "doc_precision",
        "doc_recall",
        "doc_f1",
        "snippet_recall",
        "snippet_recall_10plus",
        "snippet_recall_10plus_min_chars",
    ):
        assert 0.0 <= accuracy[key] <= 1.0
    assert report["signatures"]["engine_mb_per_s_per_core"] > 0


def test_accuracy_only_reports_the_accuracy_and_skips_the_speed_sections():
    report = _quick_bench("--accuracy-only")

    assert "signatures" not in report and "index" not in report
    for key in REQUIRED["accuracy"]:
        assert math.isfinite(report["accuracy"][key])
