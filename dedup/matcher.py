"""The matcher: one registry of fingerprints answering "what does this document copy?".

A query goes through three searches, cheapest and most certain first:

1. **exact** — the sha256 of the exact token stream, looked up in a sorted ``uint64`` array
   (``Postings`` keyed by the first 8 bytes of the digest). Scores 1.0.
2. **near-duplicate** — LSH candidates (:class:`dedup.lsh.CompactLSH`) verified with the exact
   Jaccard of the two shingle sets; only ``verified >= config.threshold`` is reported, with the
   MinHash estimate alongside. The bands are tuned for ``threshold - LSH_THRESHOLD_MARGIN``, not
   for the threshold itself: at the threshold datasketch's optimum finds only about 45% of the
   pairs (14 bands of 9 rows at 0.7), while tuning for 0.5 (25 bands of 5 rows, 200 bytes a
   document) finds 99% of pairs at 0.7; the extra candidates cost only a verification each.
   Code whose abstract channel carries little information (``EngineConfig.min_abstract_shingles``,
   ``min_abstract_diversity``: a header of ``#define NAME number`` lines looks like every other)
   is never a near-duplicate on its Jaccard alone; it goes on to step 3, which reads exact tokens.
3. **snippet** — containment search over winnowing fingerprints (:mod:`dedup.snippets`),
   skipping documents already reported by 1 or 2, with the query's normal and flat readings
   (:func:`dedup.fingerprint.flatten`). A document whose matched regions cover at least
   ``whole_coverage`` of the tokens of both sides is reported as a **near-duplicate** with
   ``basis="coverage"`` (a copy with lines inserted, deleted or moved, whose Jaccard fell below
   the threshold); otherwise a snippet is reported only if one *aligned run* of it (copied
   verbatim or with substitutions only: ``EngineConfig.min_snippet_run``) reaches the snippet
   floor by itself, and its verified containment reaches ``min_snippet_verified``. Short pieces
   chained across inserted or deleted tokens, and weak chains, are idioms that unrelated code
   shares.

Storage is per *row* (an internal ``uint32`` document number, never reused): the doc id,
signature, line count and kind live in growable numpy arrays, and every document's shingles in
one concatenated array with offsets, so there is no Python object per document. ``doc_id -> row``
is itself a sorted ``Postings`` store. Removing a document tombstones its row everywhere;
``save`` compacts (purges dead rows' postings and shingles) and writes ``.npy`` files that
``load(mmap=True)`` maps read-only.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from dedup.config import EngineConfig
from dedup.fingerprint import Fingerprint, check_compatible
from dedup.lsh import CompactLSH
from dedup.postings import Postings, populate, read_manifest, write_manifest
from dedup.snippets import SnippetIndex
from dedup.verify import pair_intersections

FORMAT_VERSION = 2
LSH_THRESHOLD_MARGIN = 0.2
_KINDS = ("code", "prose")
_RANK = {"exact": 0, "near-duplicate": 1, "snippet": 2}

__all__ = ["LSH_THRESHOLD_MARGIN", "Match", "Matcher"]


@dataclass(frozen=True)
class Match:
    """One registered document that a query copies, in whole or in part.

    Attributes:
        doc_id: the registered document.
        kind: ``"exact"``, ``"near-duplicate"`` or ``"snippet"``.
        estimated: MinHash Jaccard estimate (near-duplicate), or the fraction of all the query's
            winnowing fingerprints found in the document (snippet); 1.0 for exact.
        verified: what ``basis`` names, computed exactly: the Jaccard of the shingle sets, or the
            smaller of the two coverages (near-duplicate); the fraction of the query's
            fingerprints inside ``sample_lines`` found in the document (snippet); 1.0 for exact.
        sample_lines: 1-based inclusive line ranges in the query.
        doc_lines: 1-based inclusive line ranges in the registered document.
        matched_chars: non-whitespace characters of the query covered by the match.
        basis: how the match was decided: ``"exact"`` (same token stream), ``"jaccard"`` (shingle
            Jaccard >= threshold), ``"coverage"`` (snippet matches cover >= ``whole_coverage`` of
            both documents: a copy with lines inserted, deleted or moved) or ``"containment"``
            (a snippet).
    """

    doc_id: int
    kind: str
    estimated: float
    verified: float
    sample_lines: tuple[tuple[int, int], ...]
    doc_lines: tuple[tuple[int, int], ...]
    matched_chars: int
    basis: str = "containment"


def _localised(match: Match, hit, min_run_chars: int) -> Match:
    """A near-duplicate by Jaccard with the line ranges its snippet search found, when they are
    trustworthy; otherwise as it was, whole documents on both sides.

    Jaccard says two documents are alike, not where: a registered file pasted into the middle of
    a longer file can pass it (a header among headers), and reporting the whole query then claims
    lines that were never copied. The snippet search reads exact tokens, so a renamed copy (the
    kind of near-duplicate only Jaccard finds) chains in short pieces that cover little of it:
    its ranges are kept only when one aligned run reaches the snippet floor, as a snippet's must.
    """
    if hit.run_chars < min_run_chars:
        return match
    return replace(match, sample_lines=hit.sample_lines, doc_lines=hit.doc_lines)


def _digest_key(exact_hash: str) -> int:
    return int(exact_hash[:16], 16)


class _Grow:
    """A growable numpy array (amortised doubling) indexed by row."""

    def __init__(self, dtype, width: int | None = None):
        shape = (0,) if width is None else (0, width)
        self.arr = np.zeros(shape, dtype)
        self.n = 0

    def _reserve(self, extra: int) -> None:
        # also the first write after load(mmap=True): the mapped array is read-only, copy it
        if self.n + extra > len(self.arr) or not self.arr.flags.writeable:
            size = max(16, 2 * self.n, self.n + extra)
            grown = np.zeros((size,) + self.arr.shape[1:], self.arr.dtype)
            grown[: self.n] = self.arr[: self.n]
            self.arr = grown

    def append(self, value) -> None:
        self._reserve(1)
        self.arr[self.n] = value
        self.n += 1

    def extend(self, values: np.ndarray) -> None:
        self._reserve(len(values))
        self.arr[self.n : self.n + len(values)] = values
        self.n += len(values)

    @property
    def view(self) -> np.ndarray:
        return self.arr[: self.n]


class Matcher:
    """A registry of fingerprints with exact, near-duplicate and snippet search.

    Not safe to share between threads without a lock (queries reuse scratch arrays, adds and
    removes change the index); ``registry.engine`` holds one around every call. Processes can
    share a saved registry through ``load(mmap=True)``.

    Args:
        config: engine parameters; every added or queried fingerprint must match them.
    """

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        # ceil: a share of 1.0 must mean exactly min_snippet_chars, never one character less
        self._min_run_chars = math.ceil(config.min_snippet_run * config.min_snippet_chars - 1e-9)
        self._lsh = CompactLSH(max(0.05, config.threshold - LSH_THRESHOLD_MARGIN), config.num_perm)
        self._snippets = SnippetIndex(
            k=config.winnow_k,
            window=config.winnow_window,
            min_chars=config.min_snippet_chars,
            max_df=config.boilerplate_max_df,
            min_run_chars=self._min_run_chars,
        )
        self._exact = Postings(key_dtype=np.uint64)
        self._ids = Postings(key_dtype=np.uint64, min_merge=1 << 12)
        self._doc = _Grow(np.int64)
        self._state = _Grow(np.uint8)  # 1 live, 2 removed
        self._lines = _Grow(np.uint32)
        self._chars = _Grow(np.uint32)
        self._tokens = _Grow(np.uint32)
        self._low_info = _Grow(np.bool_)  # see EngineConfig.min_abstract_shingles
        self._kind = _Grow(np.uint8)
        self._sigs = _Grow(np.uint32, config.num_perm)
        self._sh = _Grow(np.uint32)  # every row's sorted unique shingles, concatenated
        self._sh_off = _Grow(np.int64)
        self._sh_off.append(0)
        self._live = 0

    # -- membership --------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._live

    def __contains__(self, doc_id) -> bool:
        return self._row_of(doc_id) is not None

    def _alive(self) -> np.ndarray:
        return self._state.view == 1

    def _row_of(self, doc_id) -> int | None:
        key = np.array([int(doc_id)], np.int64).view(np.uint64)
        _, _, cols, _ = self._ids.lookup(key)
        for row in cols["row"].tolist():
            if self._state.arr[row] == 1:
                return row
        return None

    # -- writes ------------------------------------------------------------------------------

    def add(self, doc_id: int, fp: Fingerprint) -> None:
        """Register ``fp`` under ``doc_id``, replacing any document already registered there.

        Raises:
            ParameterMismatchError: ``fp`` was computed with other parameters than the config.
        """
        self.add_batch([doc_id], [fp])

    def add_batch(self, doc_ids: Sequence[int], fps: Sequence[Fingerprint]) -> None:
        """Register many fingerprints at once: :meth:`add` for each pair, in order (a doc id
        given twice keeps its last fingerprint), but one append and at most one merge per
        structure instead of one per document.

        Raises:
            ParameterMismatchError: a fingerprint was computed with other parameters; nothing
                is added then.
            ValueError: ``doc_ids`` and ``fps`` differ in length.
        """
        if len(doc_ids) != len(fps):
            raise ValueError(f"got {len(doc_ids)} doc ids for {len(fps)} fingerprints")
        for fp in fps:
            check_compatible(fp, self.config)
        if not len(fps):
            return
        ids = np.array([int(d) for d in doc_ids], np.int64)
        # the last occurrence of a repeated doc id wins, as with add() called in order
        _, last = np.unique(ids[::-1], return_index=True)
        pick = np.sort(len(ids) - 1 - last)
        if len(pick) != len(ids):
            ids, fps = ids[pick], [fps[i] for i in pick.tolist()]
        self._remove_ids(ids)
        n = len(ids)
        row0 = self._doc.n
        if row0 + n >= 2**32 - 2:
            raise ValueError("the registry is full (2**32 - 2 rows); save and load it to compact")
        rows = np.arange(row0, row0 + n, dtype=np.int64)
        shingles = [np.asarray(fp.shingles, np.uint32) for fp in fps]
        sh_len = np.array([len(x) for x in shingles], np.int64)
        self._doc.extend(ids)
        self._state.extend(np.ones(n, np.uint8))
        self._lines.extend(np.array([fp.num_lines for fp in fps], np.uint32))
        self._chars.extend(np.array([fp.num_chars for fp in fps], np.uint32))
        self._tokens.extend(np.array([fp.num_tokens for fp in fps], np.uint32))
        self._low_info.extend(np.array([self._is_low_info(fp) for fp in fps], np.bool_))
        self._kind.extend(np.array([_KINDS.index(fp.kind) for fp in fps], np.uint8))
        sigs = np.stack([fp.signature.hashvalues for fp in fps]).astype(np.uint32)
        self._sigs.extend(sigs)
        self._sh.extend(np.concatenate(shingles) if n else np.empty(0, np.uint32))
        self._sh_off.extend(self._sh_off.view[-1] + np.cumsum(sh_len))
        self._ids.add(ids.view(np.uint64), row=rows.astype(np.uint32))
        # an empty document is registered (its id is known) but never matches anything
        nz = np.array([fp.num_tokens > 0 for fp in fps], bool)
        if nz.any():
            nzi = np.flatnonzero(nz).tolist()
            keys = np.array([_digest_key(fps[i].exact_hash) for i in nzi], np.uint64)
            self._exact.add(keys, row=rows[nz].astype(np.uint32))
            # low-information rows are never near-duplicates on Jaccard: kept out of the bands
            in_lsh = nz & ~self._low_info.view[row0:]
            self._lsh.add(rows[in_lsh], sigs[in_lsh])
            self._snippets.add_batch(rows[nz], [fps[i].winnow for i in nzi])
        self._live += n

    def remove(self, doc_id: int) -> None:
        """Unregister ``doc_id``; an unknown id is a no-op."""
        self._remove_ids(np.array([int(doc_id)], np.int64))

    def _remove_ids(self, ids: np.ndarray) -> None:
        """Tombstone the live rows of ``ids`` (int64); unknown ids are ignored."""
        if self._live == 0:
            return
        _, _, cols, _ = self._ids.lookup(ids.view(np.uint64), alive=self._alive())
        rows = np.unique(cols["row"].astype(np.int64))
        if len(rows) == 0:
            return
        self._state.arr[rows] = 2
        self._lsh.remove(rows)
        self._snippets.remove_batch(rows)
        self._live -= len(rows)

    def _is_low_info(self, fp: Fingerprint) -> bool:
        """Too little structure for the abstract channel alone to call two files copies.

        A header of ``#define NAME number`` lines has a handful of distinct abstract shingles
        however long it is, and so has every other such header: their abstract Jaccard is 1.0.
        Only the signature's channel is judged; prose signs its exact channel and is never low.
        """
        if fp.params.channel != "abstract":
            return False
        distinct = len(fp.shingles)
        return bool(
            distinct < self.config.min_abstract_shingles
            or distinct < self.config.min_abstract_diversity * fp.num_tokens
        )

    # -- reads -------------------------------------------------------------------------------

    def query(self, fp: Fingerprint) -> list[Match]:
        """Matches of one fingerprint, best first (exact, then near-duplicates, then snippets;
        higher verified score first within a kind)."""
        return self.query_batch([fp])[0]

    def query_batch(self, fps: Sequence[Fingerprint]) -> list[list[Match]]:
        """:meth:`query` for many fingerprints, sharing the index passes."""
        for fp in fps:
            check_compatible(fp, self.config)
        out: list[list[Match]] = [[] for _ in fps]
        active = [i for i, fp in enumerate(fps) if fp.num_tokens > 0]
        if not active or self._live == 0:
            return out
        alive = self._alive()
        docs = self._doc.view
        reported: list[set[int]] = [set() for _ in fps]
        # near-duplicates by Jaccard, by query: row -> index in out[i], so that the snippet search
        # can put the lines that really match in place of the whole documents (see step 3)
        near: list[dict[int, int]] = [{} for _ in fps]

        # 1. exact
        keys = np.array([_digest_key(fps[i].exact_hash) for i in active], np.uint64)
        _, qpos, cols, _ = self._exact.lookup(keys, alive=alive)
        for p, row in zip(qpos.tolist(), cols["row"].tolist(), strict=True):
            i = active[p]
            if self._kind.arr[row] != _KINDS.index(fps[i].kind):
                continue
            reported[i].add(row)
            n = int(self._lines.arr[row])
            out[i].append(
                Match(
                    int(docs[row]),
                    "exact",
                    1.0,
                    1.0,
                    ((1, fps[i].num_lines),),
                    ((1, n),),
                    fps[i].num_chars,
                    "exact",
                )
            )

        # 2. near-duplicates: LSH candidates, verified on shingle sets. Low-information files
        # are never near-duplicates on their Jaccard alone (see _is_low_info), so they neither
        # query nor answer here: they share bands by the thousand (a table of string literals
        # looks like every other in the abstract channel) and would only be verified to be
        # thrown away. They go on to the snippet search, which reads exact tokens.
        q_low = np.array([self._is_low_info(fps[i]) for i in active], bool)
        lsh_pos = np.flatnonzero(~q_low)
        sigs = np.stack([fps[i].signature.hashvalues for i in active]).astype(np.uint32)
        qpos, rows = self._lsh.query_batch(sigs[lsh_pos], ignore=self._low_info.arr)
        qpos = lsh_pos[qpos]
        if len(qpos):
            qkind = np.array([_KINDS.index(fps[i].kind) for i in active], np.uint8)
            keep = self._kind.arr[rows] == qkind[qpos]
            qpos, rows = qpos[keep], rows[keep].astype(np.int64)
        if len(qpos):
            q_sh = [np.asarray(fps[i].shingles, np.uint32) for i in active]
            q_off = np.concatenate([[0], np.cumsum([len(s) for s in q_sh])]).astype(np.int64)
            q_len = np.diff(q_off)[qpos]
            d_len = self._sh_off.view[rows + 1] - self._sh_off.view[rows]
            # Jaccard cannot exceed the ratio of the smaller set to the larger: pairs of very
            # different sizes are dropped before their shingles are read (an exact filter)
            fits = np.minimum(q_len, d_len) >= self.config.threshold * np.maximum(q_len, d_len) - 1e-9
            qpos, rows, q_len, d_len = qpos[fits], rows[fits], q_len[fits], d_len[fits]
            inter = pair_intersections(
                np.concatenate(q_sh),
                q_off,
                qpos,
                self._sh.view,
                self._sh_off.view,
                rows,
                threshold=self.config.threshold,
            )
            union = q_len + d_len - inter
            jac = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
            # verified >= threshold, written on integers so 7/10 at 0.7 is "at", not "below"
            ok = (union > 0) & (inter >= self.config.threshold * union - 1e-9)
            qpos, rows, jac = qpos[ok], rows[ok], jac[ok]
            # the estimate only for what is reported: candidates far outnumber matches, and each
            # estimate reads a signature row from the (mapped) registry
            est = (sigs[qpos] == self._sigs.arr[rows]).mean(axis=1)
            for p, row, j, e in zip(qpos.tolist(), rows.tolist(), jac, est, strict=True):
                i = active[p]
                if row in reported[i]:
                    continue
                reported[i].add(row)
                near[i][row] = len(out[i])
                n = int(self._lines.arr[row])
                out[i].append(
                    Match(
                        int(docs[row]),
                        "near-duplicate",
                        float(e),
                        float(j),
                        ((1, fps[i].num_lines),),
                        ((1, n),),
                        fps[i].num_chars,
                        "jaccard",
                    )
                )

        # 3. snippets, skipping documents already reported whole. A query with a flat reading
        # (see dedup.fingerprint.flatten) is searched with both; per document the reading that
        # makes the stronger claim wins: a whole-document copy by coverage, then a snippet with a
        # long aligned run (a flat reading turns docstrings into code tokens, which chain further
        # but out of step with the document), then the one that matched more of the query.
        excl = [np.array(sorted(reported[i] - near[i].keys()), np.int64) for i in active]
        flat = [p for p, i in enumerate(active) if len(fps[i].flat)]
        found = self._snippets.search_batch(
            [fps[i].winnow for i in active] + [fps[active[p]].flat for p in flat],
            exclude=excl + [excl[p] for p in flat],
        )
        hits = found[: len(active)]
        cfg = self.config

        def coverage(h, q):
            q_cov = h.query_tokens / max(1, q.num_tokens)
            return min(q_cov, h.doc_tokens / max(1, int(self._tokens.arr[h.row])))

        def rank(h, q):
            return (coverage(h, q) >= cfg.whole_coverage, h.run_chars >= self._min_run_chars, h.matched_chars)

        for p, alt in zip(flat, found[len(active) :], strict=True):
            q = fps[active[p]]
            best = {h.row: h for h in hits[p]}
            for h in alt:
                if h.row not in best or rank(h, q) > rank(best[h.row], q):
                    best[h.row] = h
            hits[p] = list(best.values())
        kinds, doc_tokens = self._kind.arr, self._tokens.arr
        whole, min_run, min_verified = cfg.whole_coverage, self._min_run_chars, cfg.min_snippet_verified
        for p, doc_hits in enumerate(hits):
            i = active[p]
            q = fps[i]
            q_kind, q_near, q_tokens = _KINDS.index(q.kind), near[i], max(1, q.num_tokens)
            for h in doc_hits:
                if kinds[h.row] != q_kind:
                    continue
                if h.row in q_near:
                    j = q_near[h.row]
                    out[i][j] = _localised(out[i][j], h, min_run)
                    continue
                # Whole-document copy by coverage: the matched regions cover most of both sides.
                # Type-3 copies (lines inserted, deleted, moved) fall below the Jaccard threshold
                # long before they stop being copies; their k-grams still chain in long runs.
                # (As coverage() above, inline: most hits of a batch are weak and end here.)
                cov = h.query_tokens / q_tokens
                if cov >= whole:
                    cov = min(cov, h.doc_tokens / max(1, int(doc_tokens[h.row])))
                if cov >= whole:
                    est = float((self._sigs.arr[h.row] == q.signature.hashvalues).mean())
                    kind, estimated, verified, basis = "near-duplicate", est, cov, "coverage"
                elif h.run_chars >= min_run and h.verified >= min_verified:
                    kind, estimated, verified, basis = "snippet", h.estimated, h.verified, "containment"
                else:
                    # short pieces chained together, or a weak chain: shared idioms in unrelated code
                    continue
                out[i].append(
                    Match(
                        int(docs[h.row]),
                        kind,
                        float(estimated),
                        float(verified),
                        h.sample_lines,
                        h.doc_lines,
                        int(h.matched_chars),
                        basis,
                    )
                )
        for matches in out:
            matches.sort(key=lambda m: (_RANK[m.kind], -m.verified, -m.matched_chars, m.doc_id))
        return out

    # -- persistence -------------------------------------------------------------------------

    def _row_arrays(self):
        """The per-row arrays, by the file name `save` and `load` give them."""
        return (
            ("doc_ids", self._doc),
            ("state", self._state),
            ("lines", self._lines),
            ("chars", self._chars),
            ("tokens", self._tokens),
            ("low_info", self._low_info),
            ("kinds", self._kind),
            ("signatures", self._sigs),
        )

    def save(self, path: str | Path) -> None:
        """Write the registry to directory ``path`` (compacted); replaces it atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
        try:
            self._write(tmp)
            if path.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=path.parent))
                path.replace(old / "index")
                tmp.replace(path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                tmp.replace(path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _write(self, d: Path) -> None:
        alive = self._alive()
        n = self._doc.n
        # drop dead rows' shingles; rows keep their numbers (a dead row gets an empty set)
        off = self._sh_off.view
        lengths = np.where(alive, np.diff(off), 0)
        keep_mask = np.repeat(alive, np.diff(off))
        data = self._sh.view[keep_mask]
        new_off = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        self._lsh.save(d / "lsh")
        np.save(d / "shingles.npy", data)
        np.save(d / "shingle_offsets.npy", new_off)
        for name, grow in self._row_arrays():
            np.save(d / f"{name}.npy", grow.view)
        write_manifest(
            d,
            {
                "kind": "matcher",
                "format_version": FORMAT_VERSION,
                "config": self.config.as_dict(),
                "rows": n,
                "live": self._live,
                "snippets": self._snippets.save(d),
                "exact": self._exact.save(d, "exact", alive),
                "ids": self._ids.save(d, "ids", alive),
            },
        )

    def populate(self) -> int:
        """Map a memory-mapped registry's pages in now (see :func:`dedup.postings.populate`):
        for a long filtering run, which would otherwise pay a page fault per page it first
        touches. Returns the bytes mapped in, 0 if they would not fit in memory or none are mapped.
        """
        arrays = [self._sigs.arr, self._sh.arr, *self._lsh.arrays(), *self._snippets.arrays()]
        arrays += self._exact.arrays() + self._ids.arrays()
        return populate(arrays)

    @classmethod
    def load(cls, path: str | Path, mmap: bool = True) -> Matcher:
        """Open a registry written by :meth:`save`; with ``mmap`` the big arrays stay on disk."""
        d = Path(path)
        m = read_manifest(d, "matcher", FORMAT_VERSION)
        self = cls(EngineConfig(**m["config"]))
        mode = "r" if mmap else None
        self._lsh = CompactLSH.load(d / "lsh", mmap=mmap)
        self._snippets.load_into(d, m["snippets"], mmap=mmap)
        self._exact = Postings.load(d, "exact", m["exact"], mmap=mmap)
        self._ids = Postings.load(d, "ids", m["ids"], mmap=mmap)
        self._ids.min_merge = 1 << 12
        for name, grow in self._row_arrays():
            arr = np.load(d / f"{name}.npy", mmap_mode=mode if name == "signatures" else None)
            grow.arr, grow.n = arr, len(arr)
        self._sh.arr = np.load(d / "shingles.npy", mmap_mode=mode)
        self._sh.n = len(self._sh.arr)
        self._sh_off.arr = np.load(d / "shingle_offsets.npy")
        self._sh_off.n = len(self._sh_off.arr)
        self._live = m["live"]
        return self
