"""Reads: the current and effective preferences, and the history.

`effective_preferences(work)` is the function other parts of the registry (the lookup page, the
dataset-builder filter API) use to decide what a work's owner allows. Its rule, for each key of
`registry.preferences.vocabulary`:

1. Collect the applicable statements: the newest statement about this work for the key, the
   newest default statement of the owner for the key, and -- for a child category such as
   ``train-genai`` -- the *effective* decision of its parent category (so a "no" on
   ``train-ai`` reaches ``train-genai``).
2. The most restrictive value wins (``no`` > ``yes`` > ``unset``; for ``attribution``
   "required" > "not required" > unset). On a tie the more specific source is named as the
   reason: the work's own statement, then the owner's default, then the parent category.

Only statements whose `effective_at` is not in the future count, so a statement recorded with
a later effective time takes effect on its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from registry.preferences import vocabulary
from registry.preferences.models import PreferenceStatement

WORK = "work"
DEFAULT = "default"
PARENT = "parent"
NONE = "none"


@dataclass(frozen=True)
class Decision:
    """The effective answer for one vocabulary key of one work.

    Attributes:
        key: the vocabulary key (``train-ai``, ...).
        value: ``yes``, ``no`` or ``unset``.
        source: which statement decided it: ``work`` (a statement on this work), ``default``
            (the owner's default), ``parent`` (inherited from the parent category) or ``none``.
        statement: the deciding statement (for ``parent``, the statement that decided the parent).
        via: for ``parent``, the key of the parent category it came through.
        reason: one human sentence naming the deciding statement.
    """

    key: str
    value: str
    source: str
    statement: PreferenceStatement | None
    via: str | None
    reason: str

    @property
    def allowed(self) -> bool | None:
        """True for yes, False for no, None when unset (for a usage category)."""
        return {vocabulary.YES: True, vocabulary.NO: False}.get(self.value)


def _latest_per_key(statements: Iterable[PreferenceStatement]) -> dict[str, PreferenceStatement]:
    """Given statements ordered oldest first, the newest one per key."""
    latest: dict[str, PreferenceStatement] = {}
    for statement in statements:
        latest[statement.key] = statement
    return latest


def _in_effect(now=None) -> Q:
    return Q(effective_at__lte=now or timezone.now())


def current_statements(*, owner, work=None) -> dict[str, PreferenceStatement]:
    """The statement in effect per key for `work`, or for the owner's defaults if `work` is None."""
    qs = PreferenceStatement.objects.filter(_in_effect(), owner=owner)
    qs = qs.filter(work=work) if work is not None else qs.filter(work__isnull=True)
    return _latest_per_key(qs.order_by("effective_at", "id"))


def current_values(*, owner, work=None) -> dict[str, str]:
    """Like `current_statements`, as plain values with ``unset`` for keys never stated."""
    statements = current_statements(owner=owner, work=work)
    return {key: statements[key].value if key in statements else vocabulary.UNSET for key in vocabulary.KEYS}


def _when(statement: PreferenceStatement) -> str:
    return timezone.localtime(statement.effective_at).strftime("%Y-%m-%d %H:%M %Z")


def _decide(
    work_statements: dict[str, PreferenceStatement], default_statements: dict[str, PreferenceStatement]
) -> dict[str, Decision]:
    decisions: dict[str, Decision] = {}
    for term in vocabulary.TERMS:  # parents come before children (checked in vocabulary)
        candidates: list[Decision] = []
        own = work_statements.get(term.key)
        if own is not None:
            candidates.append(
                Decision(
                    term.key,
                    own.value,
                    WORK,
                    own,
                    None,
                    f"Stated '{own.value}' for this work on {_when(own)}.",
                )
            )
        default = default_statements.get(term.key)
        if default is not None:
            candidates.append(
                Decision(
                    term.key,
                    default.value,
                    DEFAULT,
                    default,
                    None,
                    f"The owner's default '{default.value}', stated on {_when(default)}.",
                )
            )
        if term.parent is not None:
            parent = decisions[term.parent]
            if parent.value != vocabulary.UNSET:
                parent_title = vocabulary.term(term.parent).title
                candidates.append(
                    Decision(
                        term.key,
                        parent.value,
                        PARENT,
                        parent.statement,
                        term.parent,
                        f"Inherited from '{parent_title}' ({parent.value}): {parent.reason}",
                    )
                )
        # min() keeps the first of equally restrictive candidates: the most specific source.
        best = min(candidates, key=lambda d, t=term: t.rank(d.value), default=None)
        if best is None or best.value == vocabulary.UNSET:
            best = Decision(term.key, vocabulary.UNSET, NONE, None, None, "No preference stated.")
        decisions[term.key] = best
    return decisions


def effective_preferences(work) -> dict[str, Decision]:
    """The effective decision per vocabulary key for `work`, with the reason for each.

    Args:
        work: a `registry.works.models.Work`.

    Returns:
        `{key: Decision}` in vocabulary order, one entry for every key of
        `registry.preferences.vocabulary.TERMS` (``unset`` with source ``none`` when nothing
        applies). Two queries.
    """
    return effective_preferences_for_works([work])[work.pk]


def effective_preferences_for_works(works) -> dict[int, dict[str, Decision]]:
    """`effective_preferences` for many works in two queries: `{work.pk: {key: Decision}}`."""
    works = list(works)
    if not works:
        return {}
    now = timezone.now()
    by_work: dict[int, list[PreferenceStatement]] = {w.pk: [] for w in works}
    for statement in PreferenceStatement.objects.filter(_in_effect(now), work__in=by_work).order_by(
        "effective_at", "id"
    ):
        by_work[statement.work_id].append(statement)
    by_owner: dict[int, list[PreferenceStatement]] = {w.owner_id: [] for w in works}
    for statement in PreferenceStatement.objects.filter(
        _in_effect(now), owner__in=by_owner, work__isnull=True
    ).order_by("effective_at", "id"):
        by_owner[statement.owner_id].append(statement)
    defaults = {owner_id: _latest_per_key(statements) for owner_id, statements in by_owner.items()}
    return {w.pk: _decide(_latest_per_key(by_work[w.pk]), defaults[w.owner_id]) for w in works}


def default_preferences(*, owner) -> dict[str, Decision]:
    """What the owner's defaults alone decide (parents still apply), for the defaults page."""
    return _decide({}, current_statements(owner=owner))


def preference_history(*, owner, work=None) -> QuerySet[PreferenceStatement]:
    """Every statement, newest first, for `work` or for the owner's defaults (work None)."""
    qs = PreferenceStatement.objects.filter(owner=owner)
    qs = qs.filter(work=work) if work is not None else qs.filter(work__isnull=True)
    return qs.order_by("-effective_at", "-id")
