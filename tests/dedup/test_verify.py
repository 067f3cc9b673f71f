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
