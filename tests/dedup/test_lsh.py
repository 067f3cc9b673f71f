"""The compact banded LSH: same candidates as datasketch, in sorted arrays that save and mmap."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.lsh import MAX_BANDS, CompactLSH, DatasketchLSH, optimal_bands


def _pairs(result):
    return set(zip(result[0].tolist(), result[1].tolist(), strict=True))


def _related_sigs(rng, n, num_perm, share):
    """Signatures where each row copies a random fraction of a few base rows' values."""
    base = rng.integers(0, 2**32, (max(1, n // 4), num_perm), dtype=np.uint32)
    sigs = rng.integers(0, 2**32, (n, num_perm), dtype=np.uint32)
    for i in range(n):
        mask = rng.random(num_perm) < share
        sigs[i, mask] = base[i % len(base), mask]
    return sigs


@pytest.mark.parametrize("threshold", [0.1, 0.3, 0.5, 0.7, 0.9])
def test_bands_fit_the_permutations_and_the_memory_cap(threshold):
    b, r = optimal_bands(threshold, 128)
    assert b * r <= 128
    assert b <= MAX_BANDS


def test_bands_follow_datasketch_where_they_fit():
    from datasketch.lsh import _optimal_param

    assert optimal_bands(0.7, 128) == _optimal_param(0.7, 128, 0.5, 0.5)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(1, 60),
    share=st.floats(0.0, 1.0),
    threshold=st.sampled_from([0.3, 0.5, 0.8]),
)
def test_compact_index_gives_the_same_candidates_as_datasketch(seed, n, share, threshold):
    rng = np.random.default_rng(seed)
    sigs = _related_sigs(rng, n, 32, share)
    compact, reference = CompactLSH(threshold, 32), DatasketchLSH(threshold, 32)
    compact.add(np.arange(n), sigs)
    reference.add(np.arange(n), sigs)
    queries = _related_sigs(rng, 10, 32, share)
    queries[:5] = sigs[: min(5, n)][np.arange(5) % n]
    assert _pairs(compact.query_batch(queries)) == _pairs(reference.query_batch(queries))


def test_an_empty_index_returns_no_candidates():
    lsh = CompactLSH(0.5, 16)
    qi, rows = lsh.query_batch(np.zeros((3, 16), np.uint32))
    assert len(qi) == len(rows) == 0
    assert len(lsh) == 0


def test_add_remove_and_compact_keep_the_answers_consistent():
    rng = np.random.default_rng(1)
    sigs = rng.integers(0, 2**32, (50, 64), dtype=np.uint32)
    lsh = CompactLSH(0.5, 64)
    lsh.add(np.arange(25), sigs[:25])
    lsh.add(np.arange(25, 50), sigs[25:])  # goes to the delta segment
    assert set(lsh.query(sigs[30]).tolist()) == {30}
    lsh.remove([30, 31, 999])
    assert len(lsh) == 48
    assert lsh.query(sigs[30]).tolist() == []
    lsh.compact()
    assert lsh.query(sigs[30]).tolist() == []
    assert lsh.query(sigs[32]).tolist() == [32]
    with pytest.raises(ValueError, match="already added"):
        lsh.add([30], sigs[30:31])


def test_save_and_load_with_mmap_give_the_same_answers_and_accept_adds(tmp_path):
    rng = np.random.default_rng(2)
    sigs = rng.integers(0, 2**32, (40, 64), dtype=np.uint32)
    lsh = CompactLSH(0.5, 64)
    lsh.add(np.arange(40), sigs)
    lsh.remove([3])
    lsh.save(tmp_path / "lsh")
    loaded = CompactLSH.load(tmp_path / "lsh", mmap=True)
    assert (loaded.b, loaded.r, len(loaded)) == (lsh.b, lsh.r, 39)
    assert _pairs(loaded.query_batch(sigs)) == _pairs(lsh.query_batch(sigs))
    extra = rng.integers(0, 2**32, (1, 64), dtype=np.uint32)
    loaded.add([40], extra)
    assert loaded.query(extra[0]).tolist() == [40]


def test_loading_a_directory_that_is_not_an_index_fails_clearly(tmp_path):
    with pytest.raises(ValueError, match="not a saved compact-lsh index"):
        CompactLSH.load(tmp_path)


def test_the_index_costs_at_most_256_bytes_a_document():
    rng = np.random.default_rng(3)
    lsh = CompactLSH(0.5, 128)
    lsh.add(np.arange(2000), rng.integers(0, 2**32, (2000, 128), dtype=np.uint32))
    assert lsh.nbytes / 2000 <= 256


@pytest.mark.parametrize(
    ("seed", "num_perm", "threshold"), [(1, 128, 0.5), (7, 64, 0.7), (2**32 - 1, 16, 0.3)]
)
def test_the_datasketch_path_wraps_affine32_signatures_and_finds_copies(seed, num_perm, threshold):
    from datasketch import LeanMinHash

    from dedup.config import EngineConfig
    from dedup.signatures import signature

    config = EngineConfig(num_perm=num_perm, seed=seed)
    texts = [f"def f{i}(x):\n    return x * {i} + sum(range({i}))\n" * 3 for i in range(4)]
    sigs = np.stack([signature(t, kind="code", language="python", config=config).hashvalues for t in texts])
    lsh = DatasketchLSH(threshold, num_perm, seed=seed)
    lsh.add(np.arange(4), sigs)
    assert len(lsh) == 4 and 2 in lsh
    lean = lsh._lean(sigs[0])
    assert isinstance(lean, LeanMinHash) and lean.scheme == "affine32" and lean.seed == seed
    assert 0 in lsh.query(sigs[0]).tolist()
    lsh.remove(np.array([0]))
    assert 0 not in lsh.query(sigs[0]).tolist() and len(lsh) == 3
