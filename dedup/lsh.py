"""Banded MinHash LSH on sorted arrays, for registries of millions of documents.

The classic index (datasketch's ``MinHashLSH``) keeps one dict per band mapping a band's bytes to a
set of keys: hundreds of bytes of Python objects per document per band. Here every band is one
sorted ``uint32`` array of band keys with a parallel ``uint32`` array of row ids
(:class:`dedup.postings.Postings` with one lane per band), so a document costs
``b * (4 + 4)`` bytes plus one byte of tombstone bitmap, and a batch query is two
``np.searchsorted`` calls per band.

* **Bands and rows** come from datasketch's optimiser (``_optimal_param``: minimise the weighted
  false-positive + false-negative areas for the threshold). The optimiser picks more bands for
  low thresholds (25 at 0.5, 43 at 0.3 with 128 permutations); memory grows linearly with bands,
  so the search is restricted to ``b <= max_bands`` (32: 256 bytes a document) under the same
  objective. For the default threshold 0.7 the unconstrained optimum (14 bands of 9 rows) fits.
* **Band keys** are a 32-bit mix of the band's ``r`` values (a murmur-style multiply-xorshift over
  64-bit lanes, then the high 32 bits). A key collision only adds a candidate, which the matcher
  verifies with exact Jaccard, so 32 bits are enough (false candidates per band per query are
  about ``n / 2**32``).
* **Incremental**: ``add`` goes to the postings' delta segment, ``remove`` sets a tombstone;
  ``save`` writes ``.npy`` files and a ``manifest.json``; ``load(mmap=True)`` maps them read-only
  and new adds go to a fresh in-memory delta.

:class:`DatasketchLSH` wraps ``datasketch.MinHashLSH`` behind the same interface: the reference
for tests and the benchmark, and good enough for small registries.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from dedup.postings import Postings, read_manifest, write_manifest

FORMAT_VERSION = 1
MAX_BANDS = 32

__all__ = ["MAX_BANDS", "CompactLSH", "DatasketchLSH", "band_keys", "optimal_bands"]

_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_SEED = np.uint64(0x9E3779B97F4A7C15)


@lru_cache(maxsize=64)
def optimal_bands(
    threshold: float,
    num_perm: int,
    max_bands: int = MAX_BANDS,
    weights: tuple[float, float] = (0.5, 0.5),
) -> tuple[int, int]:
    """Bands ``b`` and rows ``r`` for a Jaccard threshold, with ``b * r <= num_perm`` and
    ``b <= max_bands``.

    Uses datasketch's own optimiser when its answer fits in ``max_bands``; otherwise runs the same
    objective (weighted false-positive and false-negative probability areas) over the capped grid.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    if num_perm < 2:
        raise ValueError(f"num_perm must be >= 2, got {num_perm}")
    if max_bands < 1:
        raise ValueError(f"max_bands must be >= 1, got {max_bands}")
    from datasketch.lsh import _false_negative_probability, _false_positive_probability, _optimal_param

    b, r = _optimal_param(threshold, num_perm, weights[0], weights[1])
    if b <= max_bands:
        return b, r
    best, best_err = (1, num_perm), float("inf")
    for b in range(1, min(max_bands, num_perm) + 1):
        for r in range(1, num_perm // b + 1):
            err = weights[0] * _false_positive_probability(threshold, b, r) + weights[
                1
            ] * _false_negative_probability(threshold, b, r)
            if err < best_err:
                best, best_err = (b, r), err
    return best


def band_keys(sigs: np.ndarray, b: int, r: int) -> np.ndarray:
    """32-bit keys of the ``b`` bands of ``r`` values of each signature.

    Args:
        sigs: ``uint32[n, num_perm]`` MinHash values.

    Returns:
        ``uint32[b, n]``: row ``i`` holds band ``i``'s key for every signature.
    """
    sigs = np.asarray(sigs)
    if sigs.ndim != 2 or sigs.shape[1] < b * r:
        raise ValueError(f"signatures must have shape (n, >= {b * r}), got {sigs.shape}")
    n = sigs.shape[0]
    vals = sigs[:, : b * r].astype(np.uint64).reshape(n, b, r)
    h = np.full((n, b), _SEED, np.uint64)
    h ^= np.arange(b, dtype=np.uint64)[None, :]
    for j in range(r):
        h ^= vals[:, :, j]
        h *= _M1
        h ^= h >> np.uint64(33)
    h *= _M2
    h ^= h >> np.uint64(29)
    return np.ascontiguousarray((h >> np.uint64(32)).astype(np.uint32).T)


def _as_sigs(sigs: np.ndarray, num_perm: int) -> np.ndarray:
    sigs = np.asarray(sigs, dtype=np.uint32)
    if sigs.ndim == 1:
        sigs = sigs[None, :]
    if sigs.ndim != 2 or sigs.shape[1] != num_perm:
        raise ValueError(f"signatures must have shape (n, {num_perm}), got {sigs.shape}")
    return sigs


def _unique_pairs(qidx: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(qidx) == 0:
        return np.empty(0, np.int64), np.empty(0, np.uint32)
    # sort and drop repeats: numpy 2.4's np.unique takes a much slower hash-table path for integers
    packed = np.sort((qidx.astype(np.uint64) << np.uint64(32)) | ids.astype(np.uint64))
    packed = packed[np.concatenate(([True], packed[1:] != packed[:-1]))]
    return (packed >> np.uint64(32)).astype(np.int64), (packed & np.uint64(0xFFFFFFFF)).astype(np.uint32)


class CompactLSH:
    """Banded MinHash LSH over dense ``uint32`` row ids, stored in sorted arrays.

    Args:
        threshold: Jaccard threshold the bands are tuned for.
        num_perm: signature length.
        max_bands: memory cap on the number of bands (each costs 8 bytes a document).
        params: explicit ``(b, r)``, bypassing the optimiser.
    """

    def __init__(
        self,
        threshold: float = 0.7,
        num_perm: int = 128,
        *,
        max_bands: int = MAX_BANDS,
        params: tuple[int, int] | None = None,
    ) -> None:
        if params is None:
            params = optimal_bands(threshold, num_perm, max_bands)
        b, r = params
        if b < 1 or r < 1 or b * r > num_perm:
            raise ValueError(f"params (b={b}, r={r}) need b, r >= 1 and b * r <= num_perm={num_perm}")
        self.threshold = threshold
        self.num_perm = num_perm
        self.b, self.r = b, r
        self._postings = Postings(lanes=b, columns={"row": np.uint32})
        # 0 = never seen, 1 = live, 2 = removed (entries still in the postings until compaction)
        self._state = np.zeros(0, np.uint8)
        self._live = 0
        self._dead = 0  # removed rows whose entries are still in the postings

    def __len__(self) -> int:
        return self._live

    def __contains__(self, row) -> bool:
        return 0 <= row < len(self._state) and self._state[row] == 1

    @property
    def nbytes(self) -> int:
        """Bytes of index data: postings plus the state bitmap."""
        return self._postings.nbytes + self._state.nbytes

    def _grow(self, top: int) -> None:
        if top > len(self._state):
            grown = np.zeros(max(top, 2 * len(self._state)), np.uint8)
            grown[: len(self._state)] = self._state
            self._state = grown

    def add(self, ids: np.ndarray, sigs: np.ndarray) -> None:
        """Index signatures under row ids. A row id can be used once (remove does not free it).

        Args:
            ids: ``uint32[n]`` row ids, not seen before and distinct.
            sigs: ``uint32[n, num_perm]``.
        """
        ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        sigs = _as_sigs(sigs, self.num_perm)
        if len(ids) != len(sigs):
            raise ValueError(f"got {len(ids)} ids for {len(sigs)} signatures")
        if len(ids) == 0:
            return
        if ids.min() < 0 or ids.max() >= 2**32 - 1:
            raise ValueError("ids must be in [0, 2**32 - 1)")
        if len(np.unique(ids)) != len(ids):
            raise ValueError("ids must be distinct")
        self._grow(int(ids.max()) + 1)
        if self._state[ids].any():
            raise ValueError("an id was already added; row ids cannot be reused, allocate a new one")
        self._postings.add(band_keys(sigs, self.b, self.r), row=ids.astype(np.uint32))
        self._state[ids] = 1
        self._live += len(ids)

    def remove(self, ids: np.ndarray) -> None:
        """Tombstone rows; unknown or already removed ids are ignored."""
        ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        ids = ids[(ids >= 0) & (ids < len(self._state))]
        ids = np.unique(ids[self._state[ids] == 1])
        self._state[ids] = 2
        self._live -= len(ids)
        self._dead += len(ids)
        if self._dead > max(1024, self._live):
            self.compact()

    def compact(self) -> None:
        """Merge the delta and purge removed rows from the sorted arrays."""
        self._postings.compact(self._state == 1)
        self._dead = 0

    def query_batch(
        self, sigs: np.ndarray, *, ignore: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Candidate pairs for a batch of signatures: every live row sharing a band with a query.

        Args:
            sigs: ``uint32[n, num_perm]``.
            ignore: optional ``bool`` per row: rows the caller cannot use, dropped before the
                pairs are made unique (the costly step when a band is shared by thousands).

        Returns:
            ``(query_idx int64, row uint32)``, unique pairs sorted by query then row.
        """
        sigs = _as_sigs(sigs, self.num_perm)
        if len(sigs) == 0 or self._live == 0:
            return np.empty(0, np.int64), np.empty(0, np.uint32)
        keys = band_keys(sigs, self.b, self.r)
        _, qidx, cols, _ = self._postings.lookup(keys)
        rows = cols["row"]
        keep = self._state[rows] == 1
        if ignore is not None:
            keep &= ~ignore[rows]
        return _unique_pairs(qidx[keep], rows[keep])

    def query(self, sig: np.ndarray) -> np.ndarray:
        """Candidate rows for one signature, sorted."""
        return self.query_batch(np.asarray(sig)[None, :])[1]

    def save(self, directory: str | Path) -> None:
        """Write the index (compacted) as ``.npy`` files and a ``manifest.json``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        entry = self._postings.save(directory, "bands", self._state == 1)
        np.save(directory / "state.npy", self._state)
        write_manifest(
            directory,
            {
                "kind": "compact-lsh",
                "format_version": FORMAT_VERSION,
                "threshold": self.threshold,
                "num_perm": self.num_perm,
                "b": self.b,
                "r": self.r,
                "live": self._live,
                "bands": entry,
            },
        )

    def arrays(self) -> list[np.ndarray]:
        """The stored arrays, for :func:`dedup.postings.populate`."""
        return self._postings.arrays()

    @classmethod
    def load(cls, directory: str | Path, *, mmap: bool = True) -> CompactLSH:
        """Open a saved index; with ``mmap`` the band arrays stay on disk (adds go to a delta)."""
        m = read_manifest(directory, "compact-lsh", FORMAT_VERSION)
        lsh = cls(m["threshold"], m["num_perm"], params=(m["b"], m["r"]))
        lsh._postings = Postings.load(directory, "bands", m["bands"], mmap=mmap)
        lsh._state = np.load(Path(directory) / "state.npy")  # small and mutable: always in memory
        lsh._live = m["live"]
        return lsh


class DatasketchLSH:
    """``datasketch.MinHashLSH`` behind the :class:`CompactLSH` interface (same ``b`` and ``r``).

    Fine for small registries; used as the reference in tests and in the benchmark. Signatures
    are wrapped as datasketch 2.0 ``LeanMinHash(scheme="affine32")`` (the scheme
    :func:`dedup.signatures.minhash` computes; datasketch 2.0 refuses hash values without a
    scheme) with the engine's ``seed``.
    """

    def __init__(
        self,
        threshold: float = 0.7,
        num_perm: int = 128,
        *,
        max_bands: int = MAX_BANDS,
        params: tuple[int, int] | None = None,
        seed: int = 1,
    ) -> None:
        from datasketch import MinHashLSH

        if params is None:
            params = optimal_bands(threshold, num_perm, max_bands)
        self.threshold, self.num_perm, self.seed = threshold, num_perm, seed
        self.b, self.r = params
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, params=params)

    def __len__(self) -> int:
        return len(self._lsh.keys)

    def __contains__(self, row) -> bool:
        return int(row) in self._lsh

    def _lean(self, sig: np.ndarray):
        from datasketch import LeanMinHash

        return LeanMinHash(seed=self.seed, hashvalues=sig, scheme="affine32")

    def add(self, ids: np.ndarray, sigs: np.ndarray) -> None:
        ids = np.atleast_1d(np.asarray(ids, dtype=np.int64))
        sigs = _as_sigs(sigs, self.num_perm)
        if len(ids) != len(sigs):
            raise ValueError(f"got {len(ids)} ids for {len(sigs)} signatures")
        with self._lsh.insertion_session() as session:
            for row, sig in zip(ids.tolist(), sigs, strict=True):
                session.insert(row, self._lean(sig))

    def remove(self, ids: np.ndarray) -> None:
        for row in np.atleast_1d(np.asarray(ids, dtype=np.int64)).tolist():
            if row in self._lsh:
                self._lsh.remove(row)

    def query_batch(self, sigs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sigs = _as_sigs(sigs, self.num_perm)
        qidx, rows = [], []
        for i, sig in enumerate(sigs):
            found = self._lsh.query(self._lean(sig))
            qidx.extend([i] * len(found))
            rows.extend(found)
        return _unique_pairs(np.asarray(qidx, np.int64), np.asarray(rows, np.uint32))

    def query(self, sig: np.ndarray) -> np.ndarray:
        return self.query_batch(np.asarray(sig)[None, :])[1]
