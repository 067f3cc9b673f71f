"""Reads for snapshots: the registry version, which works a snapshot holds, their policies.

A snapshot holds the works that *restrict* some purpose: a ``no`` on any usage category, or
attribution required. A work that allows everything (or says nothing) cannot change a verdict
(`dedup.policy.decide` allows what matches no restricting work), so leaving it out keeps the
snapshot small and tells a dataset builder nothing they need not know.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Max

from registry.preferences import vocabulary
from registry.snapshots.models import SnapshotChange
from registry.works.models import Document, Work


def snapshot_version() -> int:
    """The newest change's id (0 for an empty log). Call `services.snapshot_sync` first."""
    return SnapshotChange.objects.aggregate(v=Max("id"))["v"] or 0


def caller_owner_ids(api_key) -> set[int]:
    """The accounts whose works are the caller's own (the filter API's rule, reused).

    A dataset builder is never told to exclude their own works, over HTTP or offline.
    """
    from registry.filtering.selectors import caller_user_ids

    return caller_user_ids(api_key=api_key)


def restricts(policy) -> bool:
    """A "no" on some usage category, or attribution required."""
    return policy.attribution_required or any(
        policy.value_for(key) == vocabulary.NO for key in vocabulary.USAGE_CATEGORIES
    )


def restricting_policies(works: Iterable[Work]) -> dict[int, object]:
    """``{work.pk: WorkPolicy}`` for those of `works` that restrict some purpose.

    The policies come from `registry.filtering.policies.work_policies`, the function behind the
    filter API, so a snapshot says exactly what the API would say about each work.
    """
    from registry.filtering.policies import work_policies

    return {pk: policy for pk, policy in work_policies(works).items() if restricts(policy)}


def ready_documents(work_pks: Iterable[int]):
    """``(doc pk, work pk, kind, language, fingerprint bytes)`` of the works' ready documents."""
    return (
        Document.objects.filter(work_id__in=list(work_pks), state=Document.State.READY)
        .order_by("pk")
        .values_list("pk", "work_id", "work__kind", "language", "fingerprint")
        .iterator(chunk_size=2000)
    )


def code_languages() -> list[str]:
    """Languages of every ready code document (the service's lookup reads unhinted code in each)."""
    langs = (
        Document.objects.filter(state=Document.State.READY, work__kind=Work.Kind.CODE)
        .values_list("language", flat=True)
        .distinct()
    )
    return sorted({lang or "" for lang in langs})
