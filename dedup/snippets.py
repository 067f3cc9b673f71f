"""Snippet search: a few copied lines inside a large registered file.

Ten lines out of five hundred share about 2% of the file's shingles, so whole-document MinHash
and LSH cannot see them. Snippets are found by *containment* instead, with the classic
document-fingerprinting pipeline (Schleimer, Wilkerson & Aiken, "Winnowing", SIGMOD 2003):

1. **Winnowing.** Hash every k-gram of tokens; in each window of ``window`` consecutive k-gram
   hashes keep the minimum (the rightmost on ties). Any run of at least ``window + k - 1`` common
   tokens shares at least one selected fingerprint, and about ``2 / (window + 1)`` of the k-grams
   are kept. Each fingerprint keeps its position: token index, first and last line of the k-gram,
   and its span in non-whitespace characters (``WINNOW_COLUMNS``).
2. **Inverted index.** Registered fingerprints go into a :class:`dedup.postings.Postings` store
   (sorted ``uint32`` hashes with parallel row, token and line arrays; the same log-structured
   add / tombstone / save / mmap scheme as the LSH bands).
3. **Boilerplate suppression.** A hash found in more than ``max_df`` live registered documents
   (licence headers, ``if __name__ == "__main__":``, generated templates) is ignored when
   localising, so boilerplate never makes a match on its own. ``max_df`` is absolute on purpose:
   in a small registry a fraction-of-documents rule would also suppress real code that the same
   author registered in several versions. For very large registries the limit grows with the
   registry (``max_df_fraction``) so that a popular idiom does not stay "rare" forever. Document
   frequencies are counted in place over the posting ranges (numba): boilerplate postings are
   never expanded into hit arrays.
4. **Localisation.** Hits are grouped per (query, document) and chained by dynamic programming
   into runs that advance in the same order on both sides, allowing gaps from small edits (a
   renamed identifier or a changed literal breaks the k-grams that contain it). A run is reported
   only if the union of its k-grams covers at least ``min_chars`` non-whitespace characters of
   the query, and only if its fingerprints are not mostly repeats of a few hashes (a table of
   ``0,`` rows chains along any diagonal of another). Each chain also measures its longest
   *aligned run*: hits that advance by the same number of tokens on both sides, i.e. text copied
   verbatim or with substitutions only (see ``_longest_run_py``). Chaining tolerates inserted and
   deleted tokens, so short idioms shared by unrelated files (imports, a ``setUpClass``, a
   ``with self.assertRaises(...)`` block) add up to ``min_chars`` when chained; the matcher
   reports a snippet only if one aligned run reaches the floor (``min_run_chars``), and a chain
   that has such a group is localised to those groups alone. Line ranges run from the first line
   of the first k-gram to the last line of the last one, on both sides. Each hit also reports how
   many tokens its k-grams cover on both sides (every group: lines inserted or deleted break
   alignment, not copying), for the matcher's whole-document coverage rule.
   Before chaining, (query, document) groups that cannot reach ``min_chars`` are dropped (exact),
   and each query keeps only its ``MAX_CANDIDATES`` most promising documents (a deliberate cap):
   one compiled pass over the postings (:mod:`dedup.snippet_candidates`). Then numba passes for
   chains, pieces (:mod:`dedup.snippet_pieces`), their assembly into reported chains (overlap
   filtering, joining, line ranges) and the scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dedup._kernels import USE_NUMBA, _jit
from dedup.postings import Postings, expand_ranges, key_ranges
from dedup.snippet_candidates import candidate_hits, doc_lines
from dedup.snippet_pieces import group_pieces

__all__ = [
    "HIT_BUDGET",
    "MAX_CANDIDATES",
    "WINNOW_COLUMNS",
    "SnippetHit",
    "SnippetIndex",
    "chain_hits",
    "winnow",
]

# Column order of a winnow array (uint32[n, 6]).
WINNOW_COLUMNS = ("hash", "token", "line_start", "line_end", "char_start", "char_end")
H, TOK, L0, L1, C0, C1 = range(6)

MAX_DF_FRACTION = 1e-4
# a chain whose fingerprints are mostly repeats of a few hashes is not reported (see search_batch)
MIN_DISTINCT_SHARE = 0.25
# Per query, only the documents with the most promising hits are chained: the ``MAX_CANDIDATES``
# whose informative hits could cover the most query characters (the union of the query spans of
# the distinct fingerprints they share). A hash just under the boilerplate limit otherwise drags
# every document holding it into the chaining, for every query that has it; 64 is far above the
# number of places one snippet is copied from in practice. A document beyond the cap is missed
# only if 64 others share more of the query than it does.
MAX_CANDIDATES = 64
# Postings expanded at once by search_batch; larger batches are cut (never a query), which keeps
# memory flat: each posting costs about 100 bytes across the temporary arrays.
HIT_BUDGET = 4_000_000
# Document frequencies of keys between the boilerplate limits, remembered between batches (about
# 100 bytes each); forgotten when the index changes, or all at once past this many.
DF_CACHE_MAX = 1 << 20


def winnow(
    kgram_hashes: np.ndarray,
    lines: np.ndarray,
    weights: np.ndarray,
    *,
    k: int,
    window: int,
) -> np.ndarray:
    """Select winnowing fingerprints with their positions.

    Args:
        kgram_hashes: ``uint32`` hash of each k-gram (k-gram ``i`` covers tokens ``i..i+k-1``; a
            document shorter than ``k`` tokens has a single k-gram covering all of them).
        lines: ``uint32`` 1-based line of every token.
        weights: ``uint32`` non-whitespace characters of every token.
        k: tokens per k-gram.
        window: k-grams per winnowing window.

    Returns:
        ``uint32[n, 6]`` with columns ``WINNOW_COLUMNS``, ordered by token index.
    """
    h = np.ascontiguousarray(kgram_hashes, np.uint32)
    lines = np.ascontiguousarray(lines, np.uint32)
    weights = np.ascontiguousarray(weights, np.uint32)
    if len(h) == 0 or len(lines) == 0:
        return np.empty((0, len(WINNOW_COLUMNS)), np.uint32)
    return _winnow_kernel(h, lines, weights, k, window)


def _winnow_np(h, lines, weights, k, window):
    """Winnowing with numpy alone: the fallback, and the reference the kernel is tested against."""
    n_tok = len(lines)
    if len(h) <= window:
        picks = np.array([len(h) - 1 - int(np.argmin(h[::-1]))])
    else:
        win = np.lib.stride_tricks.sliding_window_view(h, window)
        # rightmost minimum: argmin over the reversed window
        picks = np.arange(len(win)) + (window - 1 - np.argmin(win[:, ::-1], axis=1))
        picks = np.unique(picks)
    cum = np.zeros(n_tok + 1, np.int64)
    np.cumsum(weights, out=cum[1:])
    end_tok = np.minimum(picks + k, n_tok)  # exclusive
    out = np.empty((len(picks), len(WINNOW_COLUMNS)), np.uint32)
    out[:, H] = h[picks]
    out[:, TOK] = picks
    out[:, L0] = lines[picks]
    out[:, L1] = lines[end_tok - 1]
    out[:, C0] = cum[picks]
    out[:, C1] = cum[end_tok]
    return out


def _winnow_nb(h, lines, weights, k, window):
    # One pass, no temporaries but the output: every query is winnowed (twice when it has a flat
    # reading), and numpy's sliding window, argmin and unique cost more than the selection itself.
    # The rightmost minimum of a sliding window never moves left, so picks come out sorted and
    # a repeat is always the previous pick.
    n = len(h)
    n_tok = len(lines)
    span = min(window, n)
    picks = np.empty(max(1, n - span + 1), np.int64)
    n_picks = 0
    for j in range(n - span + 1):
        best = j
        for t in range(j + 1, j + span):
            if h[t] <= h[best]:
                best = t
        if n_picks == 0 or picks[n_picks - 1] != best:
            picks[n_picks] = best
            n_picks += 1
    cum = np.zeros(n_tok + 1, np.int64)
    for t in range(n_tok):
        cum[t + 1] = cum[t] + weights[t]
    out = np.empty((n_picks, 6), np.uint32)
    for r in range(n_picks):
        p = picks[r]
        end = min(p + k, n_tok)
        out[r, 0] = h[p]
        out[r, 1] = p
        out[r, 2] = lines[p]
        out[r, 3] = lines[end - 1]
        out[r, 4] = cum[p]
        out[r, 5] = cum[end]
    return out


_winnow_kernel = _jit(_winnow_nb) if USE_NUMBA else _winnow_np


# -- chaining ----------------------------------------------------------------------------------


def _chain_py(group, qtok, dtok, qc0, qc1, blk, max_gap, max_drift, lookback):
    n = len(group)
    score = np.zeros(n, np.int64)
    prev = np.full(n, -1, np.int64)
    for i in range(n):
        best = qc1[i] - qc0[i]
        arg = -1
        # Walk back over the previous *query positions* (blocks of hits with the same group and
        # query token, sorted by document token), not over single hits: a fingerprint repeated
        # at many places of the document (a table, a run of similar asserts) fills a block, and
        # counting its hits one by one used to spend the whole lookback inside one block and
        # break the chain there.
        b1 = blk[i] - 1
        steps = 0
        while b1 >= 0 and group[b1] == group[i] and steps < lookback:
            dq = qtok[i] - qtok[b1]
            if dq > max_gap:
                break
            b0 = blk[b1]
            # hits of the block whose document token is in [dtok[i] - max_gap, dtok[i])
            low = dtok[i] - max_gap
            a, b = b0, b1 + 1
            while a < b:
                mid = (a + b) // 2
                if dtok[mid] < low:
                    a = mid + 1
                else:
                    b = mid
            j = a
            while j <= b1 and dtok[j] < dtok[i] and steps < lookback:
                dd = dtok[i] - dtok[j]
                if abs(dd - dq) <= max_drift:
                    gain = qc1[i] - max(qc0[i], qc1[j])
                    cand = score[j] + max(gain, 0)
                    if cand > best:
                        best = cand
                        arg = j
                j += 1
                steps += 1
            steps += 1
            b1 = b0 - 1
        score[i] = best
        prev[i] = arg
    return score, prev


_chain_kernel = _jit(_chain_py) if USE_NUMBA else _chain_py


def _distinct_rows_py(seg_rows, lo, hi, sel, alive, stamp, base, out, cap):
    """``out[t] +=`` the distinct live rows in ``seg_rows[lo[t]:hi[t]]``, for each ``t`` in ``sel``,
    counting no further once ``out[t]`` passes ``cap`` (the caller only asks "more than cap?").

    ``stamp`` (one slot per row) remembers the last ``base + t`` that counted a row; a row lies
    in one segment only, so the same ``stamp`` serves every segment. Its values must all be
    below ``base``: the caller keeps one array and raises ``base`` past every ``t`` it used, so
    a registry-sized array is not filled again for every query batch.
    """
    for u in range(len(sel)):
        t = sel[u]
        mark = base + t
        for p in range(lo[t], hi[t]):
            if out[t] > cap:
                break
            r = seg_rows[p]
            if r < len(alive) and alive[r] and stamp[r] != mark:
                stamp[r] = mark
                out[t] += 1


def _row_present_py(seg_rows, lo, hi, fps, rows, out):
    """``out[u] |=`` whether ``rows[u]`` is among ``seg_rows[lo[fps[u]]:hi[fps[u]]]``."""
    for u in range(len(fps)):
        if out[u]:
            continue
        t = fps[u]
        for p in range(lo[t], hi[t]):
            if seg_rows[p] == rows[u]:
                out[u] = True
                break


_distinct_rows_kernel = _jit(_distinct_rows_py) if USE_NUMBA else _distinct_rows_py
_row_present_kernel = _jit(_row_present_py) if USE_NUMBA else _row_present_py


def _sweep(lo, hi, order):
    """Length of the union of ``[lo[i], hi[i])`` over ``order`` (sorted by ``lo``)."""
    total = 0
    end = -1
    for t in range(len(order)):
        i = order[t]
        if hi[i] <= end:
            continue
        total += hi[i] - max(lo[i], end)
        end = hi[i]
    return total


def _chain_stats_py(members, g_off, c_off, qc0, qc1, qtok, dtok, ql0, ql1, dl0, dl1, k, tokens):
    """For reported chains: per group of pieces ``(first query line, last query line, first doc
    line, last doc line)``; per chain ``(query chars, query tokens, doc tokens)`` covered (the
    token columns left zero unless ``tokens``).

    ``members`` holds each group's hits, groups at ``g_off``, chains' groups at ``c_off``; a
    chain's hits come in query order, not necessarily in document order.
    """
    n_g = len(g_off) - 1
    n_c = len(c_off) - 1
    g_lines = np.empty((n_g, 4), np.int64)
    for g in range(n_g):
        a, b = g_off[g], g_off[g + 1]
        x0, x1, y0, y1 = ql0[members[a]], ql1[members[a]], dl0[members[a]], dl1[members[a]]
        for t in range(a + 1, b):
            m = members[t]
            x0 = min(x0, ql0[m])
            x1 = max(x1, ql1[m])
            y0 = min(y0, dl0[m])
            y1 = max(y1, dl1[m])
        g_lines[g, 0], g_lines[g, 1], g_lines[g, 2], g_lines[g, 3] = x0, x1, y0, y1
    stats = np.zeros((n_c, 3), np.int64)
    for c in range(n_c):
        a, b = g_off[c_off[c]], g_off[c_off[c + 1]]
        m = members[a:b]
        by_q = np.argsort(qc0[m], kind="mergesort")
        stats[c, 0] = _sweep(qc0[m], qc1[m], by_q)
        if not tokens:
            continue
        q = qtok[m]
        stats[c, 1] = _sweep(q, q + k, np.argsort(q, kind="mergesort"))
        d = dtok[m]
        stats[c, 2] = _sweep(d, d + k, np.argsort(d, kind="mergesort"))
    return g_lines, stats


def _containment_py(q_start, q_end, pair_f, p_lo, p_hi, pf, present, pf_off, s_lo, s_hi, s_off, ql0, ql1):
    """Per chain: how many of its query's fingerprints occur in the document, and the share of
    those inside the chain's sample ranges (0.0 when none is inside)."""
    n_c = len(q_start)
    found = np.zeros(n_c, np.int64)
    verified = np.zeros(n_c, np.float64)
    mark = np.zeros(len(ql0), np.bool_)
    for c in range(n_c):
        n = 0
        for t in range(p_lo[c], p_hi[c]):
            mark[pair_f[t]] = True
            n += 1
        for t in range(pf_off[c], pf_off[c + 1]):
            if present[t]:
                mark[pf[t]] = True
                n += 1
        found[c] = n
        inside = 0
        hit = 0
        for f in range(q_start[c], q_end[c]):
            ok = False
            for r in range(s_off[c], s_off[c + 1]):
                if ql0[f] >= s_lo[r] and ql1[f] <= s_hi[r]:
                    ok = True
                    break
            if ok:
                inside += 1
                if mark[f]:
                    hit += 1
        if inside:
            verified[c] = hit / inside
        for t in range(p_lo[c], p_hi[c]):
            mark[pair_f[t]] = False
        for t in range(pf_off[c], pf_off[c + 1]):
            mark[pf[t]] = False
    return found, verified


_containment_kernel = _jit(_containment_py) if USE_NUMBA else _containment_py


def _longest_run_py(m, qtok, dtok, qc0, qc1, qh, run_gap):
    """Query characters covered by the longest *aligned run* among hits ``m`` (in query order).

    Consecutive hits belong to one run when both sides advance by the same number of tokens, at
    most ``run_gap``: the text between them was copied token for token or with substitutions
    only (a renamed identifier, an edited literal, re-indented lines), never with tokens
    inserted or deleted. A run covers the union of its k-grams' query spans, each distinct hash
    counted once (the rows of a table repeat a few k-grams along any diagonal).
    """
    best = 0
    n = len(m)
    start = 0
    for t in range(1, n + 1):
        if t < n:
            dq = qtok[m[t]] - qtok[m[t - 1]]
            if 0 < dq <= run_gap and dtok[m[t]] - dtok[m[t - 1]] == dq:
                continue
        run = m[start:t]
        start = t
        # first occurrence of each hash, kept in query order
        order = np.argsort(qh[run], kind="mergesort")
        keep = np.ones(len(run), np.bool_)
        for u in range(1, len(order)):
            if qh[run[order[u]]] == qh[run[order[u - 1]]]:
                keep[order[u]] = False
        total = 0
        end = -1
        for u in range(len(run)):
            if not keep[u]:
                continue
            i = run[u]
            if qc1[i] <= end:
                continue
            total += qc1[i] - max(qc0[i], end)
            end = qc1[i]
        best = max(best, total)
    return best


_longest_run = _jit(_longest_run_py) if USE_NUMBA else _longest_run_py


def _assemble_py(
    kp, k_off, m_off, members, qtok, dtok, qc0, qc1, qh, join_gap, min_chars, distinct_share, run_gap
):
    """Pieces -> reported chains, per (query, document): one pass for all of them.

    ``kp[k_off[c]:k_off[c + 1]]`` are the pieces of one (query, document), best first;
    ``members[m_off[p]:m_off[p + 1]]`` the hits of piece ``p`` in chain order. Per (query,
    document): a query region matched at several places of the document (repeated code) keeps
    only its best place (pieces overlapping a kept one in the query are dropped; a piece's query
    tokens strictly increase, so its first and last hits bound it); the kept pieces, in query
    order, are joined when consecutive ones advance on both sides by at most ``join_gap`` tokens;
    a group of pieces is kept if its query spans cover ``min_chars`` and its fingerprints are not
    mostly repeats of a few hashes (a run of one repeated k-gram, "0, 0, 0," rows of a table,
    chains along any diagonal of another such run: most of a real copy's fingerprints differ).

    Returns:
        ``(out, g_off, c_off, c_src)``: the kept groups' hits (``out[g_off[g]:g_off[g + 1]]``),
        each reported chain's groups (``c_off``) and the index of its (query, document) in ``k_off``.
    """
    n_k = len(k_off) - 1
    out = np.empty(len(members), np.int64)
    g_off = np.zeros(len(kp) + 1, np.int64)
    g_run = np.zeros(len(kp), np.int64)
    c_off = np.zeros(n_k + 1, np.int64)
    c_src = np.empty(n_k, np.int64)
    kept = np.empty(len(kp), np.int64)
    k_lo = np.empty(len(kp), np.int64)
    k_hi = np.empty(len(kp), np.int64)
    n_out, n_g, n_c = 0, 0, 0
    for c in range(n_k):
        n_kept = 0
        for t in range(k_off[c], k_off[c + 1]):
            p = kp[t]
            lo = qtok[members[m_off[p]]]
            hi = qtok[members[m_off[p + 1] - 1]]
            ok = True
            for u in range(n_kept):
                if not (hi < k_lo[u] or lo > k_hi[u]):
                    ok = False
                    break
            if ok:
                kept[n_kept] = p
                k_lo[n_kept] = lo
                k_hi[n_kept] = hi
                n_kept += 1
        # kept pieces in query order (their spans are disjoint: no ties)
        by_q = np.argsort(k_lo[:n_kept])
        g_first = n_g
        u = 0
        while u < n_kept:
            # a group of consecutive pieces: u..v-1
            v = u + 1
            while v < n_kept:
                last = members[m_off[kept[by_q[v - 1]] + 1] - 1]
                first = members[m_off[kept[by_q[v]]]]
                dq = qtok[first] - qtok[last]
                dd = dtok[first] - dtok[last]
                if 0 < dq <= join_gap and 0 < dd <= join_gap:
                    v += 1
                else:
                    break
            a = n_out
            for w in range(u, v):
                p = kept[by_q[w]]
                for t in range(m_off[p], m_off[p + 1]):
                    out[n_out] = members[t]
                    n_out += 1
            u = v
            m = out[a:n_out]
            # union of the query spans (sorted by start, which chains almost always are)
            s0 = qc0[m]
            s1 = qc1[m]
            srt = True
            for t in range(1, len(m)):
                if s0[t] < s0[t - 1]:
                    srt = False
                    break
            if not srt:
                o = np.argsort(s0)
                s0 = s0[o]
                s1 = s1[o]
            total = 0
            end = -1
            for t in range(len(m)):
                if s1[t] <= end:
                    continue
                total += s1[t] - max(s0[t], end)
                end = s1[t]
            ok = total >= min_chars
            if ok:
                hs = np.sort(qh[m])
                nd = 1
                for t in range(1, len(hs)):
                    if hs[t] != hs[t - 1]:
                        nd += 1
                ok = not (nd < distinct_share * len(m))
            if ok:
                g_run[n_g] = _longest_run(m, qtok, dtok, qc0, qc1, qh, run_gap)
                n_g += 1
                g_off[n_g] = n_out
            else:
                n_out = a
        if n_g > g_first:
            c_src[n_c] = c
            n_c += 1
            c_off[n_c] = n_g
    return out[:n_out], g_off[: n_g + 1], g_run[:n_g], c_off[: n_c + 1], c_src[:n_c]


_assemble_kernel = _jit(_assemble_py) if USE_NUMBA else _assemble_py


def _merge_ranges_py(g_lines, c_off, col):
    """Per chain, its groups' line ranges ``g_lines[:, col:col + 2]`` merged (touching ranges
    join); returns ``(ranges, r_off)``, the ranges of chain ``c`` at ``r_off[c]:r_off[c + 1]``."""
    n_c = len(c_off) - 1
    out = np.empty((len(g_lines), 2), np.int64)
    r_off = np.zeros(n_c + 1, np.int64)
    n = 0
    for c in range(n_c):
        a, b = c_off[c], c_off[c + 1]
        lo = g_lines[a:b, col]
        hi = g_lines[a:b, col + 1]
        # ties on the start merge whatever their order: sorting by start alone is enough
        o = np.argsort(lo)
        first = n
        for t in range(len(o)):
            x, y = lo[o[t]], hi[o[t]]
            if n > first and x <= out[n - 1, 1] + 1:
                out[n - 1, 1] = max(out[n - 1, 1], y)
            else:
                out[n, 0] = x
                out[n, 1] = y
                n += 1
        r_off[c + 1] = n
    return out[:n], r_off


_merge_ranges_kernel = _jit(_merge_ranges_py) if USE_NUMBA else _merge_ranges_py


if USE_NUMBA:
    _sweep = _jit(_sweep)
    _chain_stats_kernel = _jit(_chain_stats_py)
else:
    _chain_stats_kernel = _chain_stats_py


def chain_hits(
    group: np.ndarray,
    qtok: np.ndarray,
    dtok: np.ndarray,
    qc0: np.ndarray,
    qc1: np.ndarray,
    *,
    max_gap: int,
    max_drift: int,
    lookback: int = 128,
) -> tuple[np.ndarray, np.ndarray]:
    """Best order-consistent chain ending at each hit.

    Hits must be sorted by ``(group, qtok, dtok)``. Hit ``j`` may precede hit ``i`` in a chain if
    they are in the same group, both token positions advance, neither by more than ``max_gap``
    tokens, and the two advances differ by at most ``max_drift`` (an edit inserts or deletes a
    few tokens on one side only). At most ``lookback`` earlier query positions and candidate
    hits are examined per hit.

    Returns:
        ``(score, prev)``: non-whitespace query chars covered by the best chain ending at each
        hit, and the previous hit of that chain (-1 at a chain start).
    """
    args = [np.ascontiguousarray(a, np.int64) for a in (group, qtok, dtok, qc0, qc1)]
    n = len(args[0])
    # blk[i]: index of the first hit with the same (group, qtok) as hit i
    new = np.ones(n, bool)
    if n > 1:
        new[1:] = (args[0][1:] != args[0][:-1]) | (args[1][1:] != args[1][:-1])
    blk = (
        np.maximum.accumulate(np.where(new, np.arange(n, dtype=np.int64), 0)) if n else np.zeros(0, np.int64)
    )
    return _chain_kernel(*args, blk, int(max_gap), int(max_drift), int(lookback))


@dataclass(frozen=True)
class SnippetHit:
    """One localised snippet of a query inside one registered document.

    ``estimated`` is the fraction of all the query's fingerprints found in the document (an
    estimate of the query's containment in it); ``verified`` is the fraction of the query's
    fingerprints inside ``sample_lines`` whose hash occurs in the document (boilerplate
    included): the containment of the matched region, computed exactly on fingerprint sets.
    """

    row: int
    sample_lines: tuple[tuple[int, int], ...]
    doc_lines: tuple[tuple[int, int], ...]
    matched_chars: int
    estimated: float
    verified: float
    # tokens covered by the matched k-grams, in the query and in the document: the coverage of
    # a whole-document copy is judged on tokens, since one long docstring (one token of
    # thousands of characters) edited anywhere would otherwise outweigh the code around it
    query_tokens: int = 0
    doc_tokens: int = 0
    # query characters of the longest aligned run (see _longest_run_py): the matcher reports a
    # snippet only if one run alone reaches the floor, not a chain of short pieces
    run_chars: int = 0


class SnippetIndex:
    """Inverted index of winnowing fingerprints with boilerplate suppression and localisation.

    Args:
        k: tokens per k-gram (only used to size the chaining gaps).
        window: winnowing window.
        min_chars: smallest reported run, in non-whitespace query characters.
        max_df: a hash in more live documents than this is boilerplate.
        min_run_chars: a chain's groups are localised to those whose longest aligned run
            covers this many query characters, if it has any (``min_chars`` by default).
        max_df_fraction: the limit is ``max(max_df, max_df_fraction * live documents)``.
        max_candidates: per query, documents chained at most (see ``MAX_CANDIDATES``).
        hit_budget: postings expanded at once (see ``HIT_BUDGET``).
    """

    def __init__(
        self,
        *,
        k: int,
        window: int,
        min_chars: int,
        max_df: int,
        min_run_chars: int | None = None,
        max_df_fraction: float = MAX_DF_FRACTION,
        max_candidates: int = MAX_CANDIDATES,
        hit_budget: int = HIT_BUDGET,
    ) -> None:
        if max_candidates < 1:
            raise ValueError(f"max_candidates must be >= 1, got {max_candidates}")
        if hit_budget < 1:
            raise ValueError(f"hit_budget must be >= 1, got {hit_budget}")
        self.max_candidates, self.hit_budget = max_candidates, hit_budget
        self.k, self.window = k, window
        self.min_chars, self.max_df, self.max_df_fraction = min_chars, max_df, max_df_fraction
        self.min_run_chars = min_chars if min_run_chars is None else min_run_chars
        self._postings = Postings(
            columns={"row": np.uint32, "token": np.uint32, "line_start": np.uint32, "line_end": np.uint32}
        )
        self._state = np.zeros(0, np.uint8)  # 0 unseen, 1 live, 2 removed
        self._live = 0
        self._stamp, self._stamp_base = np.zeros(0, np.int64), 0  # see _distinct_rows_py
        self._df_cache: dict[int, int] = {}  # hash -> live documents holding it (see _search_sub)

    def __len__(self) -> int:
        return self._live

    @property
    def nbytes(self) -> int:
        return self._postings.nbytes + self._state.nbytes

    @property
    def df_limit(self) -> int:
        return max(self.max_df, int(self.max_df_fraction * self._live))

    def add(self, row: int, fingerprints: np.ndarray) -> None:
        """Index one document's winnow array (``uint32[n, 6]``) under a new row id."""
        self.add_batch(np.array([row], np.int64), [fingerprints])

    def add_batch(self, rows: np.ndarray, fingerprints: list[np.ndarray]) -> None:
        """Index many documents' winnow arrays under new, distinct row ids, in one append."""
        rows = np.atleast_1d(np.asarray(rows, np.int64))
        if len(rows) != len(fingerprints):
            raise ValueError(f"got {len(rows)} rows for {len(fingerprints)} winnow arrays")
        if len(rows) == 0:
            return
        if rows.min() < 0:
            raise ValueError("rows must be >= 0")
        if len(np.unique(rows)) != len(rows):
            raise ValueError("rows must be distinct")
        top = int(rows.max()) + 1
        if top > len(self._state):
            grown = np.zeros(max(top, 2 * len(self._state)), np.uint8)
            grown[: len(self._state)] = self._state
            self._state = grown
        if self._state[rows].any():
            bad = int(rows[self._state[rows] != 0][0])
            raise ValueError(f"row {bad} was already added; row ids cannot be reused")
        ws = [np.asarray(f, np.uint32).reshape(-1, len(WINNOW_COLUMNS)) for f in fingerprints]
        w = np.concatenate(ws)
        self._postings.add(
            w[:, H],
            row=np.repeat(rows, [len(x) for x in ws]).astype(np.uint32),
            token=w[:, TOK],
            line_start=w[:, L0],
            line_end=w[:, L1],
        )
        self._state[rows] = 1
        self._live += len(rows)
        self._df_cache.clear()

    def remove(self, row: int) -> None:
        self.remove_batch(np.array([row], np.int64))

    def remove_batch(self, rows: np.ndarray) -> None:
        """Tombstone rows; unknown or already removed rows are ignored."""
        rows = np.atleast_1d(np.asarray(rows, np.int64))
        rows = np.unique(rows[(rows >= 0) & (rows < len(self._state))])
        rows = rows[self._state[rows] == 1]
        self._state[rows] = 2
        self._live -= len(rows)
        self._df_cache.clear()

    def compact(self) -> None:
        self._postings.compact(self._state == 1)

    def search(self, fingerprints: np.ndarray, *, exclude: np.ndarray | None = None) -> list[SnippetHit]:
        """Localised snippets of one query winnow array, best (most characters) first."""
        return self.search_batch([fingerprints], exclude=None if exclude is None else [exclude])[0]

    def search_batch(
        self,
        queries: list[np.ndarray],
        *,
        exclude: list[np.ndarray] | None = None,
    ) -> list[list[SnippetHit]]:
        """:meth:`search` for many queries in one pass over the index.

        The batch is cut into sub-batches of at most ``hit_budget`` postings (a query is never
        split), so memory stays flat however many queries come at once; queries do not interact,
        so the cut changes no result.

        Args:
            queries: winnow arrays, one per query.
            exclude: per query, sorted rows not to report (e.g. near-duplicates already found).
        """
        results: list[list[SnippetHit]] = [[] for _ in queries]
        if self._live == 0 or not queries:
            return results
        qs = [np.asarray(q, np.uint32).reshape(-1, len(WINNOW_COLUMNS)) for q in queries]
        sizes = np.array([len(q) for q in qs], np.int64)
        if sizes.sum() == 0:
            return results
        max_count = 8 * self.df_limit + 64
        # every query fingerprint's posting range in every segment, searched once for the batch;
        # binary searches in sorted key order walk the big array almost sequentially
        segs = [(k[0], {name: c[0] for name, c in cols.items()}) for k, cols in self._postings.segments()]
        hashes = np.concatenate(qs)[:, H]
        by_hash = np.argsort(hashes)
        sorted_hashes = hashes[by_hash]
        # each distinct hash searched once: a query's flat reading repeats most of its normal
        # one, and common k-grams recur across the batch
        first = np.ones(len(sorted_hashes), bool)
        first[1:] = sorted_hashes[1:] != sorted_hashes[:-1]
        distinct, which = sorted_hashes[first], np.cumsum(first) - 1
        ranges = []
        cnt = np.zeros(len(hashes), np.int64)
        for skeys, _ in segs:
            lo = np.empty(len(hashes), np.int64)
            hi = np.empty(len(hashes), np.int64)
            d_lo, d_hi = key_ranges(skeys, distinct)
            lo[by_hash], hi[by_hash] = d_lo[which], d_hi[which]
            ranges.append((lo, hi))
            cnt += hi - lo
        # postings each query may expand (keys over max_count never are)
        per_q = np.bincount(
            np.repeat(np.arange(len(qs)), sizes), weights=np.where(cnt > max_count, 0, cnt), minlength=len(qs)
        )
        alive = self._state == 1
        all_live = not (self._state == 2).any()  # only added rows have postings
        starts = np.concatenate([[0], np.cumsum(sizes)])
        start, load = 0, 0.0
        cuts = []
        for i, n in enumerate(per_q.tolist()):
            if load and load + n > self.hit_budget:
                cuts.append((start, i))
                start, load = i, 0.0
            load += n
        cuts.append((start, len(qs)))
        for a, b in cuts:
            f0, f1 = starts[a], starts[b]
            sub_ranges = [(lo[f0:f1], hi[f0:f1]) for lo, hi in ranges]
            self._search_sub(qs, exclude, a, b, alive, all_live, results, segs, sub_ranges, cnt[f0:f1])
        for hits in results:
            hits.sort(key=lambda h: (-h.matched_chars, h.row))
        return results

    def _search_sub(self, qs, exclude, q_lo, q_hi, alive, all_live, results, segs, ranges, cnt) -> None:
        """Search queries ``q_lo:q_hi`` of ``qs``, appending to ``results``; ``segs`` are the
        postings' segments, ``ranges`` each one's ``(lo, hi)`` for the queries' fingerprints and
        ``cnt`` their total postings."""
        queries = qs[q_lo:q_hi]
        sizes = np.array([len(q) for q in queries], np.int64)
        if sizes.sum() == 0:
            return
        qall = np.concatenate(queries)
        # the query fingerprints' columns, each contiguous int64: the hits gather from them
        qcol = np.ascontiguousarray(qall.T, np.int64)
        qowner = np.repeat(np.arange(len(queries), dtype=np.int64), sizes)
        limit = self.df_limit
        max_count = 8 * limit + 64
        # Document frequency without expanding boilerplate. A key with at most ``limit`` postings
        # is informative whatever they hold. A key with more than ``max_count`` is boilerplate
        # unless a document repeats it many times, and is skipped outright (it was never
        # expanded). In between, the distinct live rows are counted in place (a numba pass over
        # the posting ranges); only the rare key found informative after all is expanded, so
        # boilerplate costs no hit arrays. Its presence in a reported document is looked up at
        # the end, for the containment scores.
        seg_rows = [c["row"] for _, c in segs]
        df = cnt.copy()
        middle = np.flatnonzero((cnt > limit) & (cnt <= max_count))
        if len(middle):
            # The counts are kept until the index changes: a key this frequent recurs across
            # queries and batches, and counting it reads hundreds of postings each time. A count
            # stops past the limit (only which side of it matters; the limit changes with the
            # index, and so is the cache forgotten).
            known = self._df_cache
            if len(known) > DF_CACHE_MAX:
                known.clear()
            middle_hashes = qcol[H][middle].tolist()
            df[middle] = [known.get(h, -1) for h in middle_hashes]
            todo = middle[df[middle] < 0]
            if len(todo):
                df[todo] = 0
                if len(self._stamp) < len(alive):
                    self._stamp, self._stamp_base = np.full(len(alive), -1, np.int64), 0
                for srows, (lo, hi) in zip(seg_rows, ranges, strict=True):
                    _distinct_rows_kernel(
                        srows, lo, hi, todo, alive, self._stamp, self._stamp_base, df, limit
                    )
                self._stamp_base += len(cnt)
                known.update(zip(qcol[H][todo].tolist(), df[todo].tolist(), strict=True))
        informative = df <= limit
        boiler = np.flatnonzero(~informative & (cnt <= max_count))
        # Per query, only its candidate documents' hits: those that may reach min_chars (exact
        # bounds), at most max_candidates of them (a cap: see MAX_CANDIDATES), sorted by (query,
        # document, query token, document token) for chaining. See dedup.snippet_candidates.
        q_start = np.zeros(len(queries) + 1, np.int64)
        np.cumsum(sizes, out=q_start[1:])
        c_f, c_row, c_d, c_at = candidate_hits(
            qcol,
            q_start,
            informative,
            segs,
            ranges,
            alive,
            None if exclude is None else exclude[q_lo:q_hi],
            min_chars=self.min_chars,
            max_candidates=self.max_candidates,
            all_live=all_live,
        )
        if len(c_f) == 0:
            return
        c_g = qowner[c_f] * (1 << 32) + c_row
        qtok, qc0, qc1 = qcol[TOK][c_f], qcol[C0][c_f], qcol[C1][c_f]
        max_gap = 4 * (self.k + self.window)
        # An aligned run bridges substitutions, not whole lines of other code: a substituted token
        # breaks the k k-grams that contain it and winnowing may skip window - 1 more on either
        # side, so three in a row open a gap of about 3k + 2 * window tokens between selected
        # fingerprints (24 at the defaults; from 20 to 36 the benchmark figures are identical,
        # at 18 a snippet with a dense rename is lost). Two unrelated lines of the same shape
        # between two shared ones (30 tokens of a generated table) do not pass.
        run_gap = 3 * self.k + 2 * self.window + 1
        score, prev = chain_hits(c_g, qtok, c_d, qc0, qc1, max_gap=max_gap, max_drift=max_gap // 2)
        # Pieces: best chains, taken greedily by score, each hit used once. Pieces of a third of
        # the minimum are kept because an edit can split one copied region in two.
        members, m_off, piece_end, k_off = group_pieces(
            c_g, score, prev, qc0, qc1, max(1, self.min_chars // 3)
        )
        if len(piece_end) == 0:
            return
        # Groups and their pieces come in group order (not best piece first, as before): a
        # query's hits are sorted by (characters, row) at the end, so the order never shows.
        p_key = c_g[piece_end]
        kp = np.arange(len(piece_end), dtype=np.int64)
        flat_members, g_off, g_run, c_off, c_src = _assemble_kernel(
            kp,
            k_off,
            m_off,
            members,
            qtok,
            c_d,
            qc0,
            qc1,
            qcol[H][c_f],
            3 * max_gap,
            self.min_chars,
            MIN_DISTINCT_SHARE,
            run_gap,
        )
        n_chains = len(c_src)
        if n_chains == 0:
            return
        c_key = p_key[kp[k_off[c_src]]]
        c_q = c_key >> 32
        c_row = c_key & 0xFFFFFFFF
        starts = np.concatenate([[0], np.cumsum(sizes)])
        # distinct query fingerprints found in each document (boilerplate included), grouped by
        # (query, row) so each reported chain reads its own slice
        # (a candidate's hits are all its hits, sorted by (query, row), one block per fingerprint)
        first_of_pair = np.ones(len(c_f), bool)
        first_of_pair[1:] = (c_g[1:] != c_g[:-1]) | (c_f[1:] != c_f[:-1])
        pair_key, pair_f = c_g[first_of_pair], c_f[first_of_pair]
        # boilerplate fingerprints of each reported (query, row): is the row among their postings?
        b_owner = qowner[boiler]
        bq_start = np.searchsorted(b_owner, np.arange(len(queries) + 1))
        b_own, b_pos = expand_ranges(bq_start[c_q], bq_start[c_q + 1])
        pf = boiler[b_pos].astype(np.int64)
        pr = c_row[b_own]
        pf_off = np.zeros(n_chains + 1, np.int64)
        np.cumsum(bq_start[c_q + 1] - bq_start[c_q], out=pf_off[1:])
        present = np.zeros(len(pf), np.bool_)
        for srows, (lo, hi) in zip(seg_rows, ranges, strict=True):
            _row_present_kernel(srows, lo, hi, pf, pr, present)
        p_lo = np.searchsorted(pair_key, c_key, side="left")
        p_hi = np.searchsorted(pair_key, c_key, side="right")
        # per group of pieces its query and document line bounds, per chain the characters and
        # tokens it covers: one numba pass over all of them
        # document lines, for the hits of reported chains only (the others are never read)
        c_dl0, c_dl1 = np.zeros(len(c_f), np.int64), np.zeros(len(c_f), np.int64)
        c_dl0[flat_members], c_dl1[flat_members] = doc_lines(segs, c_at[flat_members])
        stats_cols = (qc0, qc1, qtok, c_d, qcol[L0][c_f], qcol[L1][c_f], c_dl0, c_dl1, self.k)
        g_lines, c_stats = _chain_stats_kernel(flat_members, g_off, c_off, *stats_cols, True)
        # A chain with a group holding a long aligned run (see _longest_run_py) is localised to
        # such groups alone: its other groups are short pieces that chained by chance, and would
        # widen the reported lines and dilute the containment. A chain without one keeps all its
        # groups; it is never a snippet, but its tokens may still make a whole-document copy by
        # coverage (lines inserted, deleted or moved break alignment, not copying), so the token
        # counts always come from every group.
        c_run = np.maximum.reduceat(g_run, c_off[:-1])
        g_chain = np.repeat(np.arange(n_chains), np.diff(c_off))
        keep_g = (g_run >= self.min_run_chars) | (c_run[g_chain] < self.min_run_chars)
        if not keep_g.all():
            kept_len = np.diff(g_off)[keep_g]
            _, pos = expand_ranges(g_off[:-1][keep_g], g_off[1:][keep_g])
            k_goff = np.zeros(len(kept_len) + 1, np.int64)
            np.cumsum(kept_len, out=k_goff[1:])
            k_coff = np.zeros(n_chains + 1, np.int64)
            np.cumsum(np.bincount(g_chain[keep_g], minlength=n_chains), out=k_coff[1:])
            # only the characters are taken from the kept groups (the tokens count every group)
            g_lines, kept_stats = _chain_stats_kernel(flat_members[pos], k_goff, k_coff, *stats_cols, False)
            c_stats[:, 0] = kept_stats[:, 0]
            c_off = k_coff
        s_rng, s_off = _merge_ranges_kernel(g_lines, c_off, 0)
        d_rng, d_off = _merge_ranges_kernel(g_lines, c_off, 2)
        found, verified_all = _containment_kernel(
            starts[c_q],
            starts[c_q + 1],
            pair_f,
            p_lo,
            p_hi,
            pf,
            present,
            pf_off,
            s_rng[:, 0].copy(),
            s_rng[:, 1].copy(),
            s_off,
            qcol[L0],
            qcol[L1],
        )
        s_list, d_list = list(map(tuple, s_rng.tolist())), list(map(tuple, d_rng.tolist()))
        s_off, d_off = s_off.tolist(), d_off.tolist()
        estimated = (found / sizes[c_q]).tolist()
        for qi, row, s0, s1, d0, d1, (chars, query_tokens, doc_tokens), est, verified, run in zip(
            c_q.tolist(),
            c_row.tolist(),
            s_off[:-1],
            s_off[1:],
            d_off[:-1],
            d_off[1:],
            c_stats.tolist(),
            estimated,
            verified_all.tolist(),
            c_run.tolist(),
            strict=True,
        ):
            results[q_lo + qi].append(
                SnippetHit(
                    row,
                    tuple(s_list[s0:s1]),
                    tuple(d_list[d0:d1]),
                    chars,
                    est,
                    verified,
                    query_tokens,
                    doc_tokens,
                    run,
                )
            )

    # -- persistence -------------------------------------------------------------------------

    def save(self, directory: str | Path, name: str = "snippets") -> dict:
        directory = Path(directory)
        entry = self._postings.save(directory, name, self._state == 1)
        np.save(directory / f"{name}.state.npy", self._state)
        return {"postings": entry, "live": self._live}

    def arrays(self) -> list[np.ndarray]:
        """The stored arrays, for :func:`dedup.postings.populate`."""
        return self._postings.arrays()

    def load_into(
        self, directory: str | Path, entry: dict, name: str = "snippets", *, mmap: bool = True
    ) -> None:
        directory = Path(directory)
        self._postings = Postings.load(directory, name, entry["postings"], mmap=mmap)
        self._state = np.load(directory / f"{name}.state.npy")
        self._live = entry["live"]
        self._df_cache.clear()
