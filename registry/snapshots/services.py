"""Writes for snapshots: keep the change log complete, build a snapshot directory, cache it.

`snapshot_build(out=..., since=None | V, exclude_owner_ids=...)` writes a snapshot (format:
`dedup.snapshot_format`):

* full: every restricting work (`selectors.restricting_policies`) with its ready documents'
  fingerprints in two `dedup.Matcher`s (one per kind, as `registry.engine` keeps them);
* delta since V: the works named in the change log after V (`changed_work_pks`), each either
  upserted (its policy and all its documents' fingerprints) or removed (deleted, revoked, or
  now the caller's own).

`snapshot_cached_full(...)` keeps full snapshots under ``VAR_DIR/snapshots/<version>[-o<hash>]/``
so repeated downloads of an unchanged registry do not rebuild: a build goes to a temporary
directory first and is renamed into place, so a reader never sees half a snapshot and two
concurrent builds of the same version simply keep the first one finished.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from registry import engine
from registry.preferences import vocabulary
from registry.preferences.models import PreferenceStatement
from registry.snapshots import selectors
from registry.snapshots.models import SnapshotChange
from registry.works.models import Document, Work

logger = logging.getLogger(__name__)

KEEP_CACHED_VERSIONS = 3


def change_window() -> timedelta:
    """How far before a version a delta looks back, and how far the sync re-scans.

    Change ids are handed out when a row is inserted, not when its transaction commits: a long
    transaction can commit change 10 after change 11 was served as a version. Reaching back by a
    window larger than any transaction re-sends such late rows (an upsert twice is harmless).
    """
    return timedelta(seconds=settings.REGISTRY.get("SNAPSHOT_CHANGE_WINDOW_SECONDS", 300))


# --- the change log -----------------------------------------------------------------------------


@transaction.atomic
def snapshot_sync(*, now=None) -> int:
    """Log the events signals cannot see, then return the current version.

    Two kinds: documents that became ready (the fingerprint task stores them with a queryset
    update) and statements whose future ``effective_at`` has passed. Each is looked for from the
    newest one logged, minus the window, and logged once: (source pk, stamp) already in the log
    is skipped, so running this twice logs nothing new.
    """
    now = now or timezone.now()
    window = change_window()
    Reason = SnapshotChange.Reason

    def watermark(reason):
        return SnapshotChange.objects.filter(reason=reason).aggregate(m=Max("stamp"))["m"]

    def new_rows(reason, candidates):
        logged = SnapshotChange.objects.filter(reason=reason, source_pk__in=[c[0] for c in candidates])
        known = set(logged.values_list("source_pk", "stamp"))
        return [c for c in candidates if (c[0], c[2]) not in known]

    baseline = SnapshotChange.objects.filter(reason=Reason.BASELINE).first()
    ready = Document.objects.filter(state=Document.State.READY, fingerprinted_at__isnull=False)
    if baseline is None:
        # The log starts here: every snapshot from now on is read from the current state, so
        # what happened before needs no rows (a registry of millions of documents would
        # otherwise write millions of rows at once). The stamp marks where the scans start.
        newest = ready.aggregate(m=Max("fingerprinted_at"))["m"]
        SnapshotChange.objects.create(reason=Reason.BASELINE, stamp=newest or now, created_at=now)
        return selectors.snapshot_version()
    rows = []
    # Documents that became ready: from the newest one logged (or the baseline), minus the window.
    # (After the baseline only, strictly: what it covered is in every snapshot since.)
    mark = watermark(Reason.FINGERPRINTED)
    if mark is not None:
        recent = ready.filter(fingerprinted_at__gte=mark - window)
    else:
        recent = ready.filter(fingerprinted_at__gt=baseline.stamp - window)
    candidates = list(recent.values_list("pk", "work_id", "fingerprinted_at"))
    rows += [
        SnapshotChange(work_pk=w, reason=Reason.FINGERPRINTED, source_pk=pk, stamp=at)
        for pk, w, at in new_rows(Reason.FINGERPRINTED, candidates)
    ]
    # Statements that took effect after being recorded (signals log the others when created).
    mark = watermark(Reason.PREFERENCES)
    statements = PreferenceStatement.objects.filter(effective_at__lte=now)
    if mark is not None:
        statements = statements.filter(effective_at__gte=mark - window)
    else:
        statements = statements.filter(effective_at__gt=baseline.created_at - window)
    candidates = list(statements.values_list("pk", "work_id", "effective_at", "owner_id"))
    for pk, work_pk, at, owner_id in new_rows(Reason.PREFERENCES, candidates):
        pks = [work_pk] if work_pk else Work.objects.filter(owner_id=owner_id).values_list("pk", flat=True)
        rows += [SnapshotChange(work_pk=p, reason=Reason.PREFERENCES, source_pk=pk, stamp=at) for p in pks]
    SnapshotChange.objects.bulk_create(rows)
    return selectors.snapshot_version()


def changed_work_pks(since: int) -> tuple[set[int], dict[int, str]]:
    """(work pks, {work pk: public id} of deleted works) named in the log after `since`."""
    anchor = SnapshotChange.objects.filter(id__lte=since).order_by("-id").values_list("created_at", flat=True)
    start = anchor.first()
    rows = SnapshotChange.objects.filter(id__gt=since)
    if start is not None:
        rows = SnapshotChange.objects.filter(created_at__gte=start - change_window()) | rows
    pks: set[int] = set()
    deleted: dict[int, str] = {}
    for work_pk, public_id, reason in rows.values_list("work_pk", "work_public_id", "reason"):
        if work_pk is None:
            continue
        pks.add(work_pk)
        if reason == SnapshotChange.Reason.DELETED:
            deleted[work_pk] = public_id
    return pks, deleted


# --- building -------------------------------------------------------------------------------------


def _manifest_base(*, version: int, since: int | None) -> dict:
    from dedup.tokenize import NORMALISER_VERSION

    return {
        "version": version,
        "since": since,
        "created_at": timezone.now().isoformat(),
        "engine": {"config": engine.engine_config().as_dict(), "normaliser_version": NORMALISER_VERSION},
        "purposes": list(vocabulary.USAGE_CATEGORIES),
        "code_languages": selectors.code_languages(),
    }


def _works_in_scope(pks: Iterable[int] | None, exclude_owner_ids: Iterable[int]):
    qs = Work.objects.select_related("owner").exclude(owner_id__in=list(exclude_owner_ids))
    return qs if pks is None else qs.filter(pk__in=list(pks))


def snapshot_build(*, out: Path, since: int | None = None, exclude_owner_ids: Iterable[int] = ()) -> dict:
    """Write a full snapshot (``since`` None) or a delta into the new directory ``out``.

    Returns the manifest. ``out`` is written in place; callers that publish it build into a
    temporary directory (`snapshot_cached_full`, the API's deltas).

    Raises:
        ValidationError: ``since`` is negative or ahead of the registry.
    """
    from dedup.fingerprint import Fingerprint, check_compatible
    from dedup.matcher import Matcher
    from dedup.snapshot import write_full
    from dedup.snapshot_format import DELTA, write_fingerprints, write_jsonl, write_manifest

    version = snapshot_sync()
    if since is not None and not 0 <= since <= version:
        raise ValidationError(
            f"since={since} is not a version of this registry (the current version is {version}); "
            "download a full snapshot.",
            code="since",
        )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    exclude = set(exclude_owner_ids)
    base = _manifest_base(version=version, since=since)
    config = engine.engine_config()
    if since is None:
        policies = selectors.restricting_policies(_works_in_scope(None, exclude))
        matchers = {kind: Matcher(config) for kind in ("code", "prose")}
        docs = {}
        for doc_pk, work_pk, kind, language, blob in selectors.ready_documents(policies):
            try:
                matchers[kind].add(doc_pk, Fingerprint.from_bytes(bytes(blob)))
            except ValueError:
                # Made with other engine parameters (settings.DEDUP changed): the service's own
                # matcher leaves it out too (registry.engine), so the snapshot does the same.
                logger.warning("document %s: stored fingerprint does not fit the engine; skipped", doc_pk)
                continue
            docs[doc_pk] = {"work_id": policies[work_pk].work_id, "kind": kind, "language": language or None}
        return write_full(out, manifest=base, works=policies.values(), docs=docs, matchers=matchers)

    pks, deleted = changed_work_pks(since)
    works = list(_works_in_scope(pks, exclude))
    policies = selectors.restricting_policies(works)
    removed = {w.public_id for w in works if w.pk not in policies}
    removed |= {public_id for pk, public_id in deleted.items() if public_id and pk not in policies}
    # Works of excluded owners that changed: gone from this caller's view (they were never in
    # it, unless the caller joined the organisation later -- then this removes them).
    removed |= set(
        Work.objects.filter(pk__in=pks, owner_id__in=list(exclude)).values_list("public_id", flat=True)
    )
    docs_rows, fps = [], []
    for doc_pk, work_pk, kind, language, blob in selectors.ready_documents(policies):
        try:
            check_compatible(Fingerprint.from_bytes(bytes(blob)), config)
        except ValueError:
            logger.warning("document %s: stored fingerprint does not fit the engine; skipped", doc_pk)
            continue
        work_id = policies[work_pk].work_id
        docs_rows.append({"doc_id": doc_pk, "work_id": work_id, "kind": kind, "language": language or None})
        fps.append((doc_pk, bytes(blob)))
    n_works = write_jsonl(out / "works.jsonl", (p.to_dict() for p in sorted(policies.values(), key=_by_id)))
    n_docs = write_jsonl(out / "docs.jsonl", docs_rows)
    n_removed = write_jsonl(out / "removed.jsonl", ({"work_id": w} for w in sorted(removed)))
    write_fingerprints(out / "fingerprints.bin", fps)
    counts = {"works": n_works, "documents": n_docs, "removed": n_removed}
    return write_manifest(out, {**base, "kind": DELTA, "counts": counts})


def _by_id(policy) -> str:
    return policy.work_id


# --- the cache of full snapshots --------------------------------------------------------------------


def cache_root() -> Path:
    root = Path(settings.VAR_DIR) / "snapshots"
    root.mkdir(parents=True, exist_ok=True)
    return root


def snapshot_cached_full(*, exclude_owner_ids: Iterable[int] = ()) -> Path:
    """The directory of a full snapshot at the current version, built if not cached yet.

    Callers that own restricting works get their own cached copy (their works left out); every
    other caller shares one per version.
    """
    from dedup.snapshot_format import read_manifest, temp_dir_beside

    version = snapshot_sync()
    exclude = sorted(set(exclude_owner_ids))
    if exclude and not Work.objects.filter(owner_id__in=exclude).exists():
        exclude = []
    name = str(version)
    if exclude:
        name += "-o" + hashlib.sha256(",".join(map(str, exclude)).encode()).hexdigest()[:12]
    target = cache_root() / name
    if (target / "manifest.json").exists():
        return target
    tmp = temp_dir_beside(target)
    try:
        manifest = snapshot_build(out=tmp, exclude_owner_ids=exclude)
        if manifest["version"] != version:
            # Something changed while building: the files are of the newer version; cache them
            # under that name so the version in the name is always the one in the manifest.
            target = cache_root() / name.replace(str(version), str(manifest["version"]), 1)
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / "manifest.json").exists():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another process finished the same build first
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    read_manifest(target, verify=False)
    _prune_cache(keep=KEEP_CACHED_VERSIONS)
    return target


def _prune_cache(*, keep: int) -> None:
    """Remove cached snapshots of all but the newest `keep` versions (and stale temporaries)."""
    root = cache_root()
    entries = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    versions = sorted({int(p.name.split("-")[0]) for p in entries if p.name.split("-")[0].isdigit()})
    old = set(versions[:-keep]) if keep else set(versions)
    for p in entries:
        head = p.name.split("-")[0]
        if head.isdigit() and int(head) in old:
            shutil.rmtree(p, ignore_errors=True)


def discard(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)


def read_manifest(root: Path) -> dict:
    from dedup.snapshot_format import read_manifest as read

    return read(root, verify=False)
