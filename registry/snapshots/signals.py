"""Signal receivers that append to the change log (`SnapshotChange`).

Signals, against the house habit of explicit service calls, because the log must see *every*
path that changes a work -- the works services, the admin, an account deletion cascading to its
works, statements and documents -- and Django sends ``post_delete`` for each object a cascade
removes (it collects them one by one once a receiver is connected). The receivers only append a
row naming the work; they decide nothing.

What signals cannot see is found by `services.snapshot_sync` instead: the fingerprint task
stores results with a queryset ``update()`` (no signal), and a statement recorded with a future
``effective_at`` only changes anything when that time comes.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.utils import timezone

_UID = "registry.snapshots."


def _record(**fields) -> None:
    from registry.snapshots.models import SnapshotChange

    SnapshotChange.objects.create(**fields)


def work_saved(sender, instance, **kwargs) -> None:
    from registry.snapshots.models import SnapshotChange

    _record(work_pk=instance.pk, work_public_id=instance.public_id, reason=SnapshotChange.Reason.SAVED)


def work_deleted(sender, instance, **kwargs) -> None:
    from registry.snapshots.models import SnapshotChange

    _record(work_pk=instance.pk, work_public_id=instance.public_id, reason=SnapshotChange.Reason.DELETED)


def document_deleted(sender, instance, **kwargs) -> None:
    from registry.snapshots.models import SnapshotChange

    _record(work_pk=instance.work_id, reason=SnapshotChange.Reason.DOCUMENT_DELETED, source_pk=instance.pk)


def statement_saved(sender, instance, created, **kwargs) -> None:
    from registry.snapshots.models import SnapshotChange
    from registry.works.models import Work

    if not created or instance.effective_at > timezone.now():
        return  # a future statement is logged by snapshot_sync once it takes effect
    if instance.work_id is not None:
        work_pks = [instance.work_id]
    else:  # an owner's default applies to all their works
        work_pks = list(Work.objects.filter(owner_id=instance.owner_id).values_list("pk", flat=True))
    SnapshotChange.objects.bulk_create(
        SnapshotChange(
            work_pk=pk,
            reason=SnapshotChange.Reason.PREFERENCES,
            source_pk=instance.pk,
            stamp=instance.effective_at,
        )
        for pk in work_pks
    )


def connect() -> None:
    from registry.preferences.models import PreferenceStatement
    from registry.works.models import Document, Work

    post_save.connect(work_saved, sender=Work, dispatch_uid=_UID + "work_saved")
    post_delete.connect(work_deleted, sender=Work, dispatch_uid=_UID + "work_deleted")
    post_delete.connect(document_deleted, sender=Document, dispatch_uid=_UID + "document_deleted")
    post_save.connect(statement_saved, sender=PreferenceStatement, dispatch_uid=_UID + "statement_saved")
