"""Snippet search, step three: the chains of each (query, document) cut into pieces.

After :func:`dedup.snippets.chain_hits` gives every hit the best chain ending there, pieces are
taken greedily, best score first, each hit used once; a piece is kept if its hits' query spans
cover ``min_piece`` characters (a third of the snippet floor: an edit can split one copied
region in two). Chains never cross (query, document) groups, so each group is cut on its own:
one compiled pass, where sorting every hit of a batch by score and then regrouping the pieces
with numpy cost as much as the chaining itself.
"""

from __future__ import annotations

import numpy as np

from dedup._kernels import USE_NUMBA, _jit

__all__ = ["group_pieces"]


def _group_pieces_py(score, prev, qc0, qc1, g_off, min_piece):
    n = len(score)
    n_groups = len(g_off) - 1
    used = np.zeros(n, np.bool_)
    buf = np.empty(n, np.int64)
    ends = np.empty(n, np.int64)
    members = np.empty(n, np.int64)
    m_off = np.zeros(n + 1, np.int64)
    piece_end = np.empty(n, np.int64)
    k_off = np.zeros(n_groups + 1, np.int64)
    n_m, n_p, n_k = 0, 0, 0
    for g in range(n_groups):
        n_ends = 0
        for i in range(g_off[g], g_off[g + 1]):
            if score[i] >= min_piece:
                ends[n_ends] = i
                n_ends += 1
        if n_ends == 0:
            continue
        e = ends[:n_ends]
        # best score first, the earlier hit on ties
        by_score = e[np.argsort(-score[e], kind="mergesort")]
        first_piece = n_p
        for t in range(n_ends):
            i = by_score[t]
            if used[i]:
                continue
            cnt = 0
            j = i
            while j >= 0 and not used[j]:
                buf[cnt] = j
                cnt += 1
                j = prev[j]
            # union of the members' query spans; along a chain both ends only grow
            total = 0
            end = -1
            for u in range(cnt - 1, -1, -1):
                k = buf[u]
                used[k] = True
                if qc1[k] <= end:
                    continue
                total += qc1[k] - max(qc0[k], end)
                end = qc1[k]
            if total >= min_piece:
                for u in range(cnt - 1, -1, -1):  # in chain order
                    members[n_m] = buf[u]
                    n_m += 1
                piece_end[n_p] = i
                n_p += 1
                m_off[n_p] = n_m
        if n_p > first_piece:
            n_k += 1
            k_off[n_k] = n_p
    return members[:n_m], m_off[: n_p + 1], piece_end[:n_p], k_off[: n_k + 1]


_group_pieces_kernel = _jit(_group_pieces_py) if USE_NUMBA else _group_pieces_py


def group_pieces(
    group: np.ndarray, score: np.ndarray, prev: np.ndarray, qc0: np.ndarray, qc1: np.ndarray, min_piece: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pieces of the chains of hits sorted by ``group`` (see the module docstring).

    Returns:
        ``(members, m_off, piece_end, k_off)``: piece ``p``'s hits in chain order are
        ``members[m_off[p]:m_off[p + 1]]`` and it ends at hit ``piece_end[p]``; the pieces of
        each group that has any are ``k_off[c]:k_off[c + 1]``, best first; groups in order.
    """
    n = len(group)
    new = np.ones(n, bool)
    new[1:] = group[1:] != group[:-1]
    g_off = np.append(np.flatnonzero(new), n).astype(np.int64)
    return _group_pieces_kernel(
        np.ascontiguousarray(score, np.int64),
        np.ascontiguousarray(prev, np.int64),
        np.ascontiguousarray(qc0, np.int64),
        np.ascontiguousarray(qc1, np.int64),
        g_off,
        int(min_piece),
    )
