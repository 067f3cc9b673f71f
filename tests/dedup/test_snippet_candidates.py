"""The compiled candidate pass of snippet search against a plain-Python statement of its rules."""

from __future__ import annotations

import numpy as np
import pytest

from dedup.snippet_candidates import candidate_hits, doc_lines


def _segment(rng, n_postings, n_hashes, n_rows):
    keys = np.sort(rng.integers(0, n_hashes, n_postings)).astype(np.uint32)
    cols = {
        "row": rng.integers(0, n_rows, n_postings).astype(np.uint32),
        "token": rng.integers(0, 500, n_postings).astype(np.uint32),
        "line_start": rng.integers(1, 50, n_postings).astype(np.uint32),
    }
    cols["line_end"] = cols["line_start"] + rng.integers(0, 3, n_postings).astype(np.uint32)
    return keys, cols


def _queries(rng, sizes, n_hashes):
    parts = []
    for n in sizes:
        tok = np.sort(rng.choice(400, n, replace=False))
        c0 = np.cumsum(rng.integers(1, 8, n))
        c1 = np.maximum.accumulate(c0 + rng.integers(1, 25, n))
        h = rng.integers(0, n_hashes, n)
        parts.append(np.stack([h, tok, tok // 10 + 1, tok // 10 + 2, c0, c1]))
    qcol = np.ascontiguousarray(np.concatenate(parts, axis=1), np.int64)
    q_start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return qcol, q_start


def _reference(qcol, q_start, informative, segs, ranges, alive, exclude, min_chars, max_candidates):
    """The rules as the module docstring states them, one hit at a time."""
    _, qtok, _, _, qc0, qc1 = qcol
    out = []
    for q in range(len(q_start) - 1):
        banned = set() if exclude is None or exclude[q] is None else {int(r) for r in exclude[q]}
        by_row: dict[int, list] = {}
        for f in range(q_start[q], q_start[q + 1]):
            if not informative[f]:
                continue
            for s, ((_keys, cols), (lo, hi)) in enumerate(zip(segs, ranges, strict=True)):
                for p in range(lo[f], hi[f]):
                    r = int(cols["row"][p])
                    if r >= len(alive) or not alive[r] or r in banned:
                        continue
                    hit = (f, r, int(cols["token"][p]), 2 * p + s)
                    by_row.setdefault(r, []).append(hit)
        scored = []
        for r, hits in by_row.items():
            total = sum(int(qc1[h[0]] - qc0[h[0]]) for h in hits)
            union, end = 0, -1
            for f in sorted({h[0] for h in hits}):
                union += max(0, int(qc1[f]) - max(int(qc0[f]), end))
                end = int(qc1[f])
            if total >= min_chars and union >= min_chars:
                scored.append((-union, r))
        for _, r in sorted(sorted(scored)[:max_candidates], key=lambda s: s[1]):
            out += sorted(by_row[r], key=lambda h: (qtok[h[0]], h[2]))
    return out


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("n_segments", [1, 2])
def test_it_keeps_the_same_hits_as_the_plain_statement_of_the_rules(seed, n_segments):
    rng = np.random.default_rng(seed)
    n_hashes, n_rows = 40, 30
    segs = [_segment(rng, 600, n_hashes, n_rows) for _ in range(n_segments)]
    qcol, q_start = _queries(rng, [12, 0, 25, 7, 30], n_hashes)
    ranges = [
        (np.searchsorted(keys, qcol[0], "left"), np.searchsorted(keys, qcol[0], "right")) for keys, _ in segs
    ]
    informative = rng.random(qcol.shape[1]) < 0.8
    alive = rng.random(n_rows - 2) < 0.85  # the two highest rows lie past the bitmap: never live
    exclude = [np.sort(rng.choice(n_rows, rng.integers(0, 4), replace=False)) for _ in range(5)]
    exclude[1] = None
    for min_chars, cap in ((20, 3), (60, 64), (1, 1)):
        got = candidate_hits(
            qcol, q_start, informative, segs, ranges, alive, exclude, min_chars=min_chars, max_candidates=cap
        )
        want = _reference(qcol, q_start, informative, segs, ranges, alive, exclude, min_chars, cap)
        assert [tuple(int(c[i]) for c in got) for i in range(len(got[0]))] == want


def test_it_returns_nothing_when_every_document_is_excluded():
    rng = np.random.default_rng(1)
    segs = [_segment(rng, 200, 10, 5)]
    qcol, q_start = _queries(rng, [15], 10)
    ranges = [(np.searchsorted(segs[0][0], qcol[0], "left"), np.searchsorted(segs[0][0], qcol[0], "right"))]
    got = candidate_hits(
        qcol,
        q_start,
        np.ones(15, bool),
        segs,
        ranges,
        np.ones(5, bool),
        [np.arange(5)],
        min_chars=1,
        max_candidates=64,
    )
    assert all(len(c) == 0 for c in got)


@pytest.mark.parametrize("seed", range(4))
def test_it_keeps_the_same_hits_without_reading_the_bitmap_when_every_row_is_live(seed):
    rng = np.random.default_rng(100 + seed)
    segs = [_segment(rng, 600, 40, 30), _segment(rng, 100, 40, 30)]
    qcol, q_start = _queries(rng, [20, 30], 40)
    ranges = [
        (np.searchsorted(keys, qcol[0], "left"), np.searchsorted(keys, qcol[0], "right")) for keys, _ in segs
    ]
    informative = np.ones(qcol.shape[1], bool)
    alive = np.ones(30, bool)
    exclude = [np.array([3, 7]), np.array([], np.int64)]
    got = candidate_hits(
        qcol,
        q_start,
        informative,
        segs,
        ranges,
        alive,
        exclude,
        all_live=True,
        min_chars=20,
        max_candidates=4,
    )
    want = _reference(qcol, q_start, informative, segs, ranges, alive, exclude, 20, 4)
    assert [tuple(int(c[i]) for c in got) for i in range(len(got[0]))] == want


def test_doc_lines_reads_the_lines_of_the_postings_a_hit_points_at():
    rng = np.random.default_rng(3)
    segs = [_segment(rng, 50, 10, 5), _segment(rng, 20, 10, 5)]
    at = np.array([2 * 7 + 0, 2 * 3 + 1, 2 * 49 + 0, 2 * 19 + 1])
    first, last = doc_lines(segs, at)
    want = [
        (segs[s][1]["line_start"][p], segs[s][1]["line_end"][p])
        for s, p in ((0, 7), (1, 3), (0, 49), (1, 19))
    ]
    assert list(zip(first.tolist(), last.tolist(), strict=True)) == [(int(a), int(b)) for a, b in want]
