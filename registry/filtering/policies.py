"""What the registry says about works, as `dedup.policy.WorkPolicy` objects (no text).

The one place that turns rows (works, owners, locations, preference statements) into the plain
objects the shared decision rule reads, for the filter and lookup APIs and the snapshots (F4).
A fixed number of queries whatever the number of works: the works with their owners, their
locations, and the two preference queries of `effective_preferences_for_works`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from registry.preferences import vocabulary
from registry.preferences.selectors import effective_preferences_for_works
from registry.works.models import Location, Work

if TYPE_CHECKING:
    from dedup.policy import WorkPolicy

# SQLite allows a limited number of parameters per statement; PostgreSQL does not mind.
IN_CHUNK = 2000


def chunks(values: list, size: int = IN_CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def work_policies(works: Iterable[Work]) -> dict[int, WorkPolicy]:
    """`{work.pk: WorkPolicy}`; the works should come with `select_related("owner")`.

    `values` holds every vocabulary key: the usage categories and ``attribution``.
    """
    # Imported on use: importing `dedup` loads numpy and numba (see registry/engine.py).
    from dedup.policy import WorkPolicy

    works = list(works)
    if not works:
        return {}
    locations: dict[int, list[str]] = {w.pk: [] for w in works}
    ids = list(locations)
    for chunk in chunks(ids):
        for work_id, normalised in (
            Location.objects.filter(work_id__in=chunk).order_by("id").values_list("work_id", "normalised")
        ):
            locations[work_id].append(normalised)
    decisions = effective_preferences_for_works(works)
    policies = {}
    for work in works:
        decided = decisions[work.pk]
        policies[work.pk] = WorkPolicy(
            work_id=work.public_id,
            title=work.title,
            owner_name=work.owner.display_name,
            licence=work.licence,
            attribution=work.attribution,
            values={key: decided[key].value for key in vocabulary.KEYS},
            reasons={key: decided[key].reason for key in vocabulary.KEYS},
            attribution_required=decided[vocabulary.ATTRIBUTION].value == vocabulary.YES,
            locations=tuple(locations[work.pk]),
        )
    return policies


def works_by_id(ids: Iterable[int], *, exclude_owners: Iterable[int] = ()) -> dict[int, Work]:
    """The works with these primary keys (and their owners), leaving out the given owners' works."""
    ids = sorted(set(ids))
    exclude_owners = list(exclude_owners)
    found: dict[int, Work] = {}
    for chunk in chunks(ids):
        qs = Work.objects.select_related("owner").filter(pk__in=chunk)
        if exclude_owners:
            qs = qs.exclude(owner_id__in=exclude_owners)
        found.update((w.pk, w) for w in qs)
    return found
