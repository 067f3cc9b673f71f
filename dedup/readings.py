"""How a document is read before it is matched: the (kind, language) pairs it is fingerprinted with.

The registry (`registry/engine.py`: the filter API, lookups and scans) and the offline filter
(`dedup/snapshot.py`) both call `readings`, so a document gets the same matches either way.

Every reading costs a whole fingerprint, so a document is read once whenever that is enough:

- code is read in its hinted language, else in the language its content shows
  (`guess_language`), else with the generic tokenizer. A snippet cut from the middle of a
  docstring or block comment needs no second tokenizer: the fingerprint's flat reading
  (`dedup.fingerprint.flatten`) covers it.
- prose is read once.
- a document whose kind is not given is read as code when it looks like code (a language hint,
  or code-like content), as prose when it reads like prose, and both ways only when it is unclear.

The guess is a handful of line patterns per language, not a classifier: registered documents
are read in their own language, and a query read in a near relative (C for C++, JavaScript for
TypeScript) still yields nearly the same tokens, because the families share their comment and
string syntax. What matters is the family, and the patterns below tell families apart well.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

KINDS = ("code", "prose")

# How much of a document the guess looks at: enough lines to see its shape, bounded cost.
_SAMPLE_CHARS = 8192

# (language, pattern, weight). Patterns match whole lines (re.M); a language's score is the sum of
# its weights over the matching lines of the sample, and the best score wins.
_PATTERNS: tuple[tuple[str, str, int], ...] = (
    ("python", r"^\s*(?:async\s+)?def\s+\w+\s*\(.*\)\s*(?:->.*)?:\s*$", 3),
    ("python", r"^\s*class\s+\w+(?:\(.*\))?:\s*$", 3),
    ("python", r"^\s*(?:from\s+[\w.]+\s+import\s+|import\s+[\w.]+(?:\s+as\s+\w+)?\s*$)", 2),
    ("python", r"^\s*(?:elif\b.*:|if\s+__name__\s*==|return\s+None\b|self\.\w+\s*=)", 2),
    ("python", r'^\s*(?:"""|\'\'\')', 1),
    ("javascript", r"^\s*(?:export\s+)?(?:const|let|var)\s+\w+\s*=", 2),
    ("javascript", r"^\s*(?:export\s+)?(?:async\s+)?function\s*\*?\s*\w*\s*\(", 3),
    ("javascript", r"=>\s*[{(]?\s*$|\bconsole\.\w+\(|\brequire\(['\"]|^\s*module\.exports\b", 2),
    ("typescript", r"^\s*(?:export\s+)?(?:interface|type)\s+\w+.*[={]\s*$", 3),
    ("typescript", r":\s*(?:string|number|boolean|void|any)\b", 1),
    ("java", r"^\s*(?:public|private|protected)\s+(?:static\s+)?(?:final\s+)?[\w<>\[\]]+\s+\w+\s*\(", 3),
    ("java", r"^\s*(?:public\s+)?(?:final\s+)?class\s+\w+.*\{?\s*$|^\s*import\s+java\.|System\.out\.", 2),
    ("java", r"^\s*package\s+[\w.]+;\s*$|^\s*@\w+(?:\(.*\))?\s*$", 2),
    ("c", r"^\s*#\s*(?:include|define|ifn?def|endif|pragma)\b", 3),
    ("c", r"\b(?:printf|malloc|free|sizeof|memcpy)\s*\(|\bNULL\b|->", 1),
    ("c", r"^\s*(?:static\s+)?(?:const\s+)?(?:void|int|char|long|unsigned|double|float)\s+\**\w+\s*\(", 2),
    ("cpp", r"\bstd::|\btemplate\s*<|\bnullptr\b|^\s*namespace\s+\w+|::\w+\s*\(|\bcout\s*<<", 3),
    ("go", r"^\s*package\s+\w+\s*$|^\s*func\s+(?:\(.*\)\s*)?\w+\s*\(|:=|\bfmt\.\w+\(", 3),
    ("rust", r"^\s*(?:pub\s+)?fn\s+\w+|\blet\s+mut\b|^\s*impl\b|^\s*use\s+\w+::|\w+!\(", 3),
    ("csharp", r"^\s*using\s+System|^\s*namespace\s+[\w.]+\s*\{?\s*$|\bConsole\.Write", 3),
    ("ruby", r"^\s*(?:def\s+\w+[?!]?\s*(?:\(.*\))?\s*$|end\s*$|puts\s|require\s+['\"])", 2),
    ("php", r"<\?php|\$this->|^\s*\$\w+\s*=", 3),
    ("shell", r"^#!\s*/(?:usr/)?bin/(?:env\s+)?(?:ba|z)?sh\b|^\s*(?:fi|done|esac|then)\s*$", 3),
    ("sql", r"^\s*(?:SELECT|INSERT\s+INTO|CREATE\s+(?:TABLE|INDEX|VIEW)|UPDATE\s+\w+\s+SET)\b", 3),
)
_COMPILED = tuple((lang, re.compile(pattern, re.M), weight) for lang, pattern, weight in _PATTERNS)
# A guess needs this much evidence: one stray "->" in a paragraph is not C.
_MIN_SCORE = 4

# Characters far more common in code than in prose.
_CODE_CHARS = frozenset("{}()[];=<>_#$*/\\|&")


def guess_language(text: str) -> str | None:
    """The programming language `text` looks like, or None when nothing stands out."""
    sample = text[:_SAMPLE_CHARS]
    scores: dict[str, int] = {}
    for lang, pattern, weight in _COMPILED:
        n = len(pattern.findall(sample))
        if n:
            scores[lang] = scores.get(lang, 0) + n * weight
    if not scores:
        return None
    # C++ code is also C-like: C++ markers on top of C markers make it C++.
    if "cpp" in scores and "c" in scores:
        scores["cpp"] += scores["c"]
    # TypeScript is JavaScript with types: its markers add to the JavaScript ones.
    if "typescript" in scores and "javascript" in scores:
        scores["typescript"] += scores["javascript"]
    lang, score = max(scores.items(), key=lambda kv: (kv[1], kv[0]))
    return lang if score >= _MIN_SCORE else None


def guess_kind(text: str) -> str | None:
    """ "code" or "prose" when the text clearly is one, else None (read it both ways)."""
    if guess_language(text):
        return "code"
    sample = text[:_SAMPLE_CHARS]
    visible = sum(1 for c in sample if not c.isspace())
    if visible == 0:
        return None
    density = sum(1 for c in sample if c in _CODE_CHARS) / visible
    if density < 0.01:
        return "prose"
    if density > 0.06:
        return "code"
    return None


def readings(
    text: str,
    language: str | None,
    *,
    kinds_present: Iterable[str],
    kinds: Sequence[str] = KINDS,
) -> list[tuple[str, str | None]]:
    """The (kind, language) pairs to fingerprint `text` with.

    Args:
        text: the document.
        language: the caller's language hint (its own field, or a file name's), or None.
        kinds_present: the kinds that have registered documents; a kind with none is not read.
        kinds: the kinds the caller allows (one when the document says what it is).
    """
    present = set(kinds_present)
    wanted = tuple(kinds)
    if len(wanted) > 1:
        guessed = "code" if language else guess_kind(text)
        if guessed in wanted:
            wanted = (guessed,)
    out: list[tuple[str, str | None]] = []
    for kind in wanted:
        if kind not in present:
            continue
        if kind == "prose":
            out.append((kind, None))
        else:
            out.append((kind, language or guess_language(text)))
    return out
