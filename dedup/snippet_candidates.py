"""Snippet search, step one: which registered documents each query is worth chaining against.

For every query of a batch, :func:`candidate_hits` walks the postings of its informative
fingerprints once, in query order, and keeps per document (row) what the pruning rules of
:meth:`dedup.snippets.SnippetIndex.search_batch` need:

* the sum of the query spans of all its hits (a document below ``min_chars`` cannot cover
  ``min_chars``), and
* the union of the query spans of the distinct fingerprints it shares (the most query
  characters a chain could ever cover there); the query's fingerprints come in token order and
  their spans grow with the token, so the union is a running sum of what each adds past the
  previous end.

Documents excluded for the query, dead rows and documents under either bound are dropped, the
``max_candidates`` with the largest union are kept (ties: the lower row), and only their hits come
out, sorted by (query, row, query token, document token), with the document token gathered;
their document lines are read later (:func:`doc_lines`), for the hits of reported chains only.

Why a compiled pass and not numpy: a query against a million documents has about a thousand
hits, nearly all of them on documents that share a few k-grams by chance. Expanding every hit
into arrays, sorting all of them by (query, document) and gathering their columns cost more
than everything after it; here a hit costs a few reads, and the per-document state lives in a
small dense table per query, found through an open-addressing hash table of twice the query's
postings (a few kilobytes that stay in cache: a registry-sized row -> slot array made every hit
a cache miss).
"""

from __future__ import annotations

import numpy as np

from dedup._kernels import USE_NUMBA, _jit

__all__ = ["candidate_hits", "doc_lines"]


def _candidates_py(
    q_start,
    qtok,
    qc0,
    qc1,
    inf,
    rows0,
    tok0,
    lo0,
    hi0,
    rows1,
    tok1,
    lo1,
    hi1,
    alive,
    check_alive,
    ex_rows,
    ex_off,
    min_chars,
    max_candidates,
    per_query,
    total,
):
    n_q = len(q_start) - 1
    n_alive = len(alive)
    out_f = np.empty(total, np.int64)
    out_row = np.empty(total, np.int64)
    out_d = np.empty(total, np.int64)
    out_at = np.empty(total, np.int64)
    n_out = 0
    most = 1
    for q in range(n_q):
        most = max(most, per_query[q] + ex_off[q + 1] - ex_off[q])
    dense_row = np.empty(most, np.int64)
    excluded = np.zeros(most, np.bool_)
    rank = np.zeros(most, np.int64)  # a kept document's place in row order, from 1; 0 if not kept
    at_rank = np.zeros(max_candidates + 1, np.int64)
    g_sum = np.empty(most, np.int64)
    bound = np.empty(most, np.int64)
    last_end = np.empty(most, np.int64)
    last_f = np.empty(most, np.int64)
    cand = np.empty(most, np.int64)
    buf_f = np.empty(most, np.int64)
    buf_slot = np.empty(most, np.int64)
    buf_seg = np.empty(most, np.int64)
    buf_pos = np.empty(most, np.int64)
    pick = np.empty(most, np.int64)
    bits = 6
    while (1 << bits) < 2 * most:
        bits += 1
    table = np.empty(1 << bits, np.int64)
    for q in range(n_q):
        n_dense = 0
        n_buf = 0
        qbits = 6
        while (1 << qbits) < 2 * (per_query[q] + ex_off[q + 1] - ex_off[q]):
            qbits += 1
        mask = (1 << qbits) - 1
        shift = 32 - qbits
        table[: 1 << qbits] = -1
        for e in range(ex_off[q], ex_off[q + 1]):
            r = ex_rows[e]
            if r < 0 or r >= n_alive:
                continue
            h = ((r * 2654435761) & 0xFFFFFFFF) >> shift
            while table[h] >= 0 and dense_row[table[h]] != r:
                h = (h + 1) & mask
            if table[h] >= 0:
                continue
            table[h] = n_dense
            dense_row[n_dense] = r
            excluded[n_dense] = True
            n_dense += 1
        for f in range(q_start[q], q_start[q + 1]):
            if not inf[f]:
                continue
            span = qc1[f] - qc0[f]
            for s in range(2):
                if s == 0:
                    rows, a, b = rows0, lo0[f], hi0[f]
                else:
                    rows, a, b = rows1, lo1[f], hi1[f]
                for p in range(a, b):
                    r = np.int64(rows[p])
                    if check_alive and (r >= n_alive or not alive[r]):
                        continue
                    h = ((r * 2654435761) & 0xFFFFFFFF) >> shift
                    while table[h] >= 0 and dense_row[table[h]] != r:
                        h = (h + 1) & mask
                    slot = table[h]
                    if slot < 0:
                        slot = n_dense
                        table[h] = slot
                        dense_row[slot] = r
                        excluded[slot] = False
                        g_sum[slot] = 0
                        bound[slot] = 0
                        last_end[slot] = -1
                        last_f[slot] = -1
                        n_dense += 1
                    if excluded[slot]:
                        continue
                    g_sum[slot] += span
                    if last_f[slot] != f:
                        last_f[slot] = f
                        add = qc1[f] - max(qc0[f], last_end[slot])
                        if add > 0:
                            bound[slot] += add
                        last_end[slot] = qc1[f]
                    buf_f[n_buf] = f
                    buf_slot[n_buf] = slot
                    buf_seg[n_buf] = s
                    buf_pos[n_buf] = p
                    n_buf += 1
        n_cand = 0
        for slot in range(n_dense):
            if not excluded[slot] and g_sum[slot] >= min_chars and bound[slot] >= min_chars:
                cand[n_cand] = slot
                n_cand += 1
        if n_cand == 0:
            continue
        # the largest bound first, the lower row on ties (rows are distinct: any sort will do
        # for the first key, the second must be stable)
        c = cand[:n_cand]
        c = c[np.argsort(dense_row[c])]
        c = c[np.argsort(-bound[c], kind="mergesort")]
        n_keep = min(n_cand, max_candidates)
        # The kept documents' hits by row, each document's in buffer (query-token) order: a
        # counting sort on the documents' places in row order (a few dozen at most), not a sort
        # of the hits (hundreds per query, the largest cost of this pass after the postings).
        kept = c[:n_keep]
        kept = kept[np.argsort(dense_row[kept])]
        for t in range(n_keep + 1):
            at_rank[t] = 0
        for t in range(n_keep):
            rank[kept[t]] = t + 1
        for t in range(n_buf):
            at_rank[rank[buf_slot[t]]] += 1
        n_pick = 0
        for t in range(1, n_keep + 1):
            count = at_rank[t]
            at_rank[t] = n_pick
            n_pick += count
        for t in range(n_buf):
            place = rank[buf_slot[t]]
            if place:
                pick[at_rank[place]] = t
                at_rank[place] += 1
        for t in range(n_keep):
            rank[kept[t]] = 0
        first = n_out
        for u in range(n_pick):
            t = pick[u]
            p = buf_pos[t]
            out_f[n_out] = buf_f[t]
            out_row[n_out] = dense_row[buf_slot[t]]
            out_d[n_out] = tok0[p] if buf_seg[t] == 0 else tok1[p]
            out_at[n_out] = 2 * p + buf_seg[t]
            # a fingerprint found at several places of one document: by document token
            v = n_out
            while (
                v > first
                and out_row[v - 1] == out_row[v]
                and out_f[v - 1] == out_f[v]
                and out_d[v - 1] > out_d[v]
            ):
                out_f[v - 1], out_f[v] = out_f[v], out_f[v - 1]
                out_d[v - 1], out_d[v] = out_d[v], out_d[v - 1]
                out_at[v - 1], out_at[v] = out_at[v], out_at[v - 1]
                v -= 1
            n_out += 1
    return out_f[:n_out], out_row[:n_out], out_d[:n_out], out_at[:n_out]


_candidates_kernel = _jit(_candidates_py) if USE_NUMBA else _candidates_py

_EMPTY_U32 = np.zeros(0, np.uint32)
_EMPTY_I64 = np.zeros(0, np.int64)


def candidate_hits(
    qcol: np.ndarray,
    q_start: np.ndarray,
    informative: np.ndarray,
    segs: list,
    ranges: list,
    alive: np.ndarray,
    exclude: list | None,
    *,
    all_live: bool = False,
    min_chars: int,
    max_candidates: int,
) -> tuple[np.ndarray, ...]:
    """The hits of each query's candidate documents (see the module docstring).

    Args:
        qcol: the batch's query fingerprints as int64 columns (``WINNOW_COLUMNS`` order).
        q_start: query ``q``'s fingerprints are ``q_start[q]:q_start[q + 1]``.
        informative: per fingerprint, whether its postings are expanded at all.
        segs: the postings' segments ``(keys, columns)`` (one or two).
        ranges: per segment, ``(lo, hi)`` posting ranges of every fingerprint.
        alive: live rows.
        all_live: every row in the postings is live (none removed since the last compaction):
            the bitmap is not read at all, a random read per hit saved.
        exclude: per query, rows never to report (or None).

    Returns:
        ``(f, row, doc_token, at)`` per kept hit, int64, sorted by (query, row, query token,
        document token); ``at`` is where the posting lies (``2 * position + segment``), for
        :func:`doc_lines`.
    """
    if len(segs) > 2:
        raise ValueError("postings have at most two segments (main and delta)")
    inf = np.ascontiguousarray(informative, np.bool_)
    cols = []
    for s in range(2):
        if s < len(segs):
            c = segs[s][1]
            lo, hi = ranges[s]
            cols += [np.ascontiguousarray(c[name], np.uint32) for name in ("row", "token")]
            cols += [np.ascontiguousarray(lo, np.int64), np.ascontiguousarray(hi, np.int64)]
        else:
            zeros = np.zeros(len(inf), np.int64)
            cols += [_EMPTY_U32] * 2 + [zeros, zeros]
    n_q = len(q_start) - 1
    ex_parts = (
        [] if exclude is None else [np.asarray(e, np.int64) if e is not None else _EMPTY_I64 for e in exclude]
    )
    ex_len = np.array([len(e) for e in ex_parts] if ex_parts else np.zeros(n_q), np.int64)
    ex_off = np.zeros(n_q + 1, np.int64)
    np.cumsum(ex_len, out=ex_off[1:])
    ex_rows = np.concatenate(ex_parts) if ex_parts and ex_off[-1] else _EMPTY_I64
    postings = np.zeros(len(inf), np.int64)
    for s in range(len(segs)):
        lo, hi = ranges[s]
        postings += np.where(inf, hi - lo, 0)
    csum = np.zeros(len(inf) + 1, np.int64)
    np.cumsum(postings, out=csum[1:])
    per_query = csum[q_start[1:]] - csum[q_start[:-1]]
    return _candidates_kernel(
        np.ascontiguousarray(q_start, np.int64),
        qcol[1],
        qcol[4],
        qcol[5],
        inf,
        *cols,
        np.ascontiguousarray(alive, np.bool_),
        not all_live,
        ex_rows,
        ex_off,
        int(min_chars),
        int(max_candidates),
        per_query,
        int(csum[-1]),
    )


def doc_lines(segs: list, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last document lines of the postings at ``at`` (see :func:`candidate_hits`).

    Read only for the hits of reported chains: every read is a cache miss in a large column,
    and most candidate hits are never reported.
    """
    first, last = np.empty(len(at), np.int64), np.empty(len(at), np.int64)
    pos, seg = at >> 1, at & 1
    for s, (_keys, cols) in enumerate(segs):
        here = seg == s
        first[here] = cols["line_start"][pos[here]]
        last[here] = cols["line_end"][pos[here]]
    return first, last
