"""Exact set similarity of sorted unique ``uint32`` arrays: the check behind every reported match.

MinHash and band collisions only propose candidates; what the engine reports as ``verified`` is
computed here, exactly, on shingle sets. Sets are sorted unique ``uint32`` arrays (what
``np.unique`` returns), so the intersection is one linear merge. The batched form works on the
concatenated arrays (data + offsets) the matcher keeps, so verifying a thousand candidate pairs
is one numba call rather than a thousand numpy calls.
"""

from __future__ import annotations

import numpy as np

# numba is optional (DEDUP_NO_NUMBA=1 or not installed): the Python fallback gives identical
# numbers, only slower. ``_jit`` compiles with ``cache=True`` so a new process loads the machine
# code from disk instead of paying the compile on its first query.
from dedup._kernels import USE_NUMBA, _jit

__all__ = ["containment", "intersection_size", "jaccard", "pair_intersections"]


def intersection_size(a: np.ndarray, b: np.ndarray) -> int:
    """Size of the intersection of two sorted unique arrays."""
    if len(a) == 0 or len(b) == 0:
        return 0
    return int(len(np.intersect1d(a, b, assume_unique=True)))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique arrays; two empty sets give 0.0 (nothing in
    common to report, unlike datasketch's convention of 1.0 for two empty MinHashes)."""
    inter = intersection_size(a, b)
    union = len(a) + len(b) - inter
    return inter / union if union else 0.0


def containment(a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of ``a`` contained in ``b`` (``|a & b| / |a|``); an empty ``a`` gives 0.0."""
    return intersection_size(a, b) / len(a) if len(a) else 0.0


def _pair_intersections_py(a_data, a_off, a_idx, b_data, b_off, b_idx):
    out = np.zeros(len(a_idx), np.int64)
    for k in range(len(a_idx)):
        i, j = a_idx[k], b_idx[k]
        out[k] = intersection_size(a_data[a_off[i] : a_off[i + 1]], b_data[b_off[j] : b_off[j + 1]])
    return out


def _merge_count_py(a_data, p, pe, b_data, q, qe, need):
    """Elements shared by the sorted runs ``a_data[p:pe]`` and ``b_data[q:qe]``, merged once.

    Once even what is left of the shorter run cannot bring the count up to ``need``, the merge
    stops and returns what it has (below ``need``): a pair that fails a threshold costs only the
    part of the merge that proves it. ``need=0`` never stops early.
    """
    n = 0
    while p < pe and q < qe:
        if n + min(pe - p, qe - q) < need:
            break
        x, y = a_data[p], b_data[q]
        if x == y:
            n += 1
            p += 1
            q += 1
        elif x < y:
            p += 1
        else:
            q += 1
    return n


_merge_count = _jit(_merge_count_py) if USE_NUMBA else _merge_count_py


def _pair_intersections_nb(a_data, a_off, a_idx, b_data, b_off, b_idx):  # pragma: no cover - jitted
    out = np.zeros(len(a_idx), np.int64)
    for k in range(len(a_idx)):
        i, j = a_idx[k], b_idx[k]
        out[k] = _merge_count(a_data, a_off[i], a_off[i + 1], b_data, b_off[j], b_off[j + 1], 0)
    return out


_kernel = _jit(_pair_intersections_nb) if USE_NUMBA else None


def _pair_intersections_reaching_py(a_data, a_off, a_idx, b_data, b_off, b_idx, threshold):
    out = np.zeros(len(a_idx), np.int64)
    for k in range(len(a_idx)):
        i, j = a_idx[k], b_idx[k]
        p, pe = a_off[i], a_off[i + 1]
        q, qe = b_off[j], b_off[j + 1]
        total = (pe - p) + (qe - q)
        # the fewest shared elements that reach the threshold, by the matcher's own test
        # (inter >= threshold * union - 1e-9), which grows with inter: the smallest passing value
        need = max(0, int(np.floor(threshold * total / (1.0 + threshold))) - 1)
        while need < total and not need >= threshold * (total - need) - 1e-9:
            need += 1
        # the merge stops once even the rest of the shorter side cannot reach `need`
        out[k] = _merge_count(a_data, p, pe, b_data, q, qe, need)
    return out


_reaching_kernel = _jit(_pair_intersections_reaching_py) if USE_NUMBA else _pair_intersections_reaching_py


def pair_intersections(
    a_data: np.ndarray,
    a_off: np.ndarray,
    a_idx: np.ndarray,
    b_data: np.ndarray,
    b_off: np.ndarray,
    b_idx: np.ndarray,
    *,
    threshold: float | None = None,
) -> np.ndarray:
    """Intersection sizes for many pairs of sets stored as concatenated arrays.

    Set ``i`` of side ``a`` is ``a_data[a_off[i]:a_off[i + 1]]`` (sorted unique); the ``k``-th
    result is ``|a_set[a_idx[k]] & b_set[b_idx[k]]|``.

    With ``threshold``, only the pairs whose Jaccard reaches it (``inter >= threshold * union -
    1e-9``, the matcher's test) are counted exactly; for the others the result is some smaller
    count that fails the same test. Most candidate pairs of a query fail, and their merge stops
    as soon as what is left cannot make up the difference.
    """
    a_idx = np.asarray(a_idx, np.int64)
    b_idx = np.asarray(b_idx, np.int64)
    if len(a_idx) == 0:
        return np.zeros(0, np.int64)
    args = (
        np.asarray(a_data, np.uint32),
        np.asarray(a_off, np.int64),
        a_idx,
        np.asarray(b_data, np.uint32),
        np.asarray(b_off, np.int64),
        b_idx,
    )
    if threshold is not None:
        return _reaching_kernel(*args, float(threshold))
    if _kernel is None:
        return _pair_intersections_py(*args)
    return _kernel(*args)
