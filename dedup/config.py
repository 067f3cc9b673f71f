"""Engine configuration: one frozen, validated object instead of module globals.

Every knob that changes what the engine computes lives here, so a caller (the CLI, the Django
service through its single ``DEDUP`` setting) builds one ``EngineConfig`` and passes it down.
Validation happens once, in ``__post_init__``, with a ``ValueError`` that names the field and the
allowed range, in the style of datasketch's constructors.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["EngineConfig", "SUPPORTED_SCHEMES"]

# Only datasketch 2.0's "affine32" is implemented: uint32 hash values, a bijective permutation
# step, and half the memory of the "legacy" scheme. Others are rejected rather than silently
# computed with the wrong permutation family.
SUPPORTED_SCHEMES = ("affine32",)

# numpy.random.RandomState (which datasketch seeds its permutations with) only accepts seeds that
# fit in 32 bits.
_MAX_SEED = (1 << 32) - 1


def _check_int(name: str, value: object, low: int, high: int | None) -> None:
    allowed = f"an integer >= {low}" if high is None else f"an integer from {low} to {high}"
    # bool is an int subclass; True as a permutation count is a bug, not a 1.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")


def _check_fraction(name: str, value: object, *, low_open: bool = False) -> None:
    ok = not isinstance(value, bool) and isinstance(value, int | float)
    if ok:
        ok = (0.0 < value if low_open else 0.0 <= value) and value <= 1.0
    if not ok:
        allowed = "greater than 0 and at most 1" if low_open else "from 0 to 1"
        raise ValueError(f"{name} must be a number {allowed}, got {value!r}")


@dataclass(frozen=True)
class EngineConfig:
    """Parameters of the near-duplicate engine.

    Args:
        num_perm: Number of MinHash permutations (1..1024).
        seed: Seed of the MinHash permutations (0..2**32-1).
        shingle_size: Tokens per shingle (1..16).
        threshold: Jaccard threshold for whole-document near-duplicates, strictly between 0 and 1.
        min_snippet_chars: A snippet match must cover at least this many non-whitespace characters.
        winnow_k: Tokens per winnowing k-gram.
        winnow_window: Winnowing window, in k-grams.
        boilerplate_max_df: A k-gram or shingle seen in more registered documents than this is
            treated as boilerplate.
        scheme: MinHash permutation scheme; only ``"affine32"`` is supported.
        whole_coverage: A query and a registered document whose localised snippet matches cover
            at least this share of the tokens of *both* are reported as a near-duplicate even
            when their Jaccard is below ``threshold`` (lines inserted, deleted or moved).
            In (0, 1].
        min_snippet_verified: A snippet is reported only if at least this share of the query's
            fingerprints inside the reported lines is found in the document. In [0, 1]. An
            identifier renamed throughout breaks every k-gram it is in: a 40-line snippet with
            three such renames scores 0.56, a 53-line one with one very frequent name 0.47. At
            0.4 both are found; weak chains of idioms are kept out by ``min_snippet_run``
            instead, which measured far more selective on the benchmark's unrelated files.
        min_snippet_run: Share of ``min_snippet_chars`` that one *aligned run* of a snippet must
            cover on its own. In [0, 1]. A run is a stretch of matching fingerprints that
            advance by the same number of tokens on both sides: text copied token for token or
            with substitutions only (renamed identifiers, edited literals, re-indented lines).
            At 1.0 the floor is the promise itself, a copied run of ``min_snippet_chars``,
            verbatim or renamed; pieces joined across inserted or deleted tokens still widen
            the reported lines but no longer add up to the floor. Chains of such short pieces
            are how unrelated files sharing idioms were reported: on the benchmark, 0.0 (the
            rule off) gives 62 false matches per 1000 unrelated files at a verified floor of
            0.4 (46 at 0.5), 1.0 gives 12, with snippet recall unchanged or better. The price:
            a copy with a line put in every 100 characters or so is no longer a snippet (it is
            still a near-duplicate if it covers ``whole_coverage`` of both files).
        min_abstract_shingles: Code with fewer distinct abstract-channel shingles than this (or
            fewer than ``min_abstract_diversity`` per token) is *low-information*: a file of
            ``#define NAME number`` lines looks like every other one on the abstract channel, so
            it is a near-duplicate only if the exact channel agrees (see ``whole_coverage``).
            The abstract channel is the renamed view, where a name or a literal is one token: a
            renamed run of ``min_snippet_chars`` (150) characters is about 100 tokens, hence
            about 100 distinct shingles. Below that, two files can agree on every abstract
            shingle without sharing such a run (two small headers of one kernel subsystem);
            at 48, four of them were false near-duplicates on the benchmark.
        min_abstract_diversity: Distinct abstract shingles per token below which code is
            low-information. In [0, 1].
    """

    num_perm: int = 128
    seed: int = 1
    shingle_size: int = 5
    threshold: float = 0.7
    min_snippet_chars: int = 150
    winnow_k: int = 5
    winnow_window: int = 4
    boilerplate_max_df: int = 50
    scheme: str = "affine32"
    whole_coverage: float = 0.5
    min_snippet_verified: float = 0.4
    min_abstract_shingles: int = 100
    min_abstract_diversity: float = 0.1
    min_snippet_run: float = 1.0

    def __post_init__(self) -> None:
        _check_int("num_perm", self.num_perm, 1, 1024)
        _check_int("seed", self.seed, 0, _MAX_SEED)
        _check_int("shingle_size", self.shingle_size, 1, 16)
        threshold = self.threshold
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be a number strictly between 0 and 1, got {threshold!r}")
        _check_int("min_snippet_chars", self.min_snippet_chars, 1, None)
        _check_int("winnow_k", self.winnow_k, 1, None)
        _check_int("winnow_window", self.winnow_window, 1, None)
        _check_int("boilerplate_max_df", self.boilerplate_max_df, 1, None)
        _check_fraction("whole_coverage", self.whole_coverage, low_open=True)
        _check_fraction("min_snippet_verified", self.min_snippet_verified)
        _check_int("min_abstract_shingles", self.min_abstract_shingles, 0, None)
        _check_fraction("min_abstract_diversity", self.min_abstract_diversity)
        _check_fraction("min_snippet_run", self.min_snippet_run)
        if self.scheme not in SUPPORTED_SCHEMES:
            raise ValueError(
                f"scheme must be one of {', '.join(map(repr, SUPPORTED_SCHEMES))}, got {self.scheme!r}"
            )

    def as_dict(self) -> dict[str, object]:
        """Return the fields as a plain dict (for logs, JSON and the Django setting)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}
