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
   registry (``max_df_fraction``) so that a popular idiom does not stay "rare" forever.
4. **Localisation.** Hits are grouped per (query, document) and chained by dynamic programming
   into runs that advance in the same order on both sides, allowing gaps from small edits (a
   renamed identifier or a changed literal breaks the k-grams that contain it). A run is reported
   only if the union of its k-grams covers at least ``min_chars`` non-whitespace characters of
   the query, and only if its fingerprints are not mostly repeats of a few hashes (a table of
   ``0,`` rows chains along any diagonal of another). Line ranges run from the first line of the
   first k-gram to the last line of the last one, on both sides. Each hit also reports how many
   tokens its k-grams cover on both sides, for the matcher's whole-document coverage rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dedup.postings import Postings

try:
    from numba import njit
except ImportError:  # pragma: no cover - exercised only without numba
    njit = None

__all__ = [
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
    h = np.asarray(kgram_hashes, np.uint32)
    n_tok = len(lines)
    if len(h) == 0 or n_tok == 0:
        return np.empty((0, len(WINNOW_COLUMNS)), np.uint32)
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


_chain_kernel = njit(cache=False, nogil=True)(_chain_py) if njit is not None else _chain_py


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


def _merge_ranges(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[list[int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return tuple((a, b) for a, b in out)


def _union_chars(c0: np.ndarray, c1: np.ndarray) -> int:
    order = np.argsort(c0, kind="stable")
    total, end = 0, -1
    for a, b in zip(c0[order].tolist(), c1[order].tolist(), strict=True):
        if b <= end:
            continue
        total += b - max(a, end)
        end = b
    return total


class SnippetIndex:
    """Inverted index of winnowing fingerprints with boilerplate suppression and localisation.

    Args:
        k: tokens per k-gram (only used to size the chaining gaps).
        window: winnowing window.
        min_chars: smallest reported run, in non-whitespace query characters.
        max_df: a hash in more live documents than this is boilerplate.
        max_df_fraction: the limit is ``max(max_df, max_df_fraction * live documents)``.
    """

    def __init__(
        self,
        *,
        k: int,
        window: int,
        min_chars: int,
        max_df: int,
        max_df_fraction: float = MAX_DF_FRACTION,
    ) -> None:
        self.k, self.window = k, window
        self.min_chars, self.max_df, self.max_df_fraction = min_chars, max_df, max_df_fraction
        self._postings = Postings(
            columns={"row": np.uint32, "token": np.uint32, "line_start": np.uint32, "line_end": np.uint32}
        )
        self._state = np.zeros(0, np.uint8)  # 0 unseen, 1 live, 2 removed
        self._live = 0

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
        if row < len(self._state) and self._state[row]:
            raise ValueError(f"row {row} was already added; row ids cannot be reused")
        if row >= len(self._state):
            grown = np.zeros(max(row + 1, 2 * len(self._state)), np.uint8)
            grown[: len(self._state)] = self._state
            self._state = grown
        w = np.asarray(fingerprints, np.uint32).reshape(-1, len(WINNOW_COLUMNS))
        self._postings.add(
            w[:, H],
            row=np.full(len(w), row, np.uint32),
            token=w[:, TOK],
            line_start=w[:, L0],
            line_end=w[:, L1],
        )
        self._state[row] = 1
        self._live += 1

    def remove(self, row: int) -> None:
        if 0 <= row < len(self._state) and self._state[row] == 1:
            self._state[row] = 2
            self._live -= 1

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

        Args:
            queries: winnow arrays, one per query.
            exclude: per query, sorted rows not to report (e.g. near-duplicates already found).
        """
        results: list[list[SnippetHit]] = [[] for _ in queries]
        if self._live == 0 or not queries:
            return results
        sizes = np.array([len(q) for q in queries], np.int64)
        if sizes.sum() == 0:
            return results
        qall = np.concatenate([np.asarray(q, np.uint32).reshape(-1, len(WINNOW_COLUMNS)) for q in queries])
        qowner = np.repeat(np.arange(len(queries)), sizes)
        limit = self.df_limit
        # a key with more postings than this cannot be under the limit unless a document repeats
        # it many times; skipping the expansion keeps boilerplate lookups cheap
        _, fidx, cols, _ = self._postings.lookup(qall[:, H], alive=self._state == 1, max_count=8 * limit + 64)
        if len(fidx) == 0:
            return results
        rows = cols["row"].astype(np.int64)
        # document frequency of each query fingerprint's hash among live documents
        hit_pairs = np.unique(fidx * (1 << 32) + rows)  # (query fingerprint, row), distinct
        hit_f, hit_r = hit_pairs >> 32, hit_pairs & 0xFFFFFFFF
        df = np.bincount(hit_f, minlength=len(qall))
        informative = df[fidx] <= limit
        grp_key = qowner[fidx] * (1 << 32) + rows
        # all hits (boilerplate too) count for containment; only informative hits chain
        order = np.lexsort((cols["token"], qall[fidx, TOK], grp_key))
        fidx_s, rows_s, grp_s = fidx[order], rows[order], grp_key[order]
        dtok = cols["token"][order].astype(np.int64)
        dl0, dl1 = cols["line_start"][order], cols["line_end"][order]
        inf_s = informative[order]
        keep = inf_s.copy()
        if exclude is not None:
            for qi, ex in enumerate(exclude):
                if ex is not None and len(ex):
                    bad = (qowner[fidx_s] == qi) & np.isin(rows_s, ex)
                    keep = keep & ~bad
        c_f, c_r, c_g, c_d = fidx_s[keep], rows_s[keep], grp_s[keep], dtok[keep]
        c_dl0, c_dl1 = dl0[keep], dl1[keep]
        if len(c_f) == 0:
            return results
        qrow = qall[c_f].astype(np.int64)
        max_gap = 4 * (self.k + self.window)
        score, prev = chain_hits(
            c_g, qrow[:, TOK], c_d, qrow[:, C0], qrow[:, C1], max_gap=max_gap, max_drift=max_gap // 2
        )
        # Pieces: best chains, taken greedily by score, each hit used once. Pieces of a third of
        # the minimum are kept because an edit can split one copied region in two.
        ends = np.flatnonzero(score >= max(1, self.min_chars // 3))
        if len(ends) == 0:
            return results
        used = np.zeros(len(c_f), bool)
        pieces: dict[tuple[int, int], list[tuple[int, np.ndarray]]] = {}
        for i in ends[np.argsort(-score[ends], kind="stable")].tolist():
            if used[i]:
                continue
            members = []
            j = i
            while j >= 0 and not used[j]:
                members.append(j)
                j = int(prev[j])
            m = np.array(members[::-1], np.int64)
            used[m] = True
            chars = _union_chars(qrow[m, C0], qrow[m, C1])
            if chars >= max(1, self.min_chars // 3):
                pieces.setdefault((int(qowner[c_f[i]]), int(c_r[i])), []).append((chars, m))
        chains: dict[tuple[int, int], list[np.ndarray]] = {}
        for key, plist in pieces.items():
            # a query region matched at several places of a document (repeated code) keeps only
            # its best place: pieces come best first, drop those overlapping a kept one in the query
            kept: list[np.ndarray] = []
            for _, m in plist:
                lo, hi = qrow[m, TOK].min(), qrow[m, TOK].max()
                if all(hi < qrow[k, TOK].min() or lo > qrow[k, TOK].max() for k in kept):
                    kept.append(m)
            kept.sort(key=lambda m: int(qrow[m[0], TOK]))
            # join consecutive pieces that advance on both sides with a bounded gap
            groups: list[list[np.ndarray]] = []
            for m in kept:
                if groups:
                    last = groups[-1][-1]
                    dq = qrow[m[0], TOK] - qrow[last[-1], TOK]
                    dd = c_d[m[0]] - c_d[last[-1]]
                    if 0 < dq <= 3 * max_gap and 0 < dd <= 3 * max_gap:
                        groups[-1].append(m)
                        continue
                groups.append([m])
            for g in groups:
                allm = np.concatenate(g)
                if _union_chars(qrow[allm, C0], qrow[allm, C1]) < self.min_chars:
                    continue
                # a run of one repeated k-gram ("0, 0, 0," rows of a table) chains along any
                # diagonal of another such run: most of a real copy's fingerprints are distinct
                if len(np.unique(qrow[allm, H])) < MIN_DISTINCT_SHARE * len(allm):
                    continue
                chains.setdefault(key, []).append(allm)
        starts = np.concatenate([[0], np.cumsum(sizes)])
        for (qi, row), member_list in chains.items():
            allm = np.concatenate(member_list)
            sample = _merge_ranges([(int(qrow[m, L0].min()), int(qrow[m, L1].max())) for m in member_list])
            doc = _merge_ranges([(int(c_dl0[m].min()), int(c_dl1[m].max())) for m in member_list])
            chars = _union_chars(qrow[allm, C0], qrow[allm, C1])
            qf = qall[starts[qi] : starts[qi + 1]]
            f_in_doc = hit_f[hit_r == row]
            f_in_doc = f_in_doc[(f_in_doc >= starts[qi]) & (f_in_doc < starts[qi + 1])] - starts[qi]
            estimated = len(f_in_doc) / len(qf)
            in_region = np.zeros(len(qf), bool)
            for a, b in sample:
                in_region |= (qf[:, L0] >= a) & (qf[:, L1] <= b)
            found_mask = np.zeros(len(qf), bool)
            found_mask[f_in_doc] = True
            verified = float(found_mask[in_region].mean()) if in_region.any() else 0.0
            query_tokens = _union_chars(qrow[allm, TOK], qrow[allm, TOK] + self.k)
            doc_tokens = _union_chars(c_d[allm], c_d[allm] + self.k)
            results[qi].append(
                SnippetHit(row, sample, doc, chars, estimated, verified, query_tokens, doc_tokens)
            )
        for hits in results:
            hits.sort(key=lambda h: (-h.matched_chars, h.row))
        return results

    # -- persistence -------------------------------------------------------------------------

    def save(self, directory: str | Path, name: str = "snippets") -> dict:
        directory = Path(directory)
        entry = self._postings.save(directory, name, self._state == 1)
        np.save(directory / f"{name}.state.npy", self._state)
        return {"postings": entry, "live": self._live}

    def load_into(
        self, directory: str | Path, entry: dict, name: str = "snippets", *, mmap: bool = True
    ) -> None:
        directory = Path(directory)
        self._postings = Postings.load(directory, name, entry["postings"], mmap=mmap)
        self._state = np.load(directory / f"{name}.state.npy")
        self._live = entry["live"]
