"""The one module of the service that talks to the engine (`dedup`).

- `engine_config()` builds `dedup.EngineConfig` from `settings.DEDUP` (read here and nowhere else).
- `decode()`, `language_for_path()` and `fingerprint_document_text()` wrap the engine for the
  registration path and the fingerprint task.
- `find_matches()` answers lookups from a process-level cache of `dedup.Matcher` objects, one per
  kind (code fingerprints use the abstract channel, prose the exact one, so their signatures are
  never compared with each other).

The cache: each process holds the matchers built from the stored fingerprints of the ready
documents (`Document.fingerprint`, `Fingerprint.to_bytes()`). Before a lookup one indexed
aggregate -- count and newest `fingerprinted_at` of the ready documents -- is compared with the
version the cache was built at, at most once a second per process (REGISTRY
["MATCHER_CHECK_SECONDS"]): a work fingerprinted by any process (a worker, another web process)
is found within that second, and a busy API does not run the aggregate per request.
When the version moved, only the documents fingerprinted since the newest time already loaded
(minus a look-back for late commits) are read, ids and times first, then the fingerprints of the
new ones. Deletions show as a count lower than what is loaded; only then are all the ready ids
read (ids and times, no fingerprints) to find the ones that went away.

Kind detection for lookups: a pasted snippet is fingerprinted both as code and as prose and
each fingerprint is queried against the matcher of its kind; the results are merged, best first.
Guessing with a heuristic would miss a code snippet that reads like prose (docstrings,
Markdown) or the reverse, and a snippet is small, so running both channels costs little.
"""

from __future__ import annotations

import functools
import gc
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Count, Max

if TYPE_CHECKING:
    import dedup

logger = logging.getLogger(__name__)

KINDS = ("code", "prose")
# How far behind the newest loaded fingerprint time the incremental check looks again (a
# fingerprint transaction stamps its time before it commits; none takes anywhere near this long).
LOOKBACK = timedelta(seconds=60)
LOAD_CHUNK = 500  # fingerprints fetched per query (SQLite limits the parameters of one IN)
# A first load at least this large is moved out of the cyclic garbage collector's sight (see
# `_freeze_what_is_loaded`); a small registry, or a test's, is not worth a full collection.
FREEZE_AFTER_DOCUMENTS = 10_000


@functools.cache
def _dedup() -> SimpleNamespace:
    """The engine's public API, imported on first use.

    Lazily: the engine pulls in numpy and numba, which commands such as `migrate` do not need.
    Each name comes from the module the contract puts it in (`from dedup.fingerprint import
    fingerprint` works whether or not the package also re-exports it).
    """
    from dedup import BinaryInputError, EngineConfig, decode, language_for_path
    from dedup.fingerprint import Fingerprint, expected_params, fingerprint
    from dedup.matcher import Match, Matcher
    from dedup.readings import readings

    return SimpleNamespace(
        BinaryInputError=BinaryInputError,
        EngineConfig=EngineConfig,
        Fingerprint=Fingerprint,
        Match=Match,
        Matcher=Matcher,
        decode=decode,
        expected_params=expected_params,
        fingerprint=fingerprint,
        language_for_path=language_for_path,
        readings=readings,
    )


class BinaryInputError(ValueError):
    """The bytes are not text (raised by `decode`)."""


def engine_config() -> dedup.EngineConfig:
    """The engine configuration from `settings.DEDUP` (a ValueError names a bad field)."""
    conf = settings.DEDUP
    return _dedup().EngineConfig(
        num_perm=conf["NUM_PERM"],
        seed=conf["SEED"],
        shingle_size=conf["SHINGLE_SIZE"],
        threshold=conf["THRESHOLD"],
        min_snippet_chars=conf["MIN_SNIPPET_CHARS"],
    )


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding used); raises `BinaryInputError` (a ValueError) for binary data."""
    dedup = _dedup()
    try:
        return dedup.decode(data)
    except dedup.BinaryInputError as exc:
        raise BinaryInputError(str(exc)) from exc


def language_for_path(path: str) -> str | None:
    return _dedup().language_for_path(path)


def fingerprint_document_text(text: str, kind: str, language: str | None) -> dedup.Fingerprint:
    """Fingerprint one document's text with the configured engine."""
    return _dedup().fingerprint(text, kind=kind, language=language or None, config=engine_config())


def fingerprint_from_bytes(data: bytes) -> dedup.Fingerprint:
    return _dedup().Fingerprint.from_bytes(bytes(data))


def fingerprint_params(fp: dedup.Fingerprint) -> dict[str, object]:
    """Every parameter of `fp` that must equal the registry's for it to be comparable."""
    p = fp.params
    return {
        "kind": fp.kind,
        "scheme": p.scheme,
        "seed": p.seed,
        "num_perm": p.num_perm,
        "shingle_size": p.shingle_size,
        "normaliser_version": p.normaliser_version,
        "channel": p.channel,
        "winnow_k": fp.winnow_k,
        "winnow_window": fp.winnow_window,
    }


def expected_fingerprint_params(kind: str) -> dict[str, object]:
    """`fingerprint_params` of a fingerprint of `kind` made with the registry's configuration.

    The fingerprint upload API (registry/works/fingerprint_uploads.py) compares the two key by key, so
    a client fingerprinting with other settings is told which parameter differs.
    """
    config = engine_config()
    p = _dedup().expected_params(config, kind)
    return {
        "kind": kind,
        "scheme": p.scheme,
        "seed": p.seed,
        "num_perm": p.num_perm,
        "shingle_size": p.shingle_size,
        "normaliser_version": p.normaliser_version,
        "channel": p.channel,
        "winnow_k": config.winnow_k,
        "winnow_window": config.winnow_window,
    }


@dataclass(frozen=True)
class EngineMatch:
    """One registered document matched by a lookup."""

    document_id: int
    work_id: int
    channel: str  # the kind the snippet was read as: "code" or "prose"
    match: dedup.Match  # noqa: F821 - a string annotation; dedup is imported lazily


def _freeze_what_is_loaded() -> None:
    """Collect once, then `gc.freeze()` what the process holds, the loaded matchers above all.

    Why: at 100,000 documents a web process tracks some 200,000 long-lived objects; every full
    collection walks them all (about 110 ms), and one landing inside a request is that request's
    latency. Frozen objects are skipped by the collector (reference counting still frees them),
    so later collections only walk what requests create. The collection before the freeze keeps
    garbage cycles of the load from being frozen for good.
    """
    gc.collect()
    gc.freeze()


class _MatcherCache:
    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.version = None
        self.config = None
        self.checked_at: float | None = None  # time.monotonic() of the last version check
        self.watermark = None  # the newest fingerprinted_at loaded
        self.matchers: dict[str, dedup.Matcher] = {}
        self.loaded: dict[int, tuple] = {}  # doc id -> (fingerprinted_at, work id, kind, language)
        self.unusable: dict[int, tuple] = {}  # ready, but fingerprinted with other parameters

    def refresh(self) -> None:
        """Bring the matchers up to date with the ready documents (see the module docstring).

        Rate-limited: at most one version check per REGISTRY["MATCHER_CHECK_SECONDS"] (default
        1 s) per process, so a busy API does not pay the aggregate on every request.
        """
        config = engine_config()
        interval = settings.REGISTRY.get("MATCHER_CHECK_SECONDS", 1.0)
        with self._lock:
            if config != self.config:
                self.reset()
                self.config = config
                self.matchers = {kind: _dedup().Matcher(config) for kind in KINDS}
            now = time.monotonic()
            if self.checked_at is not None and now - self.checked_at < interval:
                return
            self._check()
            self.checked_at = now

    def _check(self) -> None:
        from registry.works.models import Document

        ready = Document.objects.filter(state=Document.State.READY)
        # COUNT(*), not COUNT(id): both columns it reads are in the (state, fingerprinted_at)
        # index, so PostgreSQL answers from the index alone (an index-only scan, ~5x cheaper at
        # 100,000 documents than visiting every row for its id).
        agg = ready.aggregate(n=Count("*"), newest=Max("fingerprinted_at"))
        version = (agg["n"], agg["newest"])
        if version == self.version:
            return
        first = self.watermark is None
        if first:
            recent = ready
        else:
            # Since the watermark, with a look-back: a transaction that stamped its time before
            # the watermark but committed after the last check must not be missed.
            recent = ready.filter(fingerprinted_at__gte=self.watermark - LOOKBACK)
        self._load(self._rows(recent))
        if len(self.loaded) + len(self.unusable) != agg["n"]:
            # Documents went away (or un-ready), or one committed later than the look-back:
            # the one full pass, over ids and times only.
            current = self._rows(ready)
            for doc_id in (set(self.loaded) | set(self.unusable)) - set(current):
                self._forget(doc_id)
            self._load(current)
        self.version = version
        if first and len(self.loaded) >= FREEZE_AFTER_DOCUMENTS:
            _freeze_what_is_loaded()

    @staticmethod
    def _rows(queryset) -> dict[int, tuple]:
        return {
            row[0]: row[1:]
            for row in queryset.values_list(
                "id", "fingerprinted_at", "work_id", "work__kind", "language"
            ).iterator(chunk_size=5000)
        }

    def _forget(self, doc_id: int) -> None:
        self.unusable.pop(doc_id, None)
        old = self.loaded.pop(doc_id, None)
        if old is not None:
            self.matchers[old[2]].remove(doc_id)

    def _load(self, rows: dict[int, tuple]) -> None:
        from registry.works.models import Document

        changed = [
            doc_id
            for doc_id, row in rows.items()
            if row != self.loaded.get(doc_id, self.unusable.get(doc_id))
        ]
        for start in range(0, len(changed), LOAD_CHUNK):
            chunk = changed[start : start + LOAD_CHUNK]
            for doc_id, blob in Document.objects.filter(id__in=chunk).values_list("id", "fingerprint"):
                row = rows[doc_id]
                self._forget(doc_id)
                try:
                    self.matchers[row[2]].add(doc_id, fingerprint_from_bytes(blob))
                except ValueError:
                    # A fingerprint made with other parameters (settings.DEDUP changed) or an
                    # older format: it cannot be compared, so it is left out until re-fingerprinted.
                    logger.warning("document %s: stored fingerprint does not fit the engine; skipped", doc_id)
                    self.unusable[doc_id] = row
                    continue
                self.loaded[doc_id] = row
        newest = max((row[0] for row in rows.values() if row[0] is not None), default=None)
        if newest is not None and (self.watermark is None or newest > self.watermark):
            self.watermark = newest

    def _readings(self, text: str, kinds, language: str | None) -> list[tuple[str, str | None]]:
        """(kind, language) pairs to fingerprint a query with: `dedup.readings`' rule, which the
        offline filter shares, over the kinds that have registered documents."""
        present = [kind for kind in kinds if self.matchers.get(kind) is not None and len(self.matchers[kind])]
        return _dedup().readings(text, language, kinds_present=present, kinds=kinds)

    def query_batch(self, queries: Sequence[Query]) -> list[list[EngineMatch]]:
        self.refresh()
        with self._lock:
            config = self.config
            plans = [self._readings(q.text, q.kinds, q.language) for q in queries]
        # Fingerprinting is the CPU-heavy part and touches no shared state: outside the lock.
        by_kind: dict[str, list[tuple[int, dedup.Fingerprint]]] = {kind: [] for kind in KINDS}
        for i, (q, plan) in enumerate(zip(queries, plans, strict=True)):
            for kind, lang in plan:
                by_kind[kind].append(
                    (i, _dedup().fingerprint(q.text, kind=kind, language=lang, config=config))
                )
        found: list[dict[int, EngineMatch]] = [{} for _ in queries]
        with self._lock:
            for kind, pairs in by_kind.items():
                if not pairs or kind not in self.matchers:
                    continue
                results = self.matchers[kind].query_batch([fp for _, fp in pairs])
                for (i, _), matches in zip(pairs, results, strict=True):
                    for m in matches:
                        row = self.loaded.get(m.doc_id)
                        if row is None:
                            continue
                        best = found[i].get(m.doc_id)
                        if best is None or (m.verified, m.matched_chars) > (
                            best.match.verified,
                            best.match.matched_chars,
                        ):
                            found[i][m.doc_id] = EngineMatch(m.doc_id, row[1], kind, m)
        return [
            sorted(f.values(), key=lambda em: (-em.match.verified, -em.match.matched_chars, em.document_id))
            for f in found
        ]


_cache = _MatcherCache()


@dataclass(frozen=True)
class Query:
    """One text to look up: `kinds` to read it as, and a language hint for code."""

    text: str
    kinds: tuple[str, ...] = KINDS
    language: str | None = None


def _kinds(kind: str | None) -> tuple[str, ...]:
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return (kind,) if kind else KINDS


def find_matches_batch(queries: Sequence[Query]) -> list[list[EngineMatch]]:
    """`find_matches` for many texts: one version check, and one `Matcher.query_batch` per kind.

    Returns one list per query, in order, each best first.
    """
    for q in queries:
        if not q.kinds or any(kind not in KINDS for kind in q.kinds):
            raise ValueError(f"kinds must be taken from {', '.join(KINDS)}, not {q.kinds!r}")
    return _cache.query_batch(queries)


def find_matches(text: str, *, kind: str | None = None, language: str | None = None) -> list[EngineMatch]:
    """Registered documents that `text` copies, best first.

    Args:
        text: the pasted snippet or document.
        kind: "code" or "prose" to read the text one way only; None reads it both ways (see the
            module docstring).
        language: a language hint for code (``python``, ...); None lets the tokenizer decide.
    """
    return _cache.query_batch([Query(text, _kinds(kind), language)])[0]


def reset_matcher_cache() -> None:
    """Forget the cached matchers (tests; a settings change is detected on its own)."""
    with _cache._lock:
        _cache.reset()
