"""The one preference vocabulary of the registry, kept here and nowhere else.

It follows the IETF AI Preferences vocabulary (draft-ietf-aipref-vocab): a small tree of *usage
categories*, each of which an author can answer with ``yes`` (allowed), ``no`` (not allowed) or
leave ``unset`` (no preference stated). The draft's categories used here:

    train-ai      AI training: using the work to train or fine-tune any AI model
      train-genai   Generative AI training: a subset of train-ai, for models that generate
                    content (text, code, images) -- a "no" on train-ai applies here too
    ai-use        AI use: using the work as input to an AI system at inference time
                    (retrieval-augmented generation, grounding)
    search        Search: using the work to build a search index that points back to it

A statement about a parent category applies to its children: the child's effective decision
takes the parent's decision into account (see `registry.preferences.selectors`).

Beside the usage categories there is one *condition*, ``attribution``: "yes" means users of
the work must show its attribution text. It is not part of the draft, so it lives next to the
categories rather than inside the tree.

Restrictiveness orders the values: ``no`` > ``yes`` > ``unset`` for a usage category, and
``yes`` (attribution required) > ``no`` > ``unset`` for the attribution condition. When several
statements apply, the most restrictive one wins.
"""

from __future__ import annotations

from dataclasses import dataclass

YES = "yes"
NO = "no"
UNSET = "unset"
VALUES = (YES, NO, UNSET)
VALUE_CHOICES = [(YES, "Yes"), (NO, "No"), (UNSET, "Unset")]

VOCABULARY_SOURCE = "draft-ietf-aipref-vocab"


@dataclass(frozen=True)
class Term:
    """One key of the vocabulary.

    Attributes:
        key: the stable token stored in statements and shown in the API (e.g. ``train-genai``).
        title: a short human name.
        description: what a "yes"/"no" means, shown next to the form field.
        parent: the key of the parent category, or None for a top-level one.
        restrictiveness: values ordered from the most to the least restrictive.
    """

    key: str
    title: str
    description: str
    parent: str | None = None
    restrictiveness: tuple[str, ...] = (NO, YES, UNSET)

    def rank(self, value: str) -> int:
        """Lower is more restrictive."""
        return self.restrictiveness.index(value)


ATTRIBUTION = "attribution"

TERMS: tuple[Term, ...] = (
    Term("train-ai", "AI training", "Use of the work to train or fine-tune AI models of any kind."),
    Term(
        "train-genai",
        "Generative AI training",
        "Use of the work to train generative AI models. A 'no' on AI training applies here too.",
        parent="train-ai",
    ),
    Term("ai-use", "AI use", "Use of the work as input to an AI system when it runs (RAG, grounding)."),
    Term("search", "Search", "Use of the work to build a search index that links back to it."),
    Term(
        ATTRIBUTION,
        "Attribution required",
        "Users of the work must show its attribution text.",
        restrictiveness=(YES, NO, UNSET),
    ),
)

BY_KEY: dict[str, Term] = {term.key: term for term in TERMS}
KEYS: tuple[str, ...] = tuple(BY_KEY)
USAGE_CATEGORIES: tuple[str, ...] = tuple(t.key for t in TERMS if t.key != ATTRIBUTION)
KEY_CHOICES = [(t.key, t.title) for t in TERMS]


def term(key: str) -> Term:
    """The term for `key`; raises KeyError with the known keys if it is not in the vocabulary."""
    try:
        return BY_KEY[key]
    except KeyError:
        raise KeyError(f"{key!r} is not in the vocabulary; known keys: {', '.join(KEYS)}") from None


def ancestors(key: str) -> list[str]:
    """The parent chain of `key`, nearest first."""
    chain = []
    parent = term(key).parent
    while parent is not None:
        chain.append(parent)
        parent = term(parent).parent
    return chain


def most_restrictive(key: str, values: list[str]) -> str:
    """The most restrictive of `values` for the term `key` (``unset`` if empty)."""
    t = term(key)
    return min(values, key=t.rank, default=UNSET)


def _check_tree() -> None:
    # Parents must be defined before their children, so one pass in TERMS order can resolve the
    # tree (selectors rely on that).
    seen: set[str] = set()
    for t in TERMS:
        if t.parent is not None and t.parent not in seen:
            raise AssertionError(f"{t.key}: parent {t.parent} must come first in TERMS")
        seen.add(t.key)


_check_tree()
