"""Per-key rate limits, counted in the Django cache (shared when CACHE_URL points at Redis).

Each key has its own limit (`ApiKey.rate_limit_per_minute`). The counter is a window of 60
seconds that starts with the key's first request, counted with `cache.incr`.
Why not DRF's SimpleRateThrottle: it keeps a list of timestamps and writes it back after reading
it, so two workers serving the same key at once both read N and both write N+1, losing counts;
`incr` is atomic in Redis and in the local-memory cache. The cost of a window over a sliding
log is that a burst may reach twice the limit across a window boundary, which is fine for
protecting the service.

With Redis as the cache (production), the count is one MULTI/EXEC round trip (`_count_in_redis`)
instead of the cache API's four (two `add`, then `incr`, which is `EXISTS` + `INCRBY`): on a
busy two-core server each blocking round trip is also a wait to be scheduled again, and the
filter API pays this on every call.
"""

from __future__ import annotations

import math
import time

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import BaseThrottle

from .models import ApiKey

WINDOW_SECONDS = 60


class ApiKeyRateThrottle(BaseThrottle):
    def __init__(self) -> None:
        self._wait: float | None = None
        self.key: ApiKey | None = None

    def allow_request(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return True  # unauthenticated requests never reach a view; nothing to count
        self.key = key
        count_key = f"apikey-rate:{key.pk}:count"
        start_key = f"apikey-rate:{key.pk}:start"
        now = time.time()
        backend = caches["default"]  # `cache` is a proxy to it, never an instance of its class
        if isinstance(backend, RedisCache):
            count, start = _count_in_redis(backend, key.pk, now)
        else:
            count, start = _count_in_cache(count_key, start_key, now), None
        if count <= key.rate_limit_per_minute:
            return True
        if start is None:
            start = cache.get(start_key, now)
        self._wait = max(1.0, start + WINDOW_SECONDS - now)
        return False

    def wait(self) -> float | None:
        return math.ceil(self._wait) if self._wait is not None else None


def _count_in_cache(count_key: str, start_key: str, now: float) -> int:
    """This request's number in its key's window, through the cache API (any backend)."""
    # `add` only writes when absent, so the first request of a window starts it; both keys
    # expire together at the window's end, and the next request starts a new one.
    cache.add(start_key, now, timeout=WINDOW_SECONDS)
    cache.add(count_key, 0, timeout=WINDOW_SECONDS)
    try:
        return cache.incr(count_key)
    except ValueError:  # expired between add and incr: this request opens the next window
        cache.set(start_key, now, timeout=WINDOW_SECONDS)
        cache.set(count_key, 1, timeout=WINDOW_SECONDS)
        return 1


def _count_in_redis(backend: RedisCache, key_pk: int, now: float) -> tuple[int, float]:
    """(this request's number in the window, the window's start) in one Redis round trip.

    The keys are the cache's own (its prefix and version) under other names than
    `_count_in_cache`'s: these hold plain numbers, which the cache API would not read back.
    """
    count_key = backend.make_and_validate_key(f"apikey-rate:{key_pk}:n")
    start_key = backend.make_and_validate_key(f"apikey-rate:{key_pk}:t")
    client = backend._cache.get_client(count_key, write=True)
    pipe = client.pipeline(transaction=True)  # MULTI/EXEC: no other client's command in between
    pipe.set(start_key, repr(now), nx=True, ex=WINDOW_SECONDS)
    pipe.set(count_key, 0, nx=True, ex=WINDOW_SECONDS)
    pipe.incr(count_key)
    pipe.ttl(count_key)
    pipe.get(start_key)
    _, _, count, ttl, start = pipe.execute()
    if ttl < 0:
        # The counter expired between the SET and the INCR, which made it again without an
        # expiry: give it one, or the key would stay limited for good.
        client.expire(count_key, WINDOW_SECONDS)
    return int(count), float(start) if start is not None else now
