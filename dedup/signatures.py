"""MinHash signatures of documents, bit-compatible with datasketch 2.0's "affine32" scheme.

A document becomes a set of shingles (``shingle_size`` consecutive token hashes, hashed to one
uint32), and the set becomes ``num_perm`` minima of random affine permutations. The permutations
are datasketch's own (same RandomState draws), so ``minhash()`` equals
``datasketch.MinHash(num_perm, seed, scheme="affine32", hashfunc=lambda x: x).update_batch(...)``
value for value, and ``Signature.to_datasketch()`` plugs into datasketch's LSH indexes.

Every ``Signature`` carries its ``SignatureParams`` (scheme, seed, permutations, shingle size,
normaliser version, channel): comparing two built differently raises ``ParameterMismatchError``
instead of returning a meaningless number.
"""

from __future__ import annotations

import functools
import hashlib
import struct
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np

from dedup import _kernels as K
from dedup.config import SUPPORTED_SCHEMES, EngineConfig
from dedup.tokenize import NORMALISER_VERSION, _check_kind, _token_rows

if TYPE_CHECKING:
    import datasketch

__all__ = [
    "CHANNELS",
    "ParameterMismatchError",
    "Signature",
    "SignatureParams",
    "default_channel",
    "exact_hash",
    "exact_hash_of_tokens",
    "minhash",
    "permutations",
    "shingle_hashes",
    "signature",
    "signature_of_tokens",
]

CHANNELS = ("exact", "abstract")
_EMPTY = np.uint32(0xFFFFFFFF)  # datasketch's value for "no element seen"


class ParameterMismatchError(ValueError):
    """Two signatures were built with different parameters and cannot be compared."""


@dataclass(frozen=True)
class SignatureParams:
    """Everything that must match for two signatures to be comparable."""

    scheme: str
    seed: int
    num_perm: int
    shingle_size: int
    normaliser_version: int
    channel: str

    def __post_init__(self) -> None:
        if self.scheme not in SUPPORTED_SCHEMES:
            raise ValueError(f"scheme must be one of {SUPPORTED_SCHEMES}, got {self.scheme!r}")
        if self.channel not in CHANNELS:
            raise ValueError(f"channel must be one of {CHANNELS}, got {self.channel!r}")

    @classmethod
    def for_config(cls, config: EngineConfig, channel: str) -> SignatureParams:
        return cls(
            scheme=config.scheme,
            seed=config.seed,
            num_perm=config.num_perm,
            shingle_size=config.shingle_size,
            normaliser_version=NORMALISER_VERSION,
            channel=channel,
        )

    def check_compatible(self, other: SignatureParams) -> None:
        """Raise ParameterMismatchError naming the first parameter that differs."""
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if mine != theirs:
                raise ParameterMismatchError(
                    f"cannot compare signatures with different {f.name}: {mine!r} != {theirs!r}"
                )


# ---- shingles and MinHash ------------------------------------------------------------------------


def shingle_hashes(token_hashes: np.ndarray, shingle_size: int) -> np.ndarray:
    """Hash every window of ``shingle_size`` consecutive token hashes to one uint32.

    The hash is MurmurHash3_x86_32 (seed 0) of the window's little-endian bytes. A document with
    fewer tokens than ``shingle_size`` gives one shingle of all its tokens; an empty one gives an
    empty array.
    """
    if shingle_size < 1:
        raise ValueError(f"shingle_size must be >= 1, got {shingle_size}")
    return K.shingles(token_hashes, shingle_size)


@functools.lru_cache(maxsize=32)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters ``(a, b)`` for (num_perm, seed).

    Drawn exactly as ``datasketch.MinHash._init_permutations`` does, so values match.
    Cached: drawing them costs more than hashing a small document.
    """
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a.flags.writeable = False
    b.flags.writeable = False
    return a, b


def minhash(shingles: np.ndarray, *, num_perm: int, seed: int) -> np.ndarray:
    """The affine32 MinHash (uint32[num_perm]) of a set of uint32 hashes.

    Equal to ``datasketch.MinHash(num_perm=num_perm, seed=seed, scheme="affine32",
    hashfunc=lambda x: x)`` after ``update_batch(shingles)``; empty input gives all 0xFFFFFFFF.
    """
    a, b = permutations(num_perm, seed)
    out = np.full(num_perm, _EMPTY, dtype=np.uint32)
    K.minhash_into(np.asarray(shingles, dtype=np.uint32), a, b, out)
    return out


# ---- signatures ----------------------------------------------------------------------------------

# Byte format: magic, format version, then the params, then num_perm little-endian uint32.
_MAGIC = b"DDSG"
_FORMAT_VERSION = 1
_SCHEME_CODES = {"affine32": 1}
_CHANNEL_CODES = {"exact": 0, "abstract": 1}
_HEADER = struct.Struct("<4sBBBBIHHI")  # magic, version, scheme, channel, pad, seed, K, shingle, nv


@dataclass(frozen=True, eq=False)
class Signature:
    """A MinHash signature together with the parameters that produced it."""

    params: SignatureParams
    hashvalues: np.ndarray

    def __post_init__(self) -> None:
        values = np.ascontiguousarray(self.hashvalues, dtype=np.uint32)
        if values.shape != (self.params.num_perm,):
            raise ValueError(
                f"hashvalues must have shape ({self.params.num_perm},) to match num_perm, got {values.shape}"
            )
        object.__setattr__(self, "hashvalues", values)

    def jaccard(self, other: Signature) -> float:
        """Estimated Jaccard similarity: the fraction of equal hash values.

        Raises:
            ParameterMismatchError: If the two were built with different parameters.
        """
        self.params.check_compatible(other.params)
        return float(np.count_nonzero(self.hashvalues == other.hashvalues)) / self.params.num_perm

    def is_empty(self) -> bool:
        """True for the signature of a document with no tokens."""
        return bool(np.all(self.hashvalues == _EMPTY))

    def to_bytes(self) -> bytes:
        p = self.params
        header = _HEADER.pack(
            _MAGIC,
            _FORMAT_VERSION,
            _SCHEME_CODES[p.scheme],
            _CHANNEL_CODES[p.channel],
            0,
            p.seed,
            p.num_perm,
            p.shingle_size,
            p.normaliser_version,
        )
        return header + self.hashvalues.astype("<u4", copy=False).tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        """Inverse of ``to_bytes``.

        Raises:
            ValueError: If the data is not a signature or has an unknown format version.
        """
        data = bytes(data)
        if len(data) < _HEADER.size or data[:4] != _MAGIC:
            raise ValueError("not a dedup signature (bad magic or too short)")
        magic, version, scheme, channel, _, seed, num_perm, shingle_size, nv = _HEADER.unpack_from(data)
        if version != _FORMAT_VERSION:
            raise ValueError(
                f"unsupported signature format version {version} (this build reads {_FORMAT_VERSION})"
            )
        schemes = {v: k for k, v in _SCHEME_CODES.items()}
        channels = {v: k for k, v in _CHANNEL_CODES.items()}
        if scheme not in schemes or channel not in channels:
            raise ValueError(f"corrupt signature header (scheme code {scheme}, channel code {channel})")
        expected = _HEADER.size + 4 * num_perm
        if len(data) != expected:
            raise ValueError(
                f"corrupt signature: expected {expected} bytes for num_perm={num_perm}, got {len(data)}"
            )
        params = SignatureParams(
            scheme=schemes[scheme],
            seed=seed,
            num_perm=num_perm,
            shingle_size=shingle_size,
            normaliser_version=nv,
            channel=channels[channel],
        )
        values = np.frombuffer(data, dtype="<u4", offset=_HEADER.size).astype(np.uint32)
        return cls(params=params, hashvalues=values)

    def to_datasketch(self) -> datasketch.LeanMinHash:
        """This signature as a ``datasketch.LeanMinHash`` (for MinHashLSH, LSHEnsemble, LSHForest)."""
        from datasketch import LeanMinHash  # imported lazily: only interop needs it

        return LeanMinHash(
            seed=self.params.seed, hashvalues=self.hashvalues.copy(), scheme=self.params.scheme
        )


def default_channel(kind: str) -> str:
    """Code is compared on the abstract channel (renames survive), prose on exact words."""
    _check_kind(kind)
    return "abstract" if kind == "code" else "exact"


def signature_of_tokens(token_hashes: np.ndarray, params: SignatureParams) -> Signature:
    """The signature of an already tokenised channel (for callers that tokenise once)."""
    shingles = K.shingles(token_hashes, params.shingle_size)
    return Signature(params=params, hashvalues=minhash(shingles, num_perm=params.num_perm, seed=params.seed))


def signature(
    text: str | bytes,
    *,
    kind: str,
    language: str | None = None,
    config: EngineConfig,
    channel: str | None = None,
) -> Signature:
    """Bytes or text -> MinHash signature, through the fused tokenizer kernel.

    Args:
        text: The document.
        kind: ``"code"`` or ``"prose"``.
        language: The code language (see ``tokenize.tokenize``).
        config: Engine parameters (num_perm, seed, shingle_size, scheme).
        channel: ``"exact"`` or ``"abstract"``; default ``default_channel(kind)``.
    """
    if channel is None:
        channel = default_channel(kind)
    params = SignatureParams.for_config(config, channel)
    rows = _token_rows(text, kind, language)
    return signature_of_tokens(rows[0] if channel == "exact" else rows[1], params)


def exact_hash_of_tokens(kind: str, exact_tokens: np.ndarray) -> str:
    """sha256 hex of a kind tag, the normaliser version and the exact-channel token hashes."""
    h = hashlib.sha256(f"dedup:{kind}:{NORMALISER_VERSION}:".encode())
    h.update(np.ascontiguousarray(exact_tokens, dtype="<u4").tobytes())
    return h.hexdigest()


def exact_hash(text: str | bytes, *, kind: str, language: str | None = None) -> str:
    """sha256 hex of the normalised token stream.

    Hashes the exact-channel token hashes (not the token text): it falls out of the same kernel
    pass with no per-token strings, and two different documents collide only if some token pair
    collides in 32 bits at the same position *and* everything else is equal. Copies that differ
    only in whitespace or comments (code) or case, punctuation and spacing (prose) collide.
    """
    rows = _token_rows(text, kind, language)
    return exact_hash_of_tokens(kind, rows[0])
