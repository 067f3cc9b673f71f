"""Ground truth for "these two files share copied code", independent of the engine.

The product promises to report copied snippets of about ``min_snippet_chars`` (150)
non-whitespace characters or more. The benchmark therefore calls a file *related* to a registered
file when it shares such a run with it, in one of three views, both with the same 150-character
window:

* **verbatim**: the whole file with every whitespace character removed (``"".join(text.split())``),
  comments and licence text included: a shared licence block or a copied header is copied text;
* **code**: the code lines only (:func:`tests.bench.codetext.code_lines`), whitespace removed:
  copied code with comments added, removed or changed between its lines, since for code the
  product promises that comments and whitespace do not matter;
* **shape**: the code lines only (:func:`tests.bench.codetext.code_lines`), tokenised with the
  labelled set's own simple tokenizer (not the engine's), identifiers -> ``I``, numbers -> ``N``,
  strings -> ``S``, keywords and punctuation kept, joined without separators. A run shared here
  is a renamed copy (type 2): the same code with other names and literals. Since ``I`` stands for
  a whole name, 150 shape characters are several hundred characters of source.

Every window of 150 characters is hashed at *every* position on both sides (stride 1, no
sampling, no winnowing), so the rule has no blind spots: a shared run of >= 150 characters always
has a shared window. The hash is a polynomial rolling hash modulo 2**64 computed with numpy
(prefix sums of ``c[j] * B**j`` times ``B**-i``; ``B`` is odd, so it is invertible mod 2**64).
A hash hit is then confirmed by comparing the text itself, so a hash collision can never mark a
file as related: the rule is exact.
"""

from __future__ import annotations

import numpy as np

from tests.bench.codetext import code_lines, shape_tokens

#: Non-whitespace characters a shared run must reach: the product's ``min_snippet_chars``.
WINDOW = 150

_B = np.uint64(0x9E3779B97F4A7C15)  # odd
_B_INV = np.uint64(pow(int(_B), -1, 2**64))
_powers = np.ones(1, np.uint64)
_inverse_powers = np.ones(1, np.uint64)


def _power_tables(n: int) -> tuple[np.ndarray, np.ndarray]:
    """B**j and B**-j mod 2**64 for j < n (grown on demand, shared by every call)."""
    global _powers, _inverse_powers
    if len(_powers) < n:
        size = max(n, 2 * len(_powers))
        _powers = np.full(size, _B, np.uint64)
        _powers[0] = 1
        np.multiply.accumulate(_powers, out=_powers)  # uint64 wraps: arithmetic mod 2**64
        _inverse_powers = np.full(size, _B_INV, np.uint64)
        _inverse_powers[0] = 1
        np.multiply.accumulate(_inverse_powers, out=_inverse_powers)
    return _powers[:n], _inverse_powers[:n]


def window_hashes(text: str, window: int = WINDOW) -> np.ndarray:
    """Hash of every ``window``-character substring of ``text``, in order (empty if shorter)."""
    n = len(text)
    if n < window:
        return np.empty(0, np.uint64)
    codes = np.frombuffer(text.encode("utf-32-le"), np.uint32).astype(np.uint64)
    powers, inverse = _power_tables(n)
    prefix = np.zeros(n + 1, np.uint64)
    np.cumsum(codes * powers, out=prefix[1:])
    # sum_k c[i+k] B**(i+k) = B**i * h_i, so h_i = (prefix[i+w] - prefix[i]) * B**-i
    return (prefix[window:] - prefix[:-window]) * inverse[: n - window + 1]


def verbatim_view(text: str) -> str:
    """The text with all whitespace removed."""
    return "".join(text.split())


def code_view(text: str, language: str) -> str:
    """The code lines (no comment lines, no docstring insides) with all whitespace removed."""
    lines = text.splitlines()
    return "".join(
        "".join(line for line, keep in zip(lines, code_lines(text, language), strict=False) if keep).split()
    )


def shape_view(text: str, language: str) -> str:
    """Code lines with identifiers, numbers and strings replaced by one-letter placeholders."""
    return "".join(shape_tokens(text, language))


class SharedRuns:
    """The windows of a fixed set of texts, to ask whether another text shares a run with one.

    Args:
        texts: one view (see :func:`verbatim_view`, :func:`shape_view`) per registered file.
        window: the run length, in characters of that view.
    """

    def __init__(self, texts: list[str], window: int = WINDOW) -> None:
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.window = window
        self.texts = texts
        hashes = [window_hashes(t, window) for t in texts]
        owners = np.repeat(np.arange(len(texts), dtype=np.int32), [len(h) for h in hashes])
        keys = np.concatenate(hashes) if hashes else np.empty(0, np.uint64)
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.owners = owners[order]

    def find(self, text: str) -> int:
        """Index of a text sharing a run of >= ``window`` characters with ``text``, or -1."""
        if not len(self.keys):
            return -1
        hashes = window_hashes(text, self.window)
        # Sorted needles walk the (large) key array in order: several times faster than
        # searching in text order, which jumps around memory.
        order = np.argsort(hashes)
        at = np.empty(len(hashes), np.int64)
        at[order] = np.searchsorted(self.keys, hashes[order])
        np.minimum(at, len(self.keys) - 1, out=at)
        for i in np.flatnonzero(self.keys[at] == hashes):
            piece = text[i : i + self.window]
            # Every registered window with this hash, not only the first: on a collision the
            # first owner may not contain the piece while another one does.
            j = int(at[i])
            while j < len(self.keys) and self.keys[j] == hashes[i]:
                owner = int(self.owners[j])
                if piece in self.texts[owner]:
                    return owner
                j += 1
        return -1
