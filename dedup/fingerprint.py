"""Fingerprints: everything the engine keeps about one document, and never its text.

One tokenisation feeds four things:

* ``exact_hash``: sha256 of the exact-channel token stream, so copies that differ only in
  whitespace or comments collide (kind "exact").
* ``signature``: the MinHash of the document's shingles, for LSH. Code uses the *abstract*
  channel (identifiers, literals and numbers replaced by their class) so a copy with renamed
  variables keeps its signature; prose uses the exact channel (its abstract channel is the same).
* ``shingles``: the sorted unique shingle hashes **of the same channel as the signature**. They
  verify LSH candidates exactly, and the verified value is then the exact Jaccard that the
  signature estimates. (Verifying a renamed copy on exact-channel shingles would reject it: the
  renamed identifiers break most exact shingles.)
* ``winnow``: winnowing fingerprints with positions (``dedup.snippets.WINNOW_COLUMNS``) for
  snippet search, on the exact channel: see ``SNIPPET_CHANNEL``.
* ``winnow_flat``: the same for a *flat* reading of the text, where no string or comment spans
  lines (see ``flatten``); empty when the text has no multi-line opener. A fragment cut from the
  middle of a file (a corpus chunk, generated output) may start inside a docstring, a comment
  or a template literal: every quote after that point then reads the wrong way round, and copied
  code reads as a string. The matcher searches registered documents with both readings and keeps
  the better; registered documents are only indexed with the normal one.

``to_bytes`` is a compact, versioned binary form: magic, format version, a JSON header with every
parameter, then the raw little-endian ``uint32`` arrays. A different version or truncated data
raises ``ValueError`` rather than producing a fingerprint that would be compared wrongly.
"""

from __future__ import annotations

import functools
import json
import struct
from dataclasses import dataclass

import numpy as np

from dedup.config import EngineConfig
from dedup.signatures import (
    ParameterMismatchError,
    Signature,
    SignatureParams,
    default_channel,
    exact_hash_of_tokens,
    minhash,
    shingle_hashes,
)
from dedup.snippets import WINNOW_COLUMNS, winnow
from dedup.tokenize import decode, tokenize

FORMAT_VERSION = 2
_MAGIC = b"DDFP"
_HEAD = struct.Struct("<4sHI")  # magic, format version, header length

# The channel winnowed for snippet search. Exact tokens keep identifiers, so a k-gram of them is
# specific enough that short k-grams (5 tokens) rarely collide by accident; a rename or a changed
# literal only breaks the k-grams that contain it, and chaining bridges those gaps.
SNIPPET_CHANNEL = "exact"

__all__ = [
    "FORMAT_VERSION",
    "SNIPPET_CHANNEL",
    "Fingerprint",
    "check_compatible",
    "expected_params",
    "fingerprint",
]


@dataclass(frozen=True, eq=False)
class Fingerprint:
    """Everything the engine keeps about one registered document; no text.

    Attributes:
        params: the signature parameters (scheme, seed, num_perm, shingle size, normaliser
            version, channel); ``shingles`` use the same channel.
        kind: ``"code"`` or ``"prose"``.
        language: language of code, or None.
        exact_hash: sha256 hex of the exact token stream.
        signature: MinHash signature for LSH.
        shingles: sorted unique ``uint32`` shingle hashes (verification).
        winnow: ``uint32[n, 6]`` winnowing fingerprints, columns ``WINNOW_COLUMNS``.
        winnow_flat: the same for the flat reading (``flatten``); None or empty if the same.
        num_lines: lines in the original text.
        num_tokens: tokens in the original text.
        num_chars: non-whitespace characters covered by tokens.
        winnow_k: tokens per winnowing k-gram.
        winnow_window: winnowing window.
    """

    params: SignatureParams
    kind: str
    language: str | None
    exact_hash: str
    signature: Signature
    shingles: np.ndarray
    winnow: np.ndarray
    num_lines: int
    num_tokens: int
    num_chars: int = 0
    winnow_k: int = 5
    winnow_window: int = 4
    winnow_flat: np.ndarray | None = None

    @property
    def flat(self) -> np.ndarray:
        """``winnow_flat`` as an array (empty when there is no flat reading)."""
        if self.winnow_flat is None:
            return np.empty((0, len(WINNOW_COLUMNS)), np.uint32)
        return self.winnow_flat

    @property
    def nbytes(self) -> int:
        """Size of :meth:`to_bytes`, for storage estimates."""
        return len(self.to_bytes())

    def to_bytes(self) -> bytes:
        header = json.dumps(
            {
                "scheme": self.params.scheme,
                "seed": self.params.seed,
                "num_perm": self.params.num_perm,
                "shingle_size": self.params.shingle_size,
                "normaliser_version": self.params.normaliser_version,
                "channel": self.params.channel,
                "kind": self.kind,
                "language": self.language,
                "exact_hash": self.exact_hash,
                "num_lines": self.num_lines,
                "num_tokens": self.num_tokens,
                "num_chars": self.num_chars,
                "winnow_k": self.winnow_k,
                "winnow_window": self.winnow_window,
                "n_shingles": len(self.shingles),
                "n_winnow": len(self.winnow),
                "n_winnow_flat": len(self.flat),
            },
            separators=(",", ":"),
        ).encode()
        return b"".join(
            [
                _HEAD.pack(_MAGIC, FORMAT_VERSION, len(header)),
                header,
                np.ascontiguousarray(self.signature.hashvalues, "<u4").tobytes(),
                np.ascontiguousarray(self.shingles, "<u4").tobytes(),
                np.ascontiguousarray(self.winnow, "<u4").tobytes(),
                np.ascontiguousarray(self.flat, "<u4").tobytes(),
            ]
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        data = bytes(data)
        if len(data) < _HEAD.size:
            raise ValueError("fingerprint data is truncated (shorter than its header)")
        magic, version, hlen = _HEAD.unpack_from(data)
        if magic != _MAGIC:
            raise ValueError("not a fingerprint (bad magic bytes)")
        if version != FORMAT_VERSION:
            raise ValueError(
                f"fingerprint has format version {version}, this engine reads version "
                f"{FORMAT_VERSION}; recompute it from the source text"
            )
        try:
            h = json.loads(data[_HEAD.size : _HEAD.size + hlen])
        except ValueError:
            raise ValueError("fingerprint header is truncated or corrupt") from None
        k, ns, nw, nf = h["num_perm"], h["n_shingles"], h["n_winnow"], h["n_winnow_flat"]
        start = _HEAD.size + hlen
        width = len(WINNOW_COLUMNS)
        expected = start + 4 * (k + ns + (nw + nf) * width)
        if len(data) != expected:
            raise ValueError(f"fingerprint data has {len(data)} bytes, its header says {expected}")
        arr = np.frombuffer(data, "<u4", offset=start).astype(np.uint32)
        params = SignatureParams(
            scheme=h["scheme"],
            seed=h["seed"],
            num_perm=k,
            shingle_size=h["shingle_size"],
            normaliser_version=h["normaliser_version"],
            channel=h["channel"],
        )
        return cls(
            params=params,
            kind=h["kind"],
            language=h["language"],
            exact_hash=h["exact_hash"],
            signature=Signature(params=params, hashvalues=arr[:k]),
            shingles=arr[k : k + ns],
            winnow=arr[k + ns : k + ns + nw * width].reshape(nw, width),
            winnow_flat=arr[k + ns + nw * width :].reshape(nf, width),
            num_lines=h["num_lines"],
            num_tokens=h["num_tokens"],
            num_chars=h["num_chars"],
            winnow_k=h["winnow_k"],
            winnow_window=h["winnow_window"],
        )


def _count_lines(text: str | bytes) -> int:
    nl = "\n" if isinstance(text, str) else b"\n"
    if not text:
        return 0
    return text.count(nl) + (0 if text.endswith(nl) else 1)


# Multi-line openers and their flat stand-ins: same length, no newline, so token lines and
# non-whitespace character offsets stay where they were. A triple quote becomes a one-line string,
# a backtick a quote (one-line strings stop at the end of their line), and a block comment opener
# a line comment; what was inside reads as code.
_FLAT = (('"""', '"x"'), ("'''", "'x'"), ("`", "'"), ("/*", "//"))


def flatten(text: str) -> str | None:
    """The flat reading of ``text``, or None if it has no multi-line opener to flatten."""
    # spelled out, not any() over _FLAT: every query of a corpus asks, most of them say no
    if not ('"""' in text or "'''" in text or "`" in text or "/*" in text):
        return None
    for opener, flat in _FLAT:
        text = text.replace(opener, flat)
    return text


@functools.lru_cache(maxsize=64)
def expected_params(config: EngineConfig, kind: str) -> SignatureParams:
    """The signature parameters a fingerprint of ``kind`` must carry under ``config``.

    Cached: every query is fingerprinted and checked against them (twice per document), and the
    config is a frozen, hashable dataclass, as is the answer."""
    return SignatureParams.for_config(config, default_channel(kind))


def check_compatible(fp: Fingerprint, config: EngineConfig) -> None:
    """Raise ``ParameterMismatchError`` unless ``fp`` was computed with ``config``'s parameters."""
    want = expected_params(config, fp.kind)
    if fp.params != want:
        raise ParameterMismatchError(
            f"fingerprint parameters {fp.params} do not match the engine's {want}; "
            "recompute the fingerprint with the current configuration"
        )
    if (fp.winnow_k, fp.winnow_window) != (config.winnow_k, config.winnow_window):
        raise ParameterMismatchError(
            f"fingerprint winnowing (k={fp.winnow_k}, window={fp.winnow_window}) does not match "
            f"the engine's (k={config.winnow_k}, window={config.winnow_window}); recompute it"
        )


def fingerprint(
    text: str | bytes,
    *,
    kind: str,
    language: str | None = None,
    config: EngineConfig,
) -> Fingerprint:
    """Tokenise ``text`` once and compute its fingerprint.

    Args:
        text: the document (bytes are decoded by the tokenizer).
        kind: ``"code"`` or ``"prose"``.
        language: language of code (see ``dedup.tokenize.language_for_path``), or None.
        config: engine parameters.
    """
    toks = tokenize(text, kind=kind, language=language)
    params = expected_params(config, kind)
    channel_tokens = toks.abstract if params.channel == "abstract" else toks.exact
    sh = shingle_hashes(channel_tokens, config.shingle_size)
    sig = Signature(params=params, hashvalues=minhash(sh, num_perm=config.num_perm, seed=config.seed))
    w = _winnow_tokens(toks, config)
    flat_w = None
    if kind == "code":
        flat = flatten(text if isinstance(text, str) else decode(bytes(text))[0])
        if flat is not None:
            flat_w = _winnow_tokens(tokenize(flat, kind=kind, language=language), config)
            if np.array_equal(flat_w[:, 0], w[:, 0]):
                flat_w = None
    return Fingerprint(
        params=params,
        kind=kind,
        language=language,
        exact_hash=exact_hash_of_tokens(kind, toks.exact),
        signature=sig,
        shingles=_sorted_unique(sh),
        winnow=w,
        num_lines=_count_lines(text),
        num_tokens=len(toks),
        num_chars=int(toks.weight.sum()),
        winnow_k=config.winnow_k,
        winnow_window=config.winnow_window,
        winnow_flat=flat_w,
    )


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` for a flat integer array, without its general-purpose overhead (a few
    microseconds per call, and every query is fingerprinted)."""
    out = np.sort(values)
    if len(out) > 1:
        keep = np.empty(len(out), bool)
        keep[0] = True
        np.not_equal(out[1:], out[:-1], out=keep[1:])
        out = out[keep]
    return out


def _winnow_tokens(toks, config: EngineConfig) -> np.ndarray:
    snippet_tokens = toks.exact if SNIPPET_CHANNEL == "exact" else toks.abstract
    kgrams = shingle_hashes(snippet_tokens, config.winnow_k)
    return winnow(kgrams, toks.line, toks.weight, k=config.winnow_k, window=config.winnow_window)
