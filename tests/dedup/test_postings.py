"""The sorted-array store under every index: range lookups and paging in a mapped store."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import postings
from dedup._kernels import USE_NUMBA
from dedup.postings import Postings, key_ranges, populate


@pytest.fixture
def small_directories(monkeypatch):
    """Directories for arrays of any size, so small examples take the directory path."""
    monkeypatch.setattr(postings, "DIRECTORY_MIN_KEYS", 1)


@pytest.mark.skipif(not USE_NUMBA, reason="without numba, numpy's searchsorted is the only path")
@settings(max_examples=150, deadline=None)
@given(
    keys=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=300),
    queries=st.lists(st.integers(0, 2**32 - 1), max_size=50),
    repeats=st.integers(0, 20),
    wide=st.booleans(),
)
def test_key_ranges_through_a_directory_are_numpys_searchsorted(keys, queries, repeats, wide):
    dtype, top = (np.uint64, 2**64 - 1) if wide else (np.uint32, 2**32 - 1)
    scale = 2**32 if wide else 1  # wide keys spread over the top bits too
    postings.DIRECTORY_MIN_KEYS, saved = 1, postings.DIRECTORY_MIN_KEYS
    try:
        k = np.sort(np.array([x * scale for x in keys + [keys[0]] * repeats], dtype))
        q = np.array([x * scale for x in queries + keys[:5]] + [0, top], dtype)
        lo, hi = key_ranges(k, q)
    finally:
        postings.DIRECTORY_MIN_KEYS = saved
    assert np.array_equal(lo, np.searchsorted(k, q, side="left"))
    assert np.array_equal(hi, np.searchsorted(k, q, side="right"))


def test_a_merged_segment_gets_a_directory_of_its_own(small_directories):
    store = Postings(columns={"row": np.uint32})
    store.add(np.array([5, 9], np.uint32), row=np.array([0, 1], np.uint32))
    store.compact(np.ones(2, bool))
    assert store.lookup(np.array([9], np.uint32))[2]["row"].tolist() == [1]
    store.add(np.array([7], np.uint32), row=np.array([2], np.uint32))
    store.compact(np.ones(3, bool))
    _, _, cols, _ = store.lookup(np.array([7, 9], np.uint32))
    assert sorted(cols["row"].tolist()) == [1, 2]


def test_populating_a_mapped_store_maps_its_bytes_and_keeps_its_answers(tmp_path):
    store = Postings(columns={"row": np.uint32})
    keys = np.arange(0, 20000, 2, dtype=np.uint32)
    store.add(keys, row=np.arange(len(keys), dtype=np.uint32))
    store.compact(np.ones(len(keys), bool))
    entry = store.save(tmp_path, "p", np.ones(len(keys), bool))
    mapped = Postings.load(tmp_path, "p", entry, mmap=True)

    assert populate(mapped.arrays()) >= keys.nbytes
    assert mapped.lookup(np.array([4, 5], np.uint32))[2]["row"].tolist() == [2]


def test_arrays_in_memory_are_not_populated():
    assert populate([np.zeros(10, np.uint32)]) == 0
