"""Sorted-array multimaps with a log-structured delta: the storage under every engine index.

An index that must hold millions of documents cannot afford a Python object per entry, so every
index in the engine (LSH bands, the snippet inverted index, exact-hash and doc-id lookups) is the
same structure: ``lanes`` independent sorted key arrays, each with parallel payload columns.

* The **main segment** is a set of numpy arrays sorted by key along the last axis. It may be a
  read-only memory map (``np.load(mmap_mode="r")``); it is never modified in place.
* Adds go to a **delta segment**: a list of unsorted chunks that is concatenated and sorted lazily
  on the next lookup. When the delta outgrows ``merge_fraction`` of the main segment it is merged
  into a fresh main segment with ``np.insert`` (linear in the size, no full re-sort), which keeps
  lookups at two binary searches per key and the amortised cost of an add logarithmic.
* Removal is by **row tombstone**: every entry carries a ``row`` column and the owner keeps a
  boolean ``alive`` bitmap indexed by row. Lookups filter dead rows; ``compact`` purges them.

The owner decides what a row is (the matcher's internal document number) and owns the bitmap, so
several stores can share one set of tombstones.
"""

from __future__ import annotations

import json
import weakref
from pathlib import Path

import numpy as np

from dedup._kernels import USE_NUMBA, _jit

FORMAT_VERSION = 1

__all__ = [
    "FORMAT_VERSION",
    "Postings",
    "expand_ranges",
    "key_ranges",
    "populate",
    "read_manifest",
    "write_manifest",
]

# -- key ranges ----------------------------------------------------------------------------------
#
# A lookup is two binary searches per query key. In an array of a hundred million keys each search
# takes ~27 steps, most of them cache misses, and that was the largest single cost of a snippet
# query against a million documents. Keys are hashes, spread evenly, so a directory of where each
# value of the top bits starts narrows every search to a few dozen neighbouring entries (one or
# two cache lines) for 8 bytes per bucket. Directories are built on first use for large arrays and
# kept per array: a main segment is never modified in place (a merge makes a new array).

# From 64k keys: each LSH band of a million documents holds a million keys and is searched once
# per batch per band, and at that size numpy's searchsorted already misses the cache on most steps.
DIRECTORY_MIN_KEYS = 1 << 16
_KEYS_PER_BUCKET = 32
_directories: dict[tuple[int, int, int], tuple[weakref.ref, np.ndarray, int]] = {}


def key_ranges(sorted_keys: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)`` per query: the slice of the one-dimensional ``sorted_keys`` equal to it
    (``np.searchsorted`` left and right, through a directory for large arrays)."""
    n = len(sorted_keys)
    if n < DIRECTORY_MIN_KEYS or not USE_NUMBA or sorted_keys.dtype != queries.dtype:
        return (
            np.searchsorted(sorted_keys, queries, side="left"),
            np.searchsorted(sorted_keys, queries, side="right"),
        )
    directory, shift = _directory(sorted_keys)
    lo = np.empty(len(queries), np.int64)
    hi = np.empty(len(queries), np.int64)
    _directory_search(sorted_keys, directory, shift, np.ascontiguousarray(queries), lo, hi)
    return lo, hi


def _directory(keys: np.ndarray) -> tuple[np.ndarray, int]:
    owner = keys.base if keys.base is not None else keys
    ident = (keys.__array_interface__["data"][0], len(keys), keys.strides[0])
    hit = _directories.get(ident)
    if hit is not None and hit[0]() is owner:
        return hit[1], hit[2]
    bits = keys.dtype.itemsize * 8
    b = max(1, min(26, int(np.ceil(np.log2(len(keys) / _KEYS_PER_BUCKET)))))
    shift = bits - b
    directory = np.zeros((1 << b) + 1, np.int64)
    _bucket_counts(keys, shift, directory[1:])
    np.cumsum(directory, out=directory)
    # weakly held: a merged-away segment's directory goes with it (checked on every insert)
    for stale in [k for k, v in _directories.items() if v[0]() is None]:
        del _directories[stale]
    _directories[ident] = (weakref.ref(owner), directory, shift)
    return directory, shift


def _bucket_counts_py(keys, shift, counts):
    # one pass, no temporaries: numpy's shift, cast and bincount of a hundred million keys took
    # seconds and a gigabyte
    for i in range(len(keys)):
        counts[keys[i] >> shift] += 1


def _directory_search_py(keys, directory, shift, queries, lo_out, hi_out):
    for i in range(len(queries)):
        k = queries[i]
        p = k >> shift
        a, b = directory[p], directory[p + 1]
        # leftmost position with keys[pos] >= k
        lo, hi = a, b
        while lo < hi:
            mid = (lo + hi) >> 1
            if keys[mid] < k:
                lo = mid + 1
            else:
                hi = mid
        lo_out[i] = lo
        hi = b
        start = lo
        while start < hi:
            mid = (start + hi) >> 1
            if keys[mid] <= k:
                start = mid + 1
            else:
                hi = mid
        hi_out[i] = start


_directory_search = _jit(_directory_search_py) if USE_NUMBA else _directory_search_py
_bucket_counts = _jit(_bucket_counts_py) if USE_NUMBA else _bucket_counts_py


# Linux's MADV_POPULATE_READ (5.14+; Python 3.11's mmap module does not name it yet).
_MADV_POPULATE_READ = 22
_PAGE = 4096


def populate(arrays, *, budget_fraction: float = 0.5) -> int:
    """Map the pages of memory-mapped ``arrays`` in now, if they fit in memory; returns the bytes.

    A query reads its postings at random places of arrays of hundreds of megabytes. Left to
    demand paging, a fresh process pays a page fault the first time it touches each page: at a
    million registered documents that made the first few thousand queries several times slower
    than the rest. Populating the mapping at open time costs one sequential pass instead. Skipped
    (returns 0) when the mapped arrays exceed ``budget_fraction`` of the memory available, where
    populating would only evict them again.
    """
    mapped = [a for a in arrays if isinstance(a, np.memmap) and getattr(a, "_mmap", None) is not None]
    total = sum(a._mmap.size() for a in mapped)
    if not total or total > budget_fraction * _available_memory():
        return 0
    for a in mapped:
        try:
            a._mmap.madvise(_MADV_POPULATE_READ)
        except (OSError, ValueError):
            # older kernels: touching one byte per page maps it (the kernel maps its neighbours
            # around each fault too, so a sequential pass takes few faults)
            flat = np.frombuffer(a._mmap, np.uint8)
            int(flat[::_PAGE].sum())
    return total


def _available_memory() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0  # unknown: do not populate


def expand_ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expand half-open ranges ``[lo[i], hi[i])`` into (owner index, position) pairs.

    Args:
        lo: int64 start positions.
        hi: int64 end positions (``hi >= lo``).

    Returns:
        ``(owner, pos)``: for every range ``i`` and every ``p`` in it, one pair ``(i, p)``,
        ordered by ``i`` then ``p``.
    """
    counts = (hi - lo).astype(np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    owner = np.repeat(np.arange(len(lo), dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    pos = np.arange(total, dtype=np.int64) - np.repeat(starts - lo.astype(np.int64), counts)
    return owner, pos


class Postings:
    """``lanes`` sorted multimaps from ``key`` to a row and payload columns.

    Args:
        lanes: number of independent key arrays (one per LSH band; 1 for a plain inverted index).
        key_dtype: numpy dtype of keys (``uint32`` or ``uint64``).
        columns: payload column names and dtypes; must include ``"row"``.
        merge_fraction: the delta is merged into the main segment when it holds more than this
            fraction of the main segment's entries (and at least ``min_merge`` entries).
        min_merge: the smallest delta that triggers a merge.
    """

    def __init__(
        self,
        *,
        lanes: int = 1,
        key_dtype=np.uint32,
        columns: dict[str, type] | None = None,
        merge_fraction: float = 0.25,
        min_merge: int = 1 << 16,
    ) -> None:
        columns = dict(columns or {"row": np.uint32})
        if "row" not in columns:
            raise ValueError("columns must include 'row' (tombstones are per row)")
        if lanes < 1:
            raise ValueError(f"lanes must be >= 1, got {lanes}")
        if not 0 < merge_fraction <= 1:
            raise ValueError(f"merge_fraction must be in (0, 1], got {merge_fraction}")
        self.lanes = lanes
        self.key_dtype = np.dtype(key_dtype)
        self.columns = {name: np.dtype(dt) for name, dt in columns.items()}
        self.merge_fraction = merge_fraction
        self.min_merge = min_merge
        self._keys = np.empty((lanes, 0), self.key_dtype)
        self._cols = {name: np.empty((lanes, 0), dt) for name, dt in self.columns.items()}
        self._chunks: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []
        self._delta: tuple[np.ndarray, dict[str, np.ndarray]] | None = None
        self._delta_len = 0

    # -- sizes -------------------------------------------------------------------------------

    @property
    def main_len(self) -> int:
        return self._keys.shape[1]

    @property
    def delta_len(self) -> int:
        return self._delta_len

    def __len__(self) -> int:
        """Entries per lane, dead ones included until the next compaction."""
        return self.main_len + self._delta_len

    @property
    def nbytes(self) -> int:
        """Bytes held by keys and columns (main and delta, all lanes)."""
        per_entry = self.key_dtype.itemsize + sum(dt.itemsize for dt in self.columns.values())
        return per_entry * self.lanes * len(self)

    # -- writes ------------------------------------------------------------------------------

    def add(self, keys: np.ndarray, **cols: np.ndarray) -> None:
        """Append entries. ``keys`` has shape ``(lanes, n)`` (or ``(n,)`` for one lane); each
        column has the same shape or ``(n,)`` (broadcast to every lane)."""
        keys = np.asarray(keys)
        if keys.ndim == 1:
            keys = keys[None, :]
        if keys.shape[0] != self.lanes:
            raise ValueError(f"keys must have {self.lanes} lanes, got shape {keys.shape}")
        if set(cols) != set(self.columns):
            raise ValueError(f"columns must be exactly {sorted(self.columns)}, got {sorted(cols)}")
        n = keys.shape[1]
        if n == 0:
            return
        chunk_cols = {}
        for name, dt in self.columns.items():
            c = np.asarray(cols[name])
            if c.ndim == 1:
                c = np.broadcast_to(c, (self.lanes, n))
            if c.shape != keys.shape:
                raise ValueError(f"column {name!r} has shape {c.shape}, keys have {keys.shape}")
            chunk_cols[name] = np.ascontiguousarray(c, dtype=dt)
        self._chunks.append((np.ascontiguousarray(keys, dtype=self.key_dtype), chunk_cols))
        self._delta = None
        self._delta_len += n
        if self._delta_len > max(self.min_merge, self.merge_fraction * self.main_len):
            self.merge()

    def _sorted_delta(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        if self._delta is None:
            if not self._chunks:
                keys = np.empty((self.lanes, 0), self.key_dtype)
                cols = {name: np.empty((self.lanes, 0), dt) for name, dt in self.columns.items()}
            else:
                keys = np.concatenate([k for k, _ in self._chunks], axis=1)
                cols = {
                    name: np.concatenate([c[name] for _, c in self._chunks], axis=1) for name in self.columns
                }
                order = np.argsort(keys, axis=1, kind="stable")
                keys = np.take_along_axis(keys, order, axis=1)
                cols = {name: np.take_along_axis(c, order, axis=1) for name, c in cols.items()}
            self._chunks = [(keys, cols)] if keys.shape[1] else []
            self._delta = (keys, cols)
        return self._delta

    def merge(self, alive: np.ndarray | None = None) -> None:
        """Fold the delta into a new main segment, dropping rows not ``alive`` if given."""
        dkeys, dcols = self._sorted_delta()
        mkeys, mcols = self._keys, self._cols
        if alive is not None:
            mkeys, mcols = _filter_alive(mkeys, mcols, alive)
            dkeys, dcols = _filter_alive(dkeys, dcols, alive)
        if dkeys.shape[1] == 0:
            new_keys, new_cols = mkeys, mcols
        elif mkeys.shape[1] == 0:
            new_keys, new_cols = dkeys, dcols
        else:
            new_keys = np.empty((self.lanes, mkeys.shape[1] + dkeys.shape[1]), self.key_dtype)
            new_cols = {name: np.empty(new_keys.shape, dt) for name, dt in self.columns.items()}
            for lane in range(self.lanes):
                at = np.searchsorted(mkeys[lane], dkeys[lane], side="right")
                new_keys[lane] = np.insert(mkeys[lane], at, dkeys[lane])
                for name in self.columns:
                    new_cols[name][lane] = np.insert(mcols[name][lane], at, dcols[name][lane])
        self._keys, self._cols = new_keys, new_cols
        self._chunks, self._delta, self._delta_len = [], None, 0

    def compact(self, alive: np.ndarray) -> None:
        """Merge the delta and purge every entry whose row is not ``alive``."""
        self.merge(alive)

    # -- reads -------------------------------------------------------------------------------

    def segments(self) -> list[tuple[np.ndarray, dict[str, np.ndarray]]]:
        """The sorted segments ``(keys, columns)``, each ``(lanes, n)``: the main one, then the
        delta if any. Every ``add`` call lands whole in one segment, so a row whose entries were
        added together (all of them, for the matcher's and the snippet index's rows) is in one."""
        segments = [(self._keys, self._cols)]
        if self._chunks:
            segments.append(self._sorted_delta())
        return [(k, c) for k, c in segments if k.shape[1]]

    def lookup(
        self,
        keys: np.ndarray,
        *,
        alive: np.ndarray | None = None,
        max_count: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray]:
        """Find every entry whose key equals a query key, in every lane.

        Args:
            keys: query keys, shape ``(lanes, q)`` (or ``(q,)`` for one lane); lane ``l`` of the
                query is searched in lane ``l`` of the store.
            alive: optional boolean bitmap by row; entries of dead rows are dropped.
            max_count: a query key with more entries than this (per lane, dead included) is not
                expanded: expanding a key shared by a million documents would cost more than the
                whole query, and the caller treats such keys as uninformative anyway.

        Returns:
            ``(lane, query_index, columns, counts)``: one element per hit; ``counts[lane, i]`` is
            the number of entries (dead included) stored under query key ``i`` in that lane.
        """
        keys = np.asarray(keys, dtype=self.key_dtype)
        if keys.ndim == 1:
            keys = keys[None, :]
        q = keys.shape[1]
        segments = [(self._keys, self._cols)]
        if self._chunks:
            segments.append(self._sorted_delta())
        lanes_out, qidx_out = [], []
        cols_out: dict[str, list[np.ndarray]] = {name: [] for name in self.columns}
        counts = np.zeros((self.lanes, q), np.int64)
        # Binary searches in sorted query order touch the big array almost sequentially: about
        # five times faster than random order once the arrays leave the CPU cache.
        order = np.argsort(keys, axis=1) if q > 256 else None
        sorted_keys = keys if order is None else np.take_along_axis(keys, order, axis=1)
        for skeys, scols in segments:
            if skeys.shape[1] == 0:
                continue
            for lane in range(self.lanes):
                lo, hi = key_ranges(skeys[lane], sorted_keys[lane])
                counts[lane] += hi - lo if order is None else _unsort(hi - lo, order[lane])
                if max_count is not None:
                    hi = np.where(hi - lo > max_count, lo, hi)
                owner, pos = expand_ranges(lo, hi)
                if order is not None:
                    owner = order[lane][owner]
                if len(pos) == 0:
                    continue
                lanes_out.append(np.full(len(pos), lane, np.int32))
                qidx_out.append(owner)
                for name in self.columns:
                    cols_out[name].append(scols[name][lane][pos])
        if not qidx_out:
            empty = {name: np.empty(0, dt) for name, dt in self.columns.items()}
            return np.empty(0, np.int32), np.empty(0, np.int64), empty, counts
        lane_arr = np.concatenate(lanes_out)
        qidx = np.concatenate(qidx_out)
        cols = {name: np.concatenate(parts) for name, parts in cols_out.items()}
        if max_count is not None:
            # the per-segment cap must hold for the key's total across segments
            keep = counts[lane_arr, qidx] <= max_count
            if not keep.all():
                lane_arr, qidx = lane_arr[keep], qidx[keep]
                cols = {name: c[keep] for name, c in cols.items()}
        if alive is not None:
            rows = cols["row"]
            keep = np.zeros(len(rows), bool)
            inside = rows < len(alive)
            keep[inside] = alive[rows[inside]]
            if not keep.all():
                lane_arr, qidx = lane_arr[keep], qidx[keep]
                cols = {name: c[keep] for name, c in cols.items()}
        return lane_arr, qidx, cols, counts

    # -- persistence -------------------------------------------------------------------------

    def save(self, directory: str | Path, name: str, alive: np.ndarray | None = None) -> dict:
        """Merge (and purge dead rows if ``alive`` is given) then write ``<name>.keys.npy`` and one
        ``<name>.<column>.npy`` per column. Returns the manifest entry for this store."""
        self.merge(alive)
        directory = Path(directory)
        np.save(directory / f"{name}.keys.npy", self._keys)
        for col, arr in self._cols.items():
            np.save(directory / f"{name}.{col}.npy", arr)
        return {
            "format_version": FORMAT_VERSION,
            "lanes": self.lanes,
            "key_dtype": self.key_dtype.str,
            "columns": {col: dt.str for col, dt in self.columns.items()},
            "entries": self.main_len,
        }

    def arrays(self) -> list[np.ndarray]:
        """The main segment's arrays (keys and columns): what :func:`populate` maps in."""
        return [self._keys, *self._cols.values()]

    @classmethod
    def load(cls, directory: str | Path, name: str, entry: dict, *, mmap: bool = True) -> Postings:
        """Open a store written by :meth:`save`; with ``mmap`` the arrays stay on disk."""
        if entry.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"postings {name!r} have format version {entry.get('format_version')!r}, "
                f"this engine reads version {FORMAT_VERSION}; rebuild the index"
            )
        store = cls(
            lanes=entry["lanes"],
            key_dtype=np.dtype(entry["key_dtype"]),
            columns={col: np.dtype(dt) for col, dt in entry["columns"].items()},
        )
        directory = Path(directory)
        mode = "r" if mmap else None
        store._keys = np.load(directory / f"{name}.keys.npy", mmap_mode=mode)
        store._cols = {col: np.load(directory / f"{name}.{col}.npy", mmap_mode=mode) for col in store.columns}
        if store._keys.shape != (store.lanes, entry["entries"]):
            raise ValueError(f"postings {name!r}: keys have shape {store._keys.shape}, manifest disagrees")
        return store


def _unsort(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    out[order] = values
    return out


def _filter_alive(keys, cols, alive):
    rows = cols["row"]
    if rows.size == 0:
        return keys, cols
    inside = rows < len(alive)
    keep = np.zeros(rows.shape, bool)
    keep[inside] = alive[rows[inside]]
    if keep.all():
        return keys, cols
    # every lane holds one entry per (row, item), so lanes keep equal lengths only if the owner
    # removes whole rows; a row's entries are dropped from every lane alike
    lanes = keys.shape[0]
    n = int(keep[0].sum())
    if not all(int(keep[lane].sum()) == n for lane in range(lanes)):
        raise AssertionError("lanes lost different numbers of entries")
    return (
        keys[keep].reshape(lanes, n),
        {name: c[keep].reshape(lanes, n) for name, c in cols.items()},
    )


def write_manifest(directory: str | Path, manifest: dict) -> None:
    """Write ``manifest.json`` last and atomically, so a crash mid-save leaves no valid manifest."""
    directory = Path(directory)
    tmp = directory / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    tmp.replace(directory / "manifest.json")


def read_manifest(directory: str | Path, kind: str, version: int) -> dict:
    """Read ``manifest.json`` and check it describes a ``kind`` index of format ``version``."""
    path = Path(directory) / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(f"{path} not found: not a saved {kind} index") from None
    if manifest.get("kind") != kind:
        raise ValueError(f"{path} describes a {manifest.get('kind')!r} index, expected {kind!r}")
    if manifest.get("format_version") != version:
        raise ValueError(
            f"{path} has format version {manifest.get('format_version')!r}, this engine reads "
            f"version {version}; rebuild the index"
        )
    return manifest
