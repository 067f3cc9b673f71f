"""Exact set similarity: the numbers every reported match is judged by."""

import numpy as np
import pytest

from dedup.verify import containment, jaccard, pair_intersections


def _set(*values):
    return np.array(sorted(set(values)), np.uint32)


@pytest.mark.parametrize(
    ("a", "b", "expected_jaccard", "expected_containment"),
    [
        (_set(), _set(), 0.0, 0.0),
        (_set(1, 2, 3), _set(), 0.0, 0.0),
        (_set(1, 2, 3), _set(1, 2, 3), 1.0, 1.0),
        (_set(1, 2), _set(1, 2, 3, 4), 0.5, 1.0),
        (_set(*range(10)), _set(*range(3, 10), *range(100, 103)), 7 / 13, 0.7),
    ],
)
def test_it_computes_exact_jaccard_and_containment(a, b, expected_jaccard, expected_containment):
    assert jaccard(a, b) == pytest.approx(expected_jaccard)
    assert containment(a, b) == pytest.approx(expected_containment)


def test_batched_intersections_agree_with_numpy_on_random_sets():
    rng = np.random.default_rng(7)
    sets = [np.unique(rng.integers(0, 200, rng.integers(0, 80))).astype(np.uint32) for _ in range(30)]
    off = np.concatenate([[0], np.cumsum([len(s) for s in sets])])
    data = np.concatenate(sets)
    i, j = rng.integers(0, 30, 100), rng.integers(0, 30, 100)
    got = pair_intersections(data, off, i, data, off, j)
    want = [len(np.intersect1d(sets[a], sets[b])) for a, b in zip(i, j, strict=True)]
    assert got.tolist() == want


def _reaches(inter: int, union: int, threshold: float) -> bool:
    # the matcher's test for a near-duplicate
    return union > 0 and inter >= threshold * union - 1e-9


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "pure-python"])
@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.9])
def test_intersections_with_a_threshold_are_exact_for_the_pairs_that_reach_it(compiled, threshold):
    from dedup import verify

    # overlapping sets of similar sizes, so that many pairs fall on either side of the threshold
    rng = np.random.default_rng(11)
    base = np.arange(0, 400, dtype=np.uint32)
    sets = [
        np.unique(rng.choice(base, rng.integers(0, 120), replace=False)).astype(np.uint32) for _ in range(20)
    ]
    sets += [np.unique(np.concatenate([s, rng.integers(400, 500, 3)])).astype(np.uint32) for s in sets[:10]]
    off = np.concatenate([[0], np.cumsum([len(s) for s in sets])]).astype(np.int64)
    data = np.concatenate(sets)
    pairs = [(a, b) for a in range(len(sets)) for b in range(len(sets))]
    i = np.array([a for a, _ in pairs], np.int64)
    j = np.array([b for _, b in pairs], np.int64)
    if compiled:
        got = pair_intersections(data, off, i, data, off, j, threshold=threshold)
    else:
        got = verify._pair_intersections_reaching_py(data, off, i, data, off, j, threshold)

    reaching = 0
    for (a, b), n in zip(pairs, got.tolist(), strict=True):
        exact = len(np.intersect1d(sets[a], sets[b]))
        union = len(sets[a]) + len(sets[b])
        if _reaches(exact, union - exact, threshold):
            reaching += 1
            assert n == exact
        else:
            assert n <= exact and not _reaches(n, union - n, threshold)
    assert 0 < reaching < len(pairs)  # the table holds pairs on both sides


def test_a_pair_exactly_at_the_threshold_is_counted_exactly():
    # 7 shared of a union of 10: Jaccard 0.7, "at" 0.7, not below it
    a, b = _set(*range(8)), _set(*range(1, 8), 100, 101)
    data = np.concatenate([a, b])
    off = np.array([0, len(a), len(a) + len(b)], np.int64)
    got = pair_intersections(data, off, np.array([0]), data, off, np.array([1]), threshold=0.7)
    assert got.tolist() == [7]
