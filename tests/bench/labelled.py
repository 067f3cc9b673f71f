"""A labelled near-duplicate set made from real code, deterministic for a given seed.

From the benchmark corpus (see :mod:`tests.bench.corpus`) the generator picks

* **registered** files: what the engine indexes;
* **copies** of registered files, each labelled with its source:
  - type 1: whitespace reformatted (indentation width, spaces around operators, blank lines,
    trailing spaces), full-line comments removed and new ones added;
  - type 2: identifiers renamed consistently and number/string literals changed;
  - type 3: 10-20 % of the lines edited in small blocks: deleted, inserted (lines taken from an
    unrelated file) or moved;
* **snippets**: 5-60 consecutive lines of a registered file, lightly edited (one identifier
  renamed, one literal changed, or the block re-indented), embedded in lines of an unrelated
  "host" file, with the true line range known in both the sample and the registered file;
* **unrelated** files: other files that are not registered, at least 1,000 of them in the full
  run, used as negatives.

"Unrelated" must really mean unrelated, or a correct match would be scored as a false one. The
product promises to report copied runs of about 150 non-whitespace characters or more, so a
negative (or snippet host) is a leftover that shares no such run with any registered file, either
verbatim (whitespace removed), as a renamed copy (identifiers, numbers and strings replaced by
placeholders; :mod:`tests.bench.overlap` implements both exactly, independently of the engine), or
as an edited copy: an aligned token run, renames and edited literals in between, whose identical
text makes 150 characters and at least half the run (:mod:`tests.bench.aligned`: a test method
pasted under a new name, ``listobject.h`` written from ``tupleobject.h``, one source compiled
to ES modules and to CommonJS). It removes versions of the same file (``cpython/dictobject.h`` of
Python 3.11 and 3.12, ``lib2to3/pgen2/token.py`` and ``token.py``) and files sharing a licence
block. It does not remove files that merely look alike: ``tc_act/tc_mpls.h`` and
``tc_mirred.h`` share at most 57 characters, and two lists of ``#define NAME number`` align
token for token but share only their ``#define``, so an engine match between them counts as a
false one.

Registered files are chosen under an older, cheaper rule against each other, so that a copy of
one registered file has (almost always) one right answer: no shared *substantial window* (four
consecutive non-blank lines, whitespace-normalised, with at least 80 non-whitespace characters
between them) and no same-shape file (shape Jaccard >= ``SHAPE_RELATED``). That rule only narrows
which files get registered; it is not used for negatives, where its 80-character windows would
also drop files the definition calls unrelated and make the false-match figure look better than
it is. How many candidates each rule rejected is reported with the results.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import zlib
from dataclasses import dataclass, field

import numpy as np

from tests.bench import aligned, overlap

# The labelled set's light reading of code lives in codetext; these names stay importable from
# here, where the benchmarks and tests have always found them.
from tests.bench.codetext import (  # noqa: F401
    ABSTRACT_TOKEN,
    HASH_COMMENT,
    KEYWORDS,
    code_lines,
    shape_tokens,
)
from tests.bench.corpus import SourceFile

IDENT = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")
NUMBER = re.compile(r"(?<![\w.])\d+(?![\w.])")
STRING = re.compile(r"(\"|')([A-Za-z][A-Za-z ]{2,40})\1")
WORDS = (
    "alpha beta gamma delta omega kappa sigma theta lambda zeta orbit cedar maple harbor "
    "falcon ember quartz meadow willow copper lantern summit velvet"
).split()


@dataclass(frozen=True)
class Sample:
    """One query for the engine and the right answer."""

    id: str
    kind: str  # "type1" | "type2" | "type3" | "snippet" | "unrelated"
    text: str
    path: str  # a path with the right extension, for the engine's language detection
    source: int | None = None  # index into LabelledSet.registered
    sample_range: tuple[int, int] | None = None  # snippets: 1-based inclusive lines in the sample
    doc_range: tuple[int, int] | None = None  # snippets: 1-based inclusive lines in the registered doc
    # unrelated files: the most structurally similar registered doc and the Jaccard of their
    # shapes (see structure()), so the report can tell shape-alike false matches from others
    similar_to: int | None = None
    shape_jaccard: float = 0.0


@dataclass
class LabelledSet:
    registered: list[SourceFile]
    samples: list[Sample]
    rejected: dict[str, int] = field(default_factory=dict)
    # the first few leftovers kept out of the negatives, with the registered file they share with
    removed_examples: list[str] = field(default_factory=list)

    def of_kind(self, *kinds: str) -> list[Sample]:
        return [s for s in self.samples if s.kind in kinds]


@dataclass(frozen=True)
class Sizes:
    registered: int
    per_copy_type: int
    snippets: int
    unrelated: int


#: Shape Jaccard (see structure()) from which two files count as variants of each other.
SHAPE_RELATED = 0.5

# Keys of LabelledSet.rejected for the leftovers (negatives and hosts); see build().
VERBATIM_RULE = "verbatim: shares a run >= 150 non-whitespace chars with a registered file"
CODE_RULE = (
    "code: shares a run >= 150 non-whitespace chars of code lines (comments removed) with a registered file"
)
RENAMED_RULE = "renamed copy: shares a run >= 150 chars of shape text with a registered file"
ALIGNED_RULE = (
    "edited copy: shares an aligned token run with >= 150 identical chars (half its text or more) "
    "with a registered file"
)
OLD_RULE = "kept as unrelated, though the old 4-line-window/sibling rule would have dropped it"

FULL = Sizes(registered=1200, per_copy_type=300, snippets=600, unrelated=1200)
QUICK = Sizes(registered=60, per_copy_type=15, snippets=30, unrelated=60)


# --- choosing files ----------------------------------------------------------------------------

_BANDS, _ROWS = 10, 3  # 30 hash functions; bands tuned for a Jaccard of about 0.45
_MULT = np.random.default_rng(12345).integers(1, 2**63, size=_BANDS * _ROWS, dtype=np.uint64) | np.uint64(1)


def structure(text: str, language: str) -> frozenset[int]:
    """Shingles of the file's *shape*: code lines only, identifiers -> I, numbers -> N, strings -> S.

    An independent, deliberately simple stand-in for a type-2 view (not the engine's tokenizer),
    used to keep structurally identical files (a header of ``#define NAME number`` lines looks
    like every other one; ``translations/da.js`` like ``de.js``) out of the registered set, so a
    copy has one right answer.
    """
    shape = shape_tokens(text, language)
    # zlib.crc32, not hash(): str hashes change with every process's hash seed, and the labelled
    # set must be the same in every run of the benchmark.
    return frozenset(
        zlib.crc32("\x1f".join(shape[i : i + 5]).encode()) for i in range(max(1, len(shape) - 4))
    )


class StructureIndex:
    """MinHash-LSH over :func:`structure` shingles, verified with exact Jaccard."""

    def __init__(self) -> None:
        self.sets: list[frozenset[int]] = []
        self.buckets: dict[tuple[int, bytes], list[int]] = {}

    @staticmethod
    def _bands(shingles: frozenset[int]) -> list[bytes]:
        x = np.fromiter(shingles, np.int64, len(shingles)).view(np.uint64)
        h = x[:, None] * _MULT[None, :]
        h ^= h >> np.uint64(29)
        sig = h.min(axis=0).reshape(_BANDS, _ROWS)
        return [row.tobytes() for row in sig]

    def add(self, shingles: frozenset[int]) -> int:
        i = len(self.sets)
        self.sets.append(shingles)
        for b, key in enumerate(self._bands(shingles)):
            self.buckets.setdefault((b, key), []).append(i)
        return i

    def most_similar(self, shingles: frozenset[int]) -> tuple[int, float]:
        """(index, Jaccard) of the most similar added set, or (-1, 0.0)."""
        best = (-1, 0.0)
        seen = set()
        for b, key in enumerate(self._bands(shingles)):
            for i in self.buckets.get((b, key), ()):
                if i not in seen:
                    seen.add(i)
                    other = self.sets[i]
                    j = len(shingles & other) / len(shingles | other)
                    if j > best[1]:
                        best = (i, j)
        return best


def _content_lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def windows(text: str, size: int = 4, min_chars: int = 80) -> set[bytes]:
    """Hashes of the substantial windows of ``text`` (see the module docstring)."""
    lines = _content_lines(text)
    out = set()
    for i in range(len(lines) - size + 1):
        chunk = lines[i : i + size]
        if sum(len(line.replace(" ", "")) for line in chunk) >= min_chars:
            out.add(hashlib.blake2b("\n".join(chunk).encode(), digest_size=8).digest())
    return out


def usable(f: SourceFile) -> bool:
    """Real, human-sized source: decodes as UTF-8, 15-3000 lines, no minified lines."""
    try:
        text = f.data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    lines = text.splitlines()
    content = [line for line in lines if line.strip()]
    if not (15 <= len(content) and len(lines) <= 3000):
        return False
    if max(len(line) for line in lines) > 400:
        return False
    return sum(len(line.split()) for line in content) >= 60


def build(files: list[SourceFile], *, sizes: Sizes, seed: int = 7) -> LabelledSet:
    """Pick registered files, make copies, snippets and negatives. Same inputs, same set."""
    rng = random.Random(seed)
    pool = [f for f in files if usable(f)]
    rng.shuffle(pool)
    # Python is half the registered set, the other languages share the rest, so both the Python
    # stdlib and the C/JavaScript sources are represented whatever their raw counts.
    python = [f for f in pool if f.language == "python"]
    other = [f for f in pool if f.language != "python"]
    rejected = dict.fromkeys(
        (
            "near-copy of a registered file",
            "same shape as a registered file",
            VERBATIM_RULE,
            CODE_RULE,
            RENAMED_RULE,
            ALIGNED_RULE,
            OLD_RULE,
        ),
        0,
    )

    taken: dict[bytes, int] = {}
    shapes = StructureIndex()
    registered: list[SourceFile] = []
    leftovers: list[SourceFile] = []
    quota = {"python": sizes.registered // 2, "other": sizes.registered - sizes.registered // 2}
    for group, candidates in (("python", python), ("other", other)):
        count = 0
        for f in candidates:
            if count >= quota[group]:
                leftovers.append(f)
                continue
            w = windows(f.text)
            if any(h in taken for h in w):
                rejected["near-copy of a registered file"] += 1
                continue
            shape = structure(f.text, f.language)
            if shapes.most_similar(shape)[1] >= SHAPE_RELATED:
                rejected["same shape as a registered file"] += 1
                continue
            for h in w:
                taken[h] = len(registered)
            shapes.add(shape)
            registered.append(f)
            count += 1
    rng.shuffle(leftovers)
    # Hosts first, then negatives; stop scanning the leftovers once both are filled. A leftover
    # is not unrelated when it shares a run of >= 150 non-whitespace characters with a
    # registered file, verbatim, in its code lines, as a renamed copy (see tests.bench.overlap)
    # or as an edited copy (tests.bench.aligned): the product promises to report exactly such
    # runs, "verbatim or renamed", so matching them is right, not a false alarm. The
    # stricter 4-line-window and same-shape rules above are kept for the registered set only:
    # applied to negatives they would also drop files the definition calls unrelated (an
    # 80-character shared window is below what the engine may report) and flatter the engine.
    need_hosts = max(50, sizes.snippets // 3)
    verbatim = overlap.SharedRuns([overlap.verbatim_view(f.text) for f in registered])
    code = overlap.SharedRuns([overlap.code_view(f.text, f.language) for f in registered])
    renamed = overlap.SharedRuns([overlap.shape_view(f.text, f.language) for f in registered])
    edited = aligned.AlignedRuns([aligned.code_tokens(f.text, f.language) for f in registered])
    unrelated_pool: list[tuple[SourceFile, int, float]] = []
    removed: list[str] = []
    for f in leftovers:
        if len(unrelated_pool) >= need_hosts + sizes.unrelated:
            break
        rule, owner = VERBATIM_RULE, verbatim.find(overlap.verbatim_view(f.text))
        if owner < 0:
            rule, owner = CODE_RULE, code.find(overlap.code_view(f.text, f.language))
        if owner < 0:
            rule, owner = RENAMED_RULE, renamed.find(overlap.shape_view(f.text, f.language))
        if owner < 0:
            rule, owner = ALIGNED_RULE, edited.find(aligned.code_tokens(f.text, f.language))
        if owner >= 0:
            rejected[rule] += 1
            if len(removed) < 20:
                removed.append(f"{f.path} ~ {registered[owner].path} ({rule.split(':')[0]})")
            continue
        best, jac = shapes.most_similar(structure(f.text, f.language))
        # For the report only: accepted files the old negative rules would have dropped.
        if any(h in taken for h in windows(f.text)) or (
            jac >= SHAPE_RELATED and os.path.dirname(registered[best].path) == os.path.dirname(f.path)
        ):
            rejected[OLD_RULE] += 1
        unrelated_pool.append((f, best, jac))
    hosts = [f for f, _best, _jac in unrelated_pool[:need_hosts]]
    negatives = unrelated_pool[need_hosts:]

    hosts_by_language: dict[str, list[SourceFile]] = {}
    for h in hosts:
        hosts_by_language.setdefault(h.language, []).append(h)

    samples: list[Sample] = []
    order = list(range(len(registered)))
    for kind, make in (("type1", type1), ("type2", type2), ("type3", type3)):
        for n, src in enumerate(rng.sample(order, min(len(order), sizes.per_copy_type))):
            f = registered[src]
            donor = hosts[rng.randrange(len(hosts))].text
            text = make(f.text, f.language, random.Random(rng.random()), donor=donor)
            samples.append(Sample(f"{kind}/{n}", kind, text, f.path, source=src))

    made = attempts = 0
    while made < sizes.snippets and attempts < 10 * sizes.snippets:
        attempts += 1
        src = rng.randrange(len(registered))
        f = registered[src]
        # A host in the snippet's own language, so the sample reads like one real file.
        same = hosts_by_language.get(f.language) or hosts
        host = same[rng.randrange(len(same))]
        sample = snippet(f, src, host, random.Random(rng.random()), made)
        if sample is not None:
            samples.append(sample)
            made += 1

    for n, (f, best, jac) in enumerate(negatives):
        samples.append(
            Sample(
                f"unrelated/{n}", "unrelated", f.text, f.path, similar_to=best, shape_jaccard=round(jac, 3)
            )
        )
    return LabelledSet(registered, samples, rejected, removed)


# --- edits -------------------------------------------------------------------------------------


def _comment(language: str, rng: random.Random) -> str:
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6)))
    return ("# " if language in HASH_COMMENT else "// ") + words


def _is_comment_line(line: str, language: str) -> bool:
    s = line.strip()
    if language in HASH_COMMENT:
        return s.startswith("#")
    return s.startswith("//")


def type1(text: str, language: str, rng: random.Random, *, donor: str = "") -> str:
    """Whitespace and comments only: the token stream the engine sees is unchanged."""
    out = []
    halve = rng.random() < 0.5  # 4-space -> 2-space indentation keeps Python valid
    for line in text.splitlines():
        if _is_comment_line(line, language) and rng.random() < 0.5:
            continue
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if halve:
            line = " " * (indent // 2) + stripped
        if rng.random() < 0.2:
            line = re.sub(r" = ", "  =  ", line, count=1)
        if rng.random() < 0.2:
            line = line.replace(", ", " , ", 1)
        if rng.random() < 0.1:
            line += "   "
        out.append(line)
        r = rng.random()
        if r < 0.05:
            out.append("")
        elif r < 0.08:
            lead = " " * (len(line) - len(line.lstrip(" ")))
            out.append(lead + _comment(language, rng))
    return "\n".join(out) + "\n"


def _rename_map(text: str, rng: random.Random, count: int) -> dict[str, str]:
    freq: dict[str, int] = {}
    for name in IDENT.findall(text):
        if name not in KEYWORDS and len(name) > 2 and not name.startswith("__"):
            freq[name] = freq.get(name, 0) + 1
    names = sorted((n for n, c in freq.items() if c >= 2), key=lambda n: (-freq[n], n))[: count * 3]
    chosen = rng.sample(names, min(count, len(names)))
    return {n: f"{rng.choice(WORDS)}_{n[::-1].lower()}" for n in chosen}


def _apply_renames(text: str, mapping: dict[str, str]) -> str:
    if not mapping:
        return text
    return IDENT.sub(lambda m: mapping.get(m.group(0), m.group(0)), text)


def type2(text: str, language: str, rng: random.Random, *, donor: str = "") -> str:
    """Identifiers renamed consistently, literals changed: the abstract token stream is unchanged."""
    text = _apply_renames(text, _rename_map(text, rng, rng.randint(5, 12)))
    text = NUMBER.sub(
        lambda m: str(int(m.group(0)) + rng.randint(1, 9)) if rng.random() < 0.5 else m.group(0), text
    )
    return STRING.sub(
        lambda m: (
            f"{m.group(1)}{rng.choice(WORDS)} {m.group(2)}{m.group(1)}" if rng.random() < 0.5 else m.group(0)
        ),
        text,
    )


def type3(text: str, language: str, rng: random.Random, *, donor: str = "") -> str:
    """10-20 % of the lines deleted, inserted or moved, in blocks of 1-3 lines."""
    lines = text.splitlines()
    donor_lines = [line for line in donor.splitlines() if line.strip()] or ["pass"]
    budget = max(1, round(len(lines) * rng.uniform(0.10, 0.20)))
    while budget > 0 and len(lines) > 4:
        size = min(budget, rng.randint(1, 3))
        op = rng.choice(("delete", "insert", "move"))
        at = rng.randrange(len(lines) - size)
        if op == "delete":
            del lines[at : at + size]
        elif op == "insert":
            start = rng.randrange(len(donor_lines))
            lines[at:at] = donor_lines[start : start + size]
        else:
            block = lines[at : at + size]
            del lines[at : at + size]
            to = rng.randrange(len(lines) + 1)
            lines[to:to] = block
        budget -= size
    return "\n".join(lines) + "\n"


def snippet(f: SourceFile, src: int, host: SourceFile, rng: random.Random, n: int) -> Sample | None:
    """5-60 lines of ``f`` (starting and ending on a non-blank line), lightly edited, in a host."""
    lines = f.text.splitlines()
    is_code = code_lines(f.text, f.language)
    length = min(rng.randint(5, 60), len(lines))
    # Cut from code: the first and last lines carry tokens and at least 70 % of the non-blank
    # lines are code, so a block of licence text or a docstring is not called a snippet.
    for _attempt in range(50):
        start = rng.randrange(len(lines) - length + 1)
        block = lines[start : start + length]
        flags = is_code[start : start + length]
        nonblank = sum(1 for line in block if line.strip())
        if flags[0] and flags[-1] and sum(flags) >= 0.7 * nonblank:
            break
    else:
        return None
    edit = rng.choice(("rename", "literal", "indent"))
    body = "\n".join(block)
    if edit == "rename":
        body = _apply_renames(body, _rename_map(body, rng, 1))
    elif edit == "literal":
        numbers = list(NUMBER.finditer(body))
        if numbers:
            m = rng.choice(numbers)
            body = body[: m.start()] + str(int(m.group(0)) + 1) + body[m.end() :]
        else:
            body = _apply_renames(body, _rename_map(body, rng, 1))
    else:
        body = "\n".join(("    " + line) if line.strip() else line for line in block)
    block = body.split("\n")
    assert len(block) == length
    host_lines = host.text.splitlines()
    before = rng.randint(0, min(40, len(host_lines)))
    after = rng.randint(0, min(40, len(host_lines) - before))
    cut = rng.randrange(len(host_lines) - before - after + 1)
    head = host_lines[cut : cut + before]
    tail = host_lines[cut + before : cut + before + after]
    text = "\n".join(head + block + tail) + "\n"
    return Sample(
        f"snippet/{n}",
        "snippet",
        text,
        f.path,
        source=src,
        sample_range=(len(head) + 1, len(head) + length),
        doc_range=(start + 1, start + length),
    )
