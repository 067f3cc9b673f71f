"""The decision rule: given the registered works a document copies (or whose location it comes
from), may it be used for a purpose?

Shared by the registry's filter API and the offline filter (a snapshot on the builder's own
machine), so both decide the same way from the same data. Pure Python: what the registry knows
about a work arrives as a `WorkPolicy` (already resolved by the registry's preference rules:
hierarchy, author defaults, most restrictive statement), never as Django objects, never with text.

The rule, per purpose (a usage category such as ``train-genai``):

1. For each matched work: ``exclude`` if its effective value for the purpose is ``no``; else
   ``attribute`` if it requires attribution; else ``allow``. ``unset`` is not a "no": the
   registry reports what authors said, it does not invent refusals.
2. The most restrictive decision across the matched works wins
   (``exclude`` > ``attribute`` > ``allow``); no matched work means ``allow``.
3. Every matched work is reported as a `Reason` -- the work, how it matched (`Evidence`) and the
   sentence that explains the deciding statement -- the most restrictive first, so a builder
   can show why and credit whom.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "ALLOW",
    "ATTRIBUTE",
    "DECISIONS",
    "EXCLUDE",
    "PURPOSES",
    "Evidence",
    "Reason",
    "Verdict",
    "WorkPolicy",
    "check_purpose",
    "decide",
]

ALLOW, ATTRIBUTE, EXCLUDE = "allow", "attribute", "exclude"
DECISIONS = (ALLOW, ATTRIBUTE, EXCLUDE)  # least to most restrictive

# The usage categories of the registry's vocabulary (registry/preferences/vocabulary.py, which
# this module may not import; a registry test checks they agree). A snapshot carries its own
# list, passed to `decide(purposes=...)`, so an older offline copy keeps working.
PURPOSES = ("train-ai", "train-genai", "ai-use", "search")
ATTRIBUTION_KEY = "attribution"

YES, NO, UNSET = "yes", "no", "unset"
_VALUES = (YES, NO, UNSET)

# How a work matched, strongest first: whole-document matches, then snippets, then location rules.
MATCH_KINDS = ("exact", "near-duplicate", "snippet", "location")
_SCOPE = {"exact": "document", "near-duplicate": "document", "snippet": "snippet", "location": "location"}


def check_purpose(purpose: str, purposes: Sequence[str] = PURPOSES) -> str:
    """`purpose` if it is one of `purposes`; ValueError listing the known ones otherwise."""
    if not isinstance(purpose, str) or purpose not in purposes:
        raise ValueError(f"Unknown purpose {purpose!r}; the purposes are: {', '.join(purposes)}.")
    return purpose


@dataclass(frozen=True)
class WorkPolicy:
    """What the registry says about one work: no text, serialisable to and from JSON.

    Attributes:
        work_id: the work's public id.
        title, owner_name, licence, attribution: as the author registered them.
        values: the effective value per usage category (``yes`` / ``no`` / ``unset``).
        reasons: the sentence that explains each value (same keys as `values`, plus
            ``attribution`` when it is stated).
        attribution_required: the author asks users to show `attribution`.
        locations: the work's canonical locations, normalised by `dedup.locations`.
    """

    work_id: str
    title: str = ""
    owner_name: str = ""
    licence: str = ""
    attribution: str = ""
    values: Mapping[str, str] = field(default_factory=dict)
    reasons: Mapping[str, str] = field(default_factory=dict)
    attribution_required: bool = False
    locations: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.work_id or not isinstance(self.work_id, str):
            raise ValueError("WorkPolicy.work_id must be a non-empty string (the work's public id).")
        for key, value in self.values.items():
            if value not in _VALUES:
                raise ValueError(
                    f"WorkPolicy.values[{key!r}] must be one of {', '.join(_VALUES)}, not {value!r}."
                )
        object.__setattr__(self, "values", dict(self.values))
        object.__setattr__(self, "reasons", dict(self.reasons))
        object.__setattr__(self, "locations", tuple(self.locations))

    def value_for(self, purpose: str) -> str:
        return self.values.get(purpose, UNSET)

    def decision_for(self, purpose: str) -> str:
        """Step 1 of the rule (the purpose is assumed known; see `decide`)."""
        if self.value_for(purpose) == NO:
            return EXCLUDE
        if self.attribution_required:
            return ATTRIBUTE
        return ALLOW

    def to_dict(self) -> dict:
        return {
            "work_id": self.work_id,
            "title": self.title,
            "owner_name": self.owner_name,
            "licence": self.licence,
            "attribution": self.attribution,
            "values": dict(self.values),
            "reasons": dict(self.reasons),
            "attribution_required": self.attribution_required,
            "locations": list(self.locations),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> WorkPolicy:
        """The inverse of `to_dict`; unknown keys are ignored (a newer snapshot may add some)."""
        try:
            return cls(
                work_id=d["work_id"],
                title=d.get("title", ""),
                owner_name=d.get("owner_name", ""),
                licence=d.get("licence", ""),
                attribution=d.get("attribution", ""),
                values=d.get("values", {}),
                reasons=d.get("reasons", {}),
                attribution_required=bool(d.get("attribution_required", False)),
                locations=tuple(d.get("locations", ())),
            )
        except KeyError:
            raise ValueError("A work policy needs a 'work_id'.") from None


@dataclass(frozen=True)
class Evidence:
    """How a document met a work: a content match or a location rule. Never any text.

    Attributes:
        kind: ``exact``, ``near-duplicate``, ``snippet`` or ``location``.
        estimated: the MinHash / containment estimate (None for a location).
        verified: the exact Jaccard / containment (None for a location).
        sample_lines: 1-based inclusive line ranges in the *caller's* document.
        matched_chars: non-whitespace characters of the caller's document covered.
        location: for ``location``, the registered (normalised) location that applied.
    """

    kind: str
    estimated: float | None = None
    verified: float | None = None
    sample_lines: tuple[tuple[int, int], ...] = ()
    matched_chars: int = 0
    location: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in MATCH_KINDS:
            raise ValueError(f"Evidence.kind must be one of {', '.join(MATCH_KINDS)}, not {self.kind!r}.")
        object.__setattr__(self, "sample_lines", tuple((int(a), int(b)) for a, b in self.sample_lines))

    @property
    def scope(self) -> str:
        """``document`` (the whole document matches), ``snippet`` or ``location``."""
        return _SCOPE[self.kind]

    @classmethod
    def from_match(cls, match) -> Evidence:
        """From a `dedup.matcher.Match` (duck-typed, so this module imports nothing heavy)."""
        return cls(
            kind=match.kind,
            estimated=float(match.estimated),
            verified=float(match.verified),
            sample_lines=tuple(match.sample_lines),
            matched_chars=int(match.matched_chars),
        )

    @classmethod
    def at_location(cls, location: str) -> Evidence:
        return cls(kind="location", location=location)

    def _strength(self) -> tuple:
        return (MATCH_KINDS.index(self.kind), -(self.verified or 0.0), -self.matched_chars)

    def to_dict(self) -> dict:
        return {
            "type": self.kind,
            "scope": self.scope,
            "estimated": None if self.estimated is None else round(self.estimated, 4),
            "verified": None if self.verified is None else round(self.verified, 4),
            "lines": [list(r) for r in self.sample_lines],
            "matched_chars": self.matched_chars,
            "location": self.location,
        }


@dataclass(frozen=True)
class Reason:
    """One matched work in a verdict: what it decides for the purpose, and why."""

    work: WorkPolicy
    decision: str
    key: str  # the statement's key that decided: the purpose, or "attribution"
    value: str
    statement: str  # the sentence explaining the deciding statement
    evidence: tuple[Evidence, ...]

    def to_dict(self) -> dict:
        w = self.work
        return {
            "work": {
                "id": w.work_id,
                "title": w.title,
                "owner": w.owner_name,
                "licence": w.licence,
                "attribution": w.attribution,
            },
            "decision": self.decision,
            "preference": {"key": self.key, "value": self.value, "statement": self.statement},
            "attribution_required": w.attribution_required,
            "matches": [e.to_dict() for e in self.evidence],
        }


@dataclass(frozen=True)
class Verdict:
    decision: str
    reasons: tuple[Reason, ...] = ()

    def to_dict(self) -> dict:
        return {"decision": self.decision, "reasons": [r.to_dict() for r in self.reasons]}


def _evidence_order(e: Evidence) -> tuple:
    return (*e._strength(), e.sample_lines, e.location or "", -(e.estimated or 0.0))


def _reason(policy: WorkPolicy, purpose: str, evidence: Sequence[Evidence]) -> Reason:
    decision = policy.decision_for(purpose)
    if decision == ATTRIBUTE:
        key, value = ATTRIBUTION_KEY, YES
        statement = policy.reasons.get(ATTRIBUTION_KEY) or "The author requires attribution."
    else:
        key, value = purpose, policy.value_for(purpose)
        statement = policy.reasons.get(purpose) or "No preference stated."
    # strongest first; equally strong evidence in one fixed order (lines, then location, then the
    # higher estimate), so the HTTP answer and the offline one list it alike whatever order the
    # matches came in. The key holds every field, so the set's order (which follows hash(None),
    # an address before Python 3.12) never shows. A work met once (most of them) has nothing to order.
    if len(evidence) == 1:
        ordered = (evidence[0],)
    else:
        ordered = tuple(sorted(set(evidence), key=_evidence_order))
    return Reason(policy, decision, key, value, statement, ordered)


def decide(
    purpose: str, hits: Iterable[tuple[WorkPolicy, Evidence]], *, purposes: Sequence[str] = PURPOSES
) -> Verdict:
    """The verdict for one document (see the module docstring for the rule).

    Args:
        purpose: the use the caller intends, one of `purposes`.
        hits: (work, evidence) pairs; a work may appear several times (a snippet of one of its
            files and its repository URL), its evidence is merged into one `Reason`.
        purposes: the known purposes (a snapshot passes the list it was built with).

    Raises:
        ValueError: an unknown purpose.
    """
    check_purpose(purpose, purposes)
    policies: dict[str, WorkPolicy] = {}
    evidence: dict[str, list[Evidence]] = {}
    for policy, ev in hits:
        policies.setdefault(policy.work_id, policy)
        evidence.setdefault(policy.work_id, []).append(ev)
    reasons = [_reason(policies[work_id], purpose, evs) for work_id, evs in evidence.items()]
    reasons.sort(key=lambda r: (-DECISIONS.index(r.decision), r.evidence[0]._strength(), r.work.work_id))
    decision = reasons[0].decision if reasons else ALLOW
    return Verdict(decision, tuple(reasons))
