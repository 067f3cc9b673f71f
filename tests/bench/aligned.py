"""Ground truth for copies edited token by token: shared *aligned runs* of code tokens.

:mod:`tests.bench.overlap` finds runs of 150 characters shared verbatim, or shared as a whole
*shape* (every name, number and string a placeholder). Real copies sit in between: a test method
pasted and given a new name (``test_zip_bad_iterable`` -> ``test_zip_longest_bad_iterable``),
a header copied for a sibling type (``PyList_`` -> ``PyTuple_``), one source compiled twice
(``export const x = ...`` in one build, ``exports.x = ...`` in the other). Each rename cuts the
verbatim run short of 150 characters, and the shape view, where a whole name is one letter, needs
several hundred source characters before it reaches its 150-character window. Such a file is not
an unrelated negative: the product promises to report a copied run of ``min_snippet_chars``
(150) characters "verbatim or renamed".

The rule, on the code lines of both files (:func:`tests.bench.codetext.code_lines`) cut into the
labelled set's own tokens (not the engine's):

* an **aligned run** is a stretch of tokens that advances one for one on both sides, where the
  tokens that differ are substitutions of at most ``MAX_SUBSTITUTED`` (2) tokens in a row: a
  renamed identifier, an edited literal, ``exports .`` for ``export const``. An inserted or
  deleted token ends the run (it puts the two sides out of step);
* the files are related when an aligned run has **identical tokens adding up to at least 150
  non-whitespace characters** and those identical characters are **at least half** of the run's
  characters (query side). Only identical text counts towards the 150: a renamed name is not
  copied text. The half rule keeps out runs of a common form with everything that matters
  changed: two unrelated headers of ``#define NAME number`` lines align token for token, but only
  their ``#define`` is the same.

Runs are found from *seeds*: every ``SEED_CHARS``-character window of the token text (tokens
joined without separators) is hashed on both sides with :func:`tests.bench.overlap.window_hashes`;
each shared window fixes a diagonal, which is then walked token by token in both directions, so a
hash collision can never mark a file related. A qualifying run without any identical stretch of
``SEED_CHARS`` characters (a rename at least every 31 characters for 150 characters) is not seen:
that is the rule's one stated blind spot.
"""

from __future__ import annotations

import re

import numpy as np

from tests.bench.codetext import ABSTRACT_TOKEN, HASH_COMMENT, code_lines
from tests.bench.overlap import window_hashes

#: Identical non-whitespace characters an aligned run must reach: the product's ``min_snippet_chars``.
MIN_CHARS = 150
#: Longest stretch of differing tokens an aligned run bridges (a name, ``a . b`` for ``c d``).
MAX_SUBSTITUTED = 2
#: Share of a run's characters that must be identical (the rest are substitutions).
MIN_SHARE = 0.5
#: Characters of identical token text that seed a run.
SEED_CHARS = 32


# Comments that share a line with code: a copy keeps the code and drops or rewrites them
# (``#else /* NO_FD_SET */`` in Tcl's header is ``#else`` in Tk's copy). Tried before the
# tokens, so ``//`` inside a string literal stays in the string.
_HASH_COMMENT_TOKEN = re.compile(rf"#[^\n]*|{ABSTRACT_TOKEN.pattern}")
_SLASH_COMMENT_TOKEN = re.compile(rf"//[^\n]*|/\*.*?\*/|/\*[^\n]*|{ABSTRACT_TOKEN.pattern}")


def code_tokens(text: str, language: str) -> list[str]:
    """The labelled set's tokens of the code lines of ``text``, comments dropped, no whitespace."""
    lines = text.splitlines()
    code = "\n".join(line for line, keep in zip(lines, code_lines(text, language), strict=False) if keep)
    if language in HASH_COMMENT:
        pattern, comment = _HASH_COMMENT_TOKEN, ("#",)
    else:
        pattern, comment = _SLASH_COMMENT_TOKEN, ("//", "/*")
    return ["".join(tok.split()) for tok in pattern.findall(code) if not tok.startswith(comment)]


def best_run(a: list[str], b: list[str], i: int, j: int, max_substituted: int = MAX_SUBSTITUTED) -> tuple:
    """The aligned run through ``a[i] == b[j]``: (first, last) token of ``a``, and its ``b`` offset.

    Walks the diagonal both ways from the seed while no more than ``max_substituted`` tokens in a
    row differ, and trims differing tokens at both ends (a run starts and ends on shared text).
    """
    d = j - i
    lo = hi = i
    for step in (-1, 1):
        k, last_same, differing = i, i, 0
        while 0 <= k < len(a) and 0 <= k + d < len(b):
            if a[k] == b[k + d]:
                last_same, differing = k, 0
            else:
                differing += 1
                if differing > max_substituted:
                    break
            k += step
        if step < 0:
            lo = last_same
        else:
            hi = last_same
    return lo, hi, d


def qualifies(
    a: list[str],
    b: list[str],
    lo: int,
    hi: int,
    d: int,
    min_chars: int = MIN_CHARS,
    min_share: float = MIN_SHARE,
) -> bool:
    """Has ``a[lo..hi]`` (aligned with ``b`` at offset ``d``) a stretch that meets the rule?

    A stretch ``(s, e]`` qualifies when its identical characters reach ``min_chars`` and at least
    half of its characters: with ``score = +len`` for an identical token and ``-len`` for a
    differing one, the second is ``sum(score) >= 0``. Prefix sums make it one pass: for each end,
    the earliest starts leave enough identical characters, and the lowest score prefix among them
    is the best start.
    """
    lengths = np.array([len(t) for t in a[lo : hi + 1]], np.int64)
    same = np.array([a[k] == b[k + d] for k in range(lo, hi + 1)], bool)
    ident = np.concatenate([[0], np.cumsum(np.where(same, lengths, 0))])
    if ident[-1] < min_chars:
        return False
    score = np.concatenate([[0], np.cumsum(np.where(same, lengths * (1 - min_share), -lengths * min_share))])
    # starts s with ident[s] <= ident[e] - min_chars form a prefix of 0..e (ident never falls)
    lowest = np.minimum.accumulate(score)
    last_start = np.searchsorted(ident, ident - min_chars, side="right") - 1
    ok = last_start >= 0
    return bool(np.any(ok & (lowest[np.maximum(last_start, 0)] <= score)))


class AlignedRuns:
    """The token lists of a fixed set of files, to ask whether another file shares an aligned run.

    Args:
        token_lists: :func:`code_tokens` of each registered file.
        min_chars: identical characters a run must reach.
        seed_chars: length of the identical windows that seed a run.
    """

    def __init__(
        self, token_lists: list[list[str]], min_chars: int = MIN_CHARS, seed_chars: int = SEED_CHARS
    ) -> None:
        if min_chars < 1 or seed_chars < 1:
            raise ValueError(f"min_chars and seed_chars must be >= 1, got {min_chars}, {seed_chars}")
        self.min_chars = min_chars
        self.seed_chars = seed_chars
        self.tokens = token_lists
        keys, owners, firsts = [], [], []
        for owner, tokens in enumerate(token_lists):
            hashes, first = _seeds(tokens, seed_chars)
            keys.append(hashes)
            owners.append(np.full(len(hashes), owner, np.int32))
            firsts.append(first)
        keys_ = np.concatenate(keys) if keys else np.empty(0, np.uint64)
        order = np.argsort(keys_, kind="stable")
        self.keys = keys_[order]
        self.owners = np.concatenate(owners)[order] if owners else np.empty(0, np.int32)
        self.firsts = np.concatenate(firsts)[order] if firsts else np.empty(0, np.int64)

    def find(self, tokens: list[str]) -> int:
        """Index of a registered file sharing an aligned run with ``tokens`` (see the module), or -1."""
        hashes, firsts = _seeds(tokens, self.seed_chars)
        if not len(self.keys) or not len(hashes):
            return -1
        lo = np.searchsorted(self.keys, hashes, side="left")
        hi = np.searchsorted(self.keys, hashes, side="right")
        walked: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for q in np.flatnonzero(hi > lo):
            i = int(firsts[q])
            for p in range(int(lo[q]), int(hi[q])):
                owner, j = int(self.owners[p]), int(self.firsts[p])
                other = self.tokens[owner]
                key = (owner, j - i)
                if tokens[i] != other[j] or any(s <= i <= e for s, e in walked.get(key, ())):
                    continue  # a hash collision, or a diagonal already walked through this token
                run = best_run(tokens, other, i, j)
                walked.setdefault(key, []).append(run[:2])
                if qualifies(tokens, other, *run, min_chars=self.min_chars):
                    return owner
        return -1


def _seeds(tokens: list[str], seed_chars: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the ``seed_chars`` windows of the joined tokens that start on a token, and that token.

    Starting on a token on both sides means a shared identical stretch of ``seed_chars`` characters
    that begins with a whole token always gives a seed, and the seed names a token pair to walk from.
    """
    lengths = np.array([len(t) for t in tokens], np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(tokens) else np.empty(0, np.int64)
    hashes = window_hashes("".join(tokens), seed_chars)
    keep = starts < len(hashes)
    return hashes[starts[keep]], np.flatnonzero(keep)
