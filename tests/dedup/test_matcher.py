"""The matcher end to end: exact, near-duplicate and snippet matches on real code."""

import os
import re
from pathlib import Path

import numpy as np
import pytest

from dedup.config import EngineConfig
from dedup.fingerprint import Fingerprint, fingerprint
from dedup.matcher import Matcher
from dedup.signatures import ParameterMismatchError, Signature

CONFIG = EngineConfig()
STDLIB = Path(os.__file__).parent
ALICE = (STDLIB / "textwrap.py").read_text()  # alice's registered module (~500 lines)
BOB = (STDLIB / "fnmatch.py").read_text()  # bob's, unrelated
CAROL = (STDLIB / "shlex.py").read_text()


def fp(text, config=CONFIG):
    return fingerprint(text, kind="code", language="python", config=config)


@pytest.fixture
def registry():
    m = Matcher(CONFIG)
    for doc_id, text in ((1, ALICE), (2, BOB), (3, CAROL)):
        m.add(doc_id, fp(text))
    return m


def _summary(matches):
    return [(m.doc_id, m.kind) for m in matches]


def test_an_empty_registry_matches_nothing():
    assert Matcher(CONFIG).query(fp(ALICE)) == []
    assert len(Matcher(CONFIG)) == 0


def test_an_empty_query_matches_nothing(registry):
    assert registry.query(fp("")) == []


def test_identical_input_is_an_exact_match(registry):
    (match,) = registry.query(fp(ALICE))
    assert (match.doc_id, match.kind, match.verified, match.estimated) == (1, "exact", 1.0, 1.0)


def test_a_renamed_copy_is_a_near_duplicate(registry):
    renamed = re.sub(r"\btext\b", "body", ALICE)
    renamed = re.sub(r"\bwidth\b", "columns", renamed)
    (match,) = registry.query(fp(renamed))
    assert (match.doc_id, match.kind) == (1, "near-duplicate")
    assert match.verified >= CONFIG.threshold and match.doc_lines == ((1, len(ALICE.splitlines())),)


def test_a_reformatted_copy_is_found(registry):
    reformatted = "\n\n".join(
        "    ".join(line.split("    ")) + "   # reviewed"
        for line in ALICE.splitlines()
        if not line.strip().startswith("#")
    )
    matches = registry.query(fp(reformatted.replace("# reviewed", "")))
    assert _summary(matches)[:1] in ([(1, "exact")], [(1, "near-duplicate")])


def test_an_unrelated_file_is_not_found(registry):
    assert registry.query(fp((STDLIB / "colorsys.py").read_text())) == []


def test_a_ten_line_snippet_in_a_500_line_file_is_found_with_its_line_ranges(registry):
    lines = ALICE.splitlines()
    start = next(i for i, line in enumerate(lines) if line == "        lines = []")
    snippet = lines[start : start + 10]
    sample = (
        ["import sys", "", "def bob_helper(x):", "    return x + 1", ""]
        + snippet
        + ["", "print(bob_helper(2))"]
    )
    matches = registry.query(fp("\n".join(sample)))
    assert _summary(matches) == [(1, "snippet")]
    assert matches[0].sample_lines == ((6, 15),)
    assert matches[0].doc_lines == ((start + 1, start + 10),)
    assert matches[0].matched_chars >= CONFIG.min_snippet_chars


def test_boilerplate_only_overlap_is_not_reported():
    config = EngineConfig(boilerplate_max_df=2)
    header = (STDLIB / "colorsys.py").read_text().split("__all__")[0] * 3  # a long shared preamble
    m = Matcher(config)
    for doc_id, body in enumerate([BOB, CAROL, (STDLIB / "bisect.py").read_text()]):
        m.add(doc_id, fp(header + body, config))
    assert m.query(fp(header + (STDLIB / "keyword.py").read_text(), config)) == []


def _jaccard_fingerprint(shingles, tag, config=CONFIG):
    """A fingerprint with given shingles and a signature that always collides in the LSH."""
    template = fp("x = 1", config)
    return Fingerprint(
        params=template.params,
        kind="code",
        language="python",
        exact_hash=f"{tag:x}".ljust(64, "0"),
        signature=Signature(params=template.params, hashvalues=np.zeros(config.num_perm, np.uint32)),
        shingles=np.array(sorted(shingles), np.uint32),
        winnow=np.empty((0, 6), np.uint32),
        num_lines=1,
        num_tokens=len(shingles),
        num_chars=4 * len(shingles),
    )


@pytest.mark.parametrize(
    ("shared", "only_query", "only_doc", "reported"),
    [
        (69, 15, 16, False),  # 69 / 100, just below 0.7
        (70, 15, 15, True),  # 70 / 100, at the threshold
        (7, 1, 2, True),  # 7 / 10
        (100, 0, 0, True),
    ],
)
def test_the_verified_jaccard_decides_at_the_threshold(shared, only_query, only_doc, reported):
    common = list(range(shared))
    m = Matcher(CONFIG)
    m.add(1, _jaccard_fingerprint(common + list(range(1000, 1000 + only_doc)), tag=1))
    matches = m.query(_jaccard_fingerprint(common + list(range(2000, 2000 + only_query)), tag=2))
    assert bool(matches) is reported
    if reported:
        assert matches[0].verified == pytest.approx(shared / (shared + only_query + only_doc))


def test_add_remove_and_replace(registry):
    registry.remove(1)
    registry.remove(12345)  # unknown: no-op
    assert 1 not in registry and len(registry) == 2
    assert registry.query(fp(ALICE)) == []
    registry.add(1, fp(ALICE))
    assert _summary(registry.query(fp(ALICE))) == [(1, "exact")]
    registry.add(1, fp(BOB))  # replace: doc 1 is now bob's module
    assert len(registry) == 3
    assert registry.query(fp(ALICE)) == []
    assert _summary(registry.query(fp(BOB))) == [(1, "exact"), (2, "exact")]


def test_save_and_load_with_mmap_give_the_same_answers(registry, tmp_path):
    registry.remove(3)
    lines = ALICE.splitlines()
    queries = [fp(ALICE), fp(re.sub(r"\btext\b", "body", ALICE)), fp("\n".join(lines[200:230])), fp(BOB)]
    before = registry.query_batch(queries)
    registry.save(tmp_path / "index")
    loaded = Matcher.load(tmp_path / "index", mmap=True)
    assert len(loaded) == 2 and 3 not in loaded and 1 in loaded
    assert loaded.query_batch(queries) == before
    loaded.add(3, fp(CAROL))
    assert _summary(loaded.query(fp(CAROL))) == [(3, "exact")]


def test_query_batch_equals_one_query_at_a_time(registry):
    queries = [fp(ALICE), fp(""), fp(BOB), fp("\n".join(ALICE.splitlines()[100:140]))]
    assert registry.query_batch(queries) == [registry.query(q) for q in queries]


def test_a_fingerprint_with_other_parameters_is_refused(registry):
    other = fp(ALICE, EngineConfig(num_perm=64))
    with pytest.raises(ParameterMismatchError):
        registry.query(other)
    with pytest.raises(ParameterMismatchError):
        registry.add(9, other)
