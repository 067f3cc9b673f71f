"""Per-key rate limits, counted in the Django cache (shared when CACHE_URL points at Redis).

Each key has its own limit (`ApiKey.rate_limit_per_minute`). The counter is a window of 60
seconds that starts with the key's first request, counted with `cache.incr`.
Why not DRF's SimpleRateThrottle: it keeps a list of timestamps and writes it back after reading
it, so two workers serving the same key at once both read N and both write N+1, losing counts;
`incr` is atomic in Redis and in the local-memory cache. The cost of a window over a sliding
log is that a burst may reach twice the limit across a window boundary, which is fine for
protecting the service.
"""

from __future__ import annotations

import math
import time

from django.core.cache import cache
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
        # `add` only writes when absent, so the first request of a window starts it; both keys
        # expire together at the window's end, and the next request starts a new one.
        cache.add(start_key, now, timeout=WINDOW_SECONDS)
        cache.add(count_key, 0, timeout=WINDOW_SECONDS)
        try:
            count = cache.incr(count_key)
        except ValueError:  # expired between add and incr: this request opens the next window
            cache.set(start_key, now, timeout=WINDOW_SECONDS)
            cache.set(count_key, 1, timeout=WINDOW_SECONDS)
            count = 1
        if count <= key.rate_limit_per_minute:
            return True
        start = cache.get(start_key, now)
        self._wait = max(1.0, start + WINDOW_SECONDS - now)
        return False

    def wait(self) -> float | None:
        return math.ceil(self._wait) if self._wait is not None else None
