"""A per-process cache of the works' policies for the filter and lookup APIs, checked on every call.

Why: building `WorkPolicy` objects costs four queries and a few hundred ORM objects per call (the
works with their owners, their locations, the two preference queries): for the ~60 works a
100-document batch matches at 100,000 registered documents, 5.5 ms of CPU in the web process
and four database round trips, against 0.1 ms and one round trip from the cache -- and the
same works come back call after call.

Why it stays exact ("a revoked refusal is honoured on the very next call"): before answering,
every call runs ONE query of four index lookups -- the newest ids of the change log
(`SnapshotChange`) and of the preference statements, and how many of each lie above an id seen
a while ago -- and drops the entries of every work named since:

- a change-log row names the work: saved (its locations are only replaced with it), deleted, a
  document deleted, a statement that took effect at once (the signals in
  registry/snapshots/signals.py write the row in the same transaction as the change);
- a new preference statement about the work, or a default of its owner. A statement recorded
  to take effect later is kept aside and drops its works when its time comes (the change log
  only names those once `snapshot_sync` runs); the ones recorded before this process started are
  read once, on the first call;
- its age passes `MAX_AGE_SECONDS`: the bound on what no row records, i.e. an owner changing
  their public name (part of the answer, not of the decision).

Late commits: ids are handed out on insert, not on commit, so a row can appear with an id below
one already seen (the same race `snapshots.services.change_window` guards deltas against). The
cache keeps the ids it has seen above a base -- the newest id of a check at least
`change_window()` old -- and the query counts the rows above that base: a count that does not
add up means a row committed late, and the rows above the base are read again to find it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import connection
from django.utils import timezone

from registry.filtering.policies import work_policies, works_by_id
from registry.preferences.models import PreferenceStatement
from registry.snapshots.models import SnapshotChange
from registry.snapshots.services import change_window

if TYPE_CHECKING:
    from dedup.policy import WorkPolicy

MAX_AGE_SECONDS = 60.0
# On its first call a process cannot know which recent rows are still to commit: it treats this
# many of the newest ids as possibly late (a few thousand ids read once).
START_LOOKBACK_ROWS = 1000


@dataclass(frozen=True)
class _Entry:
    owner_id: int
    policy: WorkPolicy
    loaded_at: float  # time.monotonic()


class _Log:
    """What the cache has seen of one append-only table (the change log, or the statements)."""

    def __init__(self, base: int) -> None:
        self.base = base  # ids at or below it are settled (see the module docstring)
        self.newest = base
        self.seen: set[int] = set()  # ids above the base already applied

    def advance(self, base: int) -> None:
        self.base = max(self.base, base)
        self.seen = {i for i in self.seen if i > self.base}

    def fits(self, newest: int, above_base: int) -> bool:
        return newest == self.newest and above_base == len(self.seen)


class PolicyCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.entries: dict[int, _Entry] = {}
        self.changes: _Log | None = None
        self.statements: _Log | None = None
        # (time.monotonic(), newest change id, newest statement id) of past checks: the bases
        self._history: deque[tuple[float, int, int]] = deque()
        # statements recorded to take effect later: (effective_at, work pk or None, owner pk)
        self._pending: list[tuple[datetime, int | None, int]] = []

    def policies(self, ids: Iterable[int], *, exclude_owners: Iterable[int] = ()) -> dict[int, WorkPolicy]:
        """`{work pk: WorkPolicy}` for the works among `ids` that exist, leaving out the given
        owners' works: what `work_policies(works_by_id(ids, exclude_owners=...))` answers."""
        ids = set(ids)
        if not ids:
            return {}  # nothing matched: no query at all, as before the cache
        excluded = set(exclude_owners)
        with self._lock:
            self._check(timezone.now())
            now = time.monotonic()
            missing = [
                pk
                for pk in ids
                if (e := self.entries.get(pk)) is None or now - e.loaded_at >= MAX_AGE_SECONDS
            ]
            if missing:
                works = works_by_id(missing)
                for pk, policy in work_policies(works.values()).items():
                    self.entries[pk] = _Entry(works[pk].owner_id, policy, now)
                for pk in set(missing) - set(works):
                    self.entries.pop(pk, None)  # deleted since it was matched
            return {
                pk: e.policy
                for pk in ids
                if (e := self.entries.get(pk)) is not None and e.owner_id not in excluded
            }

    # --- validity ---------------------------------------------------------------------------

    def _check(self, now: datetime) -> None:
        if self.changes is None or self.statements is None:
            self._start(now)
            return
        newest_change, changes_above, newest_statement, statements_above = _versions(
            self.changes.base, self.statements.base
        )
        if not self.changes.fits(newest_change, changes_above):
            self._apply_changes(newest_change, changes_above)
        if not self.statements.fits(newest_statement, statements_above):
            self._apply_statements(newest_statement, statements_above, now)
        while self._pending and self._pending[0][0] <= now:
            _, work_pk, owner_id = self._pending.pop(0)
            self._drop(work_pk, owner_id)
        self._advance_bases()

    def _start(self, now: datetime) -> None:
        newest_change, _, newest_statement, _ = _versions(0, 0)
        # Rows a little below the newest may belong to transactions still in flight: they start
        # above the base, as seen, so one that commits late shows in the count.
        self.changes = _Log(max(0, newest_change - START_LOOKBACK_ROWS))
        self.changes.seen = set(
            SnapshotChange.objects.filter(id__gt=self.changes.base).values_list("id", flat=True)
        )
        self.changes.newest = max(self.changes.seen, default=self.changes.base)
        self.statements = _Log(max(0, newest_statement - START_LOOKBACK_ROWS))
        self.statements.seen = set(
            PreferenceStatement.objects.filter(id__gt=self.statements.base).values_list("id", flat=True)
        )
        self.statements.newest = max(self.statements.seen, default=self.statements.base)
        self._pending = sorted(
            PreferenceStatement.objects.filter(effective_at__gt=now).values_list(
                "effective_at", "work_id", "owner_id"
            ),
            key=lambda pending: pending[0],
        )
        self._history.append((time.monotonic(), self.changes.base, self.statements.base))

    def _advance_bases(self) -> None:
        """Move the bases up to the newest ids of a check at least the change window old."""
        now = time.monotonic()
        ids = (self.changes.newest, self.statements.newest)
        if ids != self._history[-1][1:]:
            self._history.append((now, *ids))
        window = change_window().total_seconds()
        while len(self._history) > 1 and now - self._history[1][0] >= window:
            self._history.popleft()
        if now - self._history[0][0] >= window:
            _, change_base, statement_base = self._history[0]
            self.changes.advance(change_base)
            self.statements.advance(statement_base)

    def _apply_changes(self, newest: int, above_base: int) -> None:
        rows = _new_rows(self.changes, SnapshotChange, ("id", "work_pk"), newest, above_base)
        for _, work_pk in rows:
            if work_pk is not None:
                self.entries.pop(work_pk, None)

    def _apply_statements(self, newest: int, above_base: int, now: datetime) -> None:
        fields = ("id", "effective_at", "work_id", "owner_id")
        for _, effective_at, work_pk, owner_id in _new_rows(
            self.statements, PreferenceStatement, fields, newest, above_base
        ):
            if effective_at > now:
                self._pending.append((effective_at, work_pk, owner_id))
                self._pending.sort(key=lambda pending: pending[0])
            else:
                self._drop(work_pk, owner_id)

    def _drop(self, work_pk: int | None, owner_id: int) -> None:
        """Forget the statement's scope: its work, or every work of the owner for a default."""
        if work_pk is not None:
            self.entries.pop(work_pk, None)
        else:
            for pk in [pk for pk, e in self.entries.items() if e.owner_id == owner_id]:
                del self.entries[pk]


def _new_rows(log: _Log, model, fields: tuple[str, ...], newest: int, above_base: int) -> list[tuple]:
    """The rows of `model` (`fields`, id first) not seen yet, now marked seen in `log`.

    First the rows above the newest id seen; then, if the rows seen up to `newest` do not add up
    to `above_base` (the count the version query made), one committed late below it (or one
    went): the rows above the base are read again.
    """
    rows = list(model.objects.filter(id__gt=log.newest).values_list(*fields))
    fresh = [row for row in rows if row[0] not in log.seen]
    log.seen.update(row[0] for row in fresh)
    if sum(1 for i in log.seen if i <= newest) != above_base:
        # Late, or gone (statements leave with their work, which the change log names): read
        # what is above the base as it stands.
        again = list(model.objects.filter(id__gt=log.base).values_list(*fields))
        fresh += [row for row in again if row[0] not in log.seen]
        log.seen = {row[0] for row in again}
    log.newest = max([log.newest, newest, *(row[0] for row in fresh)])
    return fresh


def _versions(change_base: int, statement_base: int) -> tuple[int, int, int, int]:
    """(newest change id, changes above `change_base`, newest statement id, statements above
    `statement_base`): four primary-key index lookups in one round trip."""
    changes = SnapshotChange._meta.db_table
    statements = PreferenceStatement._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(id) FROM {changes}), (SELECT COUNT(*) FROM {changes} WHERE id > %s), "
            f"(SELECT MAX(id) FROM {statements}), (SELECT COUNT(*) FROM {statements} WHERE id > %s)",
            [change_base, statement_base],
        )
        newest_change, changes_above, newest_statement, statements_above = cursor.fetchone()
    return newest_change or 0, changes_above, newest_statement or 0, statements_above


_cache = PolicyCache()


def cached_policies(ids: Iterable[int], *, exclude_owners: Iterable[int] = ()) -> dict[int, WorkPolicy]:
    """`PolicyCache.policies` on the process's cache."""
    return _cache.policies(ids, exclude_owners=exclude_owners)


def reset_policy_cache() -> None:
    """Forget every cached policy (tests: each test's database starts again from the same ids)."""
    with _cache._lock:
        _cache.reset()
