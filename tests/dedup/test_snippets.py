"""Winnowing and snippet localisation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup.snippets import C0, C1, L0, L1, TOK, H, SnippetIndex, _winnow_np, winnow


def _doc(n_tokens, seed, tokens_per_line=5):
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 2**32, n_tokens, dtype=np.uint32)
    lines = (np.arange(n_tokens) // tokens_per_line + 1).astype(np.uint32)
    weights = np.full(n_tokens, 4, np.uint32)
    return hashes, lines, weights


@pytest.mark.parametrize(("n", "window"), [(0, 4), (1, 4), (3, 4), (50, 1), (500, 4)])
def test_winnowing_keeps_a_fingerprint_in_every_window(n, window):
    hashes, lines, weights = _doc(n, 1)
    w = winnow(hashes, lines, weights, k=1, window=window)
    if n == 0:
        assert w.shape == (0, 6)
        return
    picks = w[:, TOK].astype(np.int64)
    assert np.all(np.diff(picks) > 0)
    assert np.all(np.diff(np.concatenate([[-1], picks, [n]])) <= window)  # no window without a pick
    assert np.array_equal(w[:, H], hashes[picks])
    assert np.array_equal(w[:, L0], lines[picks]) and np.array_equal(w[:, C1] - w[:, C0], np.full(len(w), 4))
    assert np.array_equal(w[:, L1], lines[picks])


@settings(max_examples=200, deadline=None)
@given(
    hashes=st.lists(st.integers(0, 7), min_size=1, max_size=80),  # few values: many ties
    window=st.integers(1, 6),
    k=st.integers(1, 6),
)
def test_winnowing_kernel_picks_what_the_numpy_fallback_picks(hashes, window, k):
    n_tok = len(hashes) + k - 1
    h = np.array(hashes, np.uint32)
    lines = (np.arange(n_tok) // 3 + 1).astype(np.uint32)
    weights = (np.arange(n_tok) % 5 + 1).astype(np.uint32)
    expected = _winnow_np(h, lines, weights, k, window)
    assert np.array_equal(winnow(h, lines, weights, k=k, window=window), expected)


K = 4  # the random hashes stand for k-gram hashes: k-gram i covers tokens i..i+3


def _fps(h, li, we):
    return winnow(h[: len(h) - K + 1], li, we, k=K, window=4)


def _index(docs, **kw):
    args = dict(k=K, window=4, min_chars=150, max_df=50)
    args.update(kw)
    index = SnippetIndex(**args)
    for row, doc in enumerate(docs):
        index.add(row, _fps(*doc))
    return index


def test_a_copied_run_of_ten_lines_in_a_500_line_document_is_localised_on_both_sides():
    big = _doc(2500, 1)  # 500 lines of 5 tokens
    index = _index([_doc(2500, 2), big])
    h = np.concatenate([_doc(50, 3)[0], big[0][1000 : 1050 - K + 1], _doc(53, 4)[0]])
    sample = (h, (np.arange(150) // 5 + 1).astype(np.uint32), np.full(150, 4, np.uint32))
    hits = index.search(_fps(*sample))
    assert [hit.row for hit in hits] == [1]
    ((s0, s1),), ((d0, d1),) = hits[0].sample_lines, hits[0].doc_lines
    assert 11 <= s0 <= 12 and 19 <= s1 <= 20  # the copy is lines 11-20 of the sample
    assert (d0 - s0, d1 - s1) == (190, 190)  # and lines 201-210 of the document
    assert hits[0].matched_chars >= 160 and hits[0].verified >= 0.9


def _sharing_a_header(n_docs: int):
    """(the shared 60-token header, `n_docs` documents that open with it, a query that does too)."""
    header = _doc(60, 9)[0]
    docs = []
    for seed in [*range(100, 100 + n_docs), 200]:
        h, li, we = _doc(400, seed)
        h[:60] = header
        docs.append((h, li, we))
    return header, docs[:-1], docs[-1]


def test_boilerplate_shared_by_many_documents_never_matches_on_its_own():
    _, docs, (h, li, we) = _sharing_a_header(4)
    assert _index(docs, max_df=3).search(_fps(h, li, we)) == []
    # the same overlap in fewer documents than the limit is a match
    assert [hit.row for hit in _index(docs[:2], max_df=3).search(_fps(h, li, we))] == [0, 1]


def test_a_shared_header_turns_into_boilerplate_once_more_documents_hold_it_between_searches():
    header, docs, sample = _sharing_a_header(4)
    docs[0][0][150:210] = header  # two more copies in one document: more postings than documents
    docs[0][0][300:360] = header
    query = _fps(*sample)
    index = _index(docs[:2], max_df=3)
    assert sorted(hit.row for hit in index.search(query)) == [0, 1]
    index.add_batch(np.array([2, 3]), [_fps(*docs[2]), _fps(*docs[3])])
    assert index.search(query) == []  # four documents hold it now: more than max_df
    index.remove_batch(np.array([2, 3]))
    assert sorted(hit.row for hit in index.search(query)) == [0, 1]


def test_a_removed_document_is_not_found():
    big = _doc(500, 1)
    index = _index([big])
    assert len(index.search(_fps(*big))) == 1
    index.remove(0)
    assert index.search(_fps(*big)) == []


@pytest.mark.parametrize("repeats", [0, 10, 300])
def test_chaining_crosses_a_fingerprint_repeated_at_many_places_of_the_document(repeats):
    # query positions 0, 5, 10 copy document positions 0, 5, 10; the fingerprint at query
    # position 5 also occurs at `repeats` far-away places of the document (a repeated line)
    from dedup.snippets import chain_hits

    block = [5] + [1000 + r for r in range(repeats)]
    qtok = np.array([0] + [5] * len(block) + [10])
    dtok = np.array([0] + block + [10])
    qc0, qc1 = qtok * 4, qtok * 4 + 20
    score, prev = chain_hits(np.zeros(len(qtok)), qtok, dtok, qc0, qc1, max_gap=36, max_drift=18)
    last = len(qtok) - 1
    assert prev[last] == 1 and prev[1] == 0  # the chain runs 0 -> 5 -> 10
    assert score[last] == 60


def test_a_run_of_one_repeated_kgram_is_not_a_snippet():
    from dedup.config import EngineConfig
    from dedup.fingerprint import fingerprint
    from dedup.matcher import Matcher

    config = EngineConfig()
    table = "static const int alice_table[] = {\n" + "    0,\n" * 300 + "};\nint alice(void) { return 1; }\n"
    m = Matcher(config)
    m.add(1, fingerprint(table, kind="code", language="c", config=config))
    bob = "int bob_values[] = {\n" + "  0,\n" * 120 + "};\n"
    assert m.query(fingerprint(bob, kind="code", language="c", config=config)) == []


def _sample(h):
    n = len(h)
    return h, (np.arange(n) // 5 + 1).astype(np.uint32), np.full(n, 4, np.uint32)


def _copies_of_growing_length(query_hashes, lengths):
    """One document per length: an unrelated prefix, the first ``length`` tokens of the query,
    an unrelated suffix (rows in the order of ``lengths``)."""
    docs = []
    for seed, n in enumerate(lengths):
        h = np.concatenate([_doc(100, 100 + seed)[0], query_hashes[:n], _doc(100, 200 + seed)[0]])
        docs.append(_sample(h))
    return docs


def test_the_candidate_cap_keeps_the_documents_sharing_the_most_of_the_query():
    # carol's query is copied, in part, into six documents; the one holding all of it is
    # registered last, so it is found only because the cap ranks documents by what they share
    query = _doc(400, 7)[0]
    docs = _copies_of_growing_length(query, [60, 70, 80, 90, 100, 400])
    capped = _index(docs, max_candidates=2)
    hits = capped.search(_fps(*_sample(query)))
    assert [hit.row for hit in hits] == [5, 4]
    assert hits[0].matched_chars > 3 * hits[1].matched_chars
    uncapped = _index(docs)
    assert [hit.row for hit in uncapped.search(_fps(*_sample(query)))] == [5, 4, 3, 2, 1, 0]


def test_a_batch_cut_by_the_hit_budget_gives_the_same_answers():
    big = _doc(2500, 1)
    docs = [_doc(2500, 2), big, _doc(2500, 3)]
    queries = [_fps(*_sample(big[0][a : a + 60])) for a in range(0, 2000, 150)]
    whole = _index(docs).search_batch(queries)
    cut = _index(docs, hit_budget=1).search_batch(queries)
    assert cut == whole and all(hits for hits in whole)


def test_add_batch_indexes_like_one_add_at_a_time():
    docs = [_doc(600, seed) for seed in range(5)]
    one_by_one = _index(docs)
    batched = SnippetIndex(k=K, window=4, min_chars=150, max_df=50)
    batched.add_batch(np.arange(5), [_fps(*d) for d in docs])
    query = _fps(*_sample(docs[3][0][100:200]))
    assert batched.search(query) == one_by_one.search(query) != []
    with pytest.raises(ValueError, match="already added"):
        batched.add_batch(np.array([3]), [_fps(*docs[3])])


@pytest.mark.parametrize(("field", "value"), [("max_candidates", 0), ("hit_budget", 0)])
def test_it_rejects_a_non_positive_cap(field, value):
    with pytest.raises(ValueError, match=field):
        SnippetIndex(k=K, window=4, min_chars=150, max_df=50, **{field: value})


def _edited(h, every, insert, seed=9):
    """``h`` (k-gram hashes) with a token edited every ``every`` tokens: substituted in place
    (``insert=0``) or with ``insert`` new tokens put before it. Either way the K k-grams that
    contain an edited token change; only an insertion shifts what follows."""
    fresh = _doc(len(h) * 4, seed)[0]
    out, used, prev = [], 0, 0
    for t in range(every, len(h), every):
        n = K + insert  # the k-grams starting at t - K + 1 .. t + insert
        out += [h[prev : t - K + 1], fresh[used : used + n]]
        used += n
        prev = t + 1
    out.append(h[prev:])
    return np.concatenate(out)


@pytest.mark.parametrize(("insert", "one_run"), [(0, True), (2, False)], ids=["substituted", "inserted"])
def test_an_aligned_run_bridges_substitutions_but_not_insertions(insert, one_run):
    # bob copies 120 tokens of alice's document, editing one token in every 15: renamed (the
    # copy stays in step) or with two tokens put in (a chain of short pieces, each < 150 chars)
    alice = _doc(2000, 1)
    index = _index([alice])
    bob = _edited(alice[0][800:920], every=15, insert=insert)
    (hit,) = index.search(_fps(*_sample(bob)))
    assert hit.matched_chars >= 150  # chained either way
    assert (hit.run_chars >= 150) is one_run
    assert hit.run_chars <= hit.matched_chars


@pytest.mark.parametrize(
    ("qtok", "dtok", "hashes", "expected"),
    [
        ([0, 4, 8], [50, 54, 58], [1, 2, 3], 48),  # in step, spans overlapping: one run
        ([0, 4, 14, 18], [50, 54, 64, 68], [1, 2, 3, 4], 64),  # a substitution between: one run
        ([0, 4, 14, 18], [50, 54, 65, 69], [1, 2, 3, 4], 32),  # a token inserted: two runs
        ([0, 4, 40, 44], [50, 54, 90, 94], [1, 2, 3, 4], 32),  # a gap longer than run_gap
        ([0, 4, 8, 12], [50, 54, 58, 62], [1, 2, 1, 2], 32),  # repeats add nothing
        ([0], [50], [1], 16),
    ],
)
def test_the_longest_aligned_run_of_hits(qtok, dtok, hashes, expected):
    from dedup.snippets import _longest_run_py

    qtok, dtok = np.array(qtok), np.array(dtok)
    qc0 = qtok * 4
    m = np.arange(len(qtok))
    assert _longest_run_py(m, qtok, dtok, qc0, qc0 + 16, np.array(hashes), 24) == expected
