"""dedup: near-duplicate detection for code and prose (MinHash, LSH, winnowing).

The engine is pure Python + numpy/numba and never imports Django or the ``registry`` project; the
web service talks to it through one small module. Configuration is explicit (``EngineConfig``),
and every stored signature carries the parameters it was built with.

The pipeline, one module per step:

* ``tokenize``: text -> uint32 token hashes on two channels (exact; abstract, where identifiers
  and literals collapse so renamed copies match), with line and character positions.
* ``signatures``: shingles and MinHash (bit-identical to datasketch's ``affine32``).
* ``fingerprint``: everything kept about one document (exact hash, signature, shingle set,
  winnowing fingerprints with positions) in a compact versioned binary form; never the text.
* ``lsh``: banded LSH on sorted uint32 arrays (``CompactLSH``; about 8 bytes per band per
  document, savable and memory-mappable), and ``DatasketchLSH`` as the reference.
* ``snippets``: winnowing, an inverted index with boilerplate suppression, and localisation of
  copied line ranges on both sides.
* ``verify``: exact Jaccard and containment, the only numbers a match is reported on.
* ``matcher``: ``Matcher`` ties them together (exact -> near-duplicate -> snippet) over
  concatenated per-document arrays; ``postings`` is the shared sorted-array storage.
"""

from dedup.config import EngineConfig
from dedup.fingerprint import Fingerprint, fingerprint
from dedup.lsh import CompactLSH, DatasketchLSH
from dedup.matcher import Match, Matcher
from dedup.signatures import (
    ParameterMismatchError,
    Signature,
    SignatureParams,
    exact_hash,
    minhash,
    shingle_hashes,
    signature,
)
from dedup.snippets import SnippetIndex
from dedup.tokenize import (
    KINDS,
    LANGUAGES,
    NORMALISER_VERSION,
    BinaryInputError,
    Tokens,
    decode,
    language_for_path,
    normalise_text,
    tokenize,
)
from dedup.verify import containment, jaccard

__all__ = [
    "KINDS",
    "LANGUAGES",
    "NORMALISER_VERSION",
    "BinaryInputError",
    "CompactLSH",
    "DatasketchLSH",
    "EngineConfig",
    "Fingerprint",
    "Match",
    "Matcher",
    "ParameterMismatchError",
    "Signature",
    "SignatureParams",
    "SnippetIndex",
    "Tokens",
    "containment",
    "decode",
    "exact_hash",
    "fingerprint",
    "jaccard",
    "language_for_path",
    "minhash",
    "normalise_text",
    "shingle_hashes",
    "signature",
    "tokenize",
]
