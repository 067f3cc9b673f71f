"""Reads behind the filter and lookup APIs: decide for a batch of documents or locations.

Batch-shaped on purpose: a call with 100 documents costs one matcher version check, one
`Matcher.query_batch` per kind, one check of the policy cache (registry/filtering/policy_cache.py)
and a fixed number of queries for the matched works it does not hold (works and owners,
locations, preference statements) and for the location rules (one `IN` over the normalised
forms of every URL in the batch and their parents), never a query per document.

"The caller" is who the API key acts for: the key's owner for a personal key, every member of
the organisation for an organisation's key (a logged-in person for the browsable API). Their own
registered works never count against them -- a builder filtering a corpus that holds their own
code is not told to exclude it -- so those works are left out of matches and location rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from registry import engine
from registry.filtering.policies import chunks
from registry.filtering.policy_cache import cached_policies
from registry.works.models import Location

if TYPE_CHECKING:
    from dedup.policy import Evidence, Verdict, WorkPolicy

# A document may copy many files of one registered repository; a few are enough to explain why.
MAX_EVIDENCE_PER_WORK = 5


@dataclass(frozen=True)
class FilterDocument:
    """One document of a filter call, as validated by the API."""

    text: str
    id: str | None = None
    url: str | None = None
    repository: str | None = None
    language: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class LookupMatch:
    """A work registered at a location that applies to a lookup item."""

    policy: WorkPolicy
    location: str  # the registered (normalised) location: the item, a parent path or the domain
    decision: str | None  # for the call's purpose; None without one


@dataclass(frozen=True)
class LookupResult:
    item: str
    normalised: str | None
    error: str | None
    decision: str | None
    works: tuple[LookupMatch, ...]


def caller_user_ids(*, api_key=None, user=None) -> set[int]:
    """The people whose works count as the caller's own (see the module docstring)."""
    from registry.apikeys.models import Membership

    if api_key is not None:
        if api_key.owner_id is not None:
            return {api_key.owner_id}
        return set(
            Membership.objects.filter(organisation_id=api_key.organisation_id).values_list(
                "user_id", flat=True
            )
        )
    if user is not None and getattr(user, "pk", None) is not None:
        return {user.pk}
    return set()


def _language_hint(doc: FilterDocument) -> str | None:
    """The document's language, or one guessed from the file name in its url or id."""
    if doc.language:
        return doc.language
    if doc.kind == "prose":
        return None
    for name in (doc.url, doc.id):
        if name:
            try:
                path = urlsplit(name).path
            except ValueError:
                continue
            language = engine.language_for_path(path) if path else None
            if language:
                return language
    return None


def _keys(raw: str | None) -> list[str]:
    from dedup import locations

    if not raw:
        return []
    try:
        return locations.lookup_keys(raw)
    except locations.InvalidLocation:
        return []  # a malformed URL in a corpus matches no location rule; it is no reason to fail


def _works_at(keys: Iterable[str]) -> dict[str, list[int]]:
    """`{normalised: [work pk, ...]}` for the registered locations among `keys`."""
    by_key: dict[str, list[int]] = defaultdict(list)
    for chunk in chunks(sorted(set(keys))):
        for normalised, work_id in Location.objects.filter(normalised__in=chunk).values_list(
            "normalised", "work_id"
        ):
            by_key[normalised].append(work_id)
    return by_key


def filter_documents(
    *, documents: Sequence[FilterDocument], purpose: str, caller_ids: Iterable[int] = ()
) -> list[Verdict]:
    """A verdict per document, in order (see `dedup.policy.decide` for the rule).

    Raises:
        ValueError: an unknown purpose.
    """
    # Imported on use: importing `dedup` loads numpy and numba (see registry/engine.py).
    from dedup.policy import PURPOSES, Evidence, check_purpose, decide

    check_purpose(purpose, PURPOSES)
    queries = [
        engine.Query(doc.text, (doc.kind,) if doc.kind else engine.KINDS, _language_hint(doc))
        for doc in documents
    ]
    content = engine.find_matches_batch(queries) if queries else []
    doc_keys = [_keys(doc.url) + _keys(doc.repository) for doc in documents]
    at = _works_at(key for keys in doc_keys for key in keys)

    wanted = {hit.work_id for hits in content for hit in hits}
    wanted.update(work_id for ids in at.values() for work_id in ids)
    policies = cached_policies(wanted, exclude_owners=caller_ids)

    verdicts = []
    for hits, keys in zip(content, doc_keys, strict=True):
        pairs: list[tuple[WorkPolicy, Evidence]] = []
        per_work: dict[int, int] = defaultdict(int)
        for hit in hits:  # best first
            policy = policies.get(hit.work_id)
            if policy is None or per_work[hit.work_id] >= MAX_EVIDENCE_PER_WORK:
                continue
            per_work[hit.work_id] += 1
            pairs.append((policy, Evidence.from_match(hit.match)))
        for key in dict.fromkeys(keys):
            for work_id in at.get(key, ()):
                if work_id in policies:
                    pairs.append((policies[work_id], Evidence.at_location(key)))
        verdicts.append(decide(purpose, pairs))
    return verdicts


def lookup_locations(
    *, items: Sequence[str], purpose: str | None = None, caller_ids: Iterable[int] = ()
) -> list[LookupResult]:
    """What applies at each URL, repository or domain, in order.

    Raises:
        ValueError: an unknown purpose.
    """
    from dedup import locations
    from dedup.policy import PURPOSES, Evidence, check_purpose, decide

    if purpose is not None:
        check_purpose(purpose, PURPOSES)
    parsed: list[tuple[str | None, list[str], str | None]] = []
    for item in items:
        try:
            _, normalised = locations.normalise_location(item)
        except locations.InvalidLocation as exc:
            parsed.append((None, [], str(exc)))
            continue
        parsed.append((normalised, locations.parent_keys(normalised), None))
    at = _works_at(key for _, keys, _ in parsed for key in keys)
    wanted = {work_id for ids in at.values() for work_id in ids}
    policies = cached_policies(wanted, exclude_owners=caller_ids)

    results = []
    for item, (normalised, keys, error) in zip(items, parsed, strict=True):
        matched: dict[int, str] = {}
        for key in keys:  # the most specific location first
            for work_id in at.get(key, ()):
                if work_id in policies:
                    matched.setdefault(work_id, key)
        decision = None
        if purpose is not None:
            decision = decide(
                purpose, [(policies[work_id], Evidence.at_location(key)) for work_id, key in matched.items()]
            ).decision
        works = tuple(
            LookupMatch(
                policies[work_id],
                key,
                policies[work_id].decision_for(purpose) if purpose is not None else None,
            )
            for work_id, key in matched.items()
        )
        results.append(LookupResult(item, normalised, error, decision, works))
    return results
