"""Per-key rate limits counted in Redis (production's cache), one round trip per request.

Server pass only: it needs the Redis the pass runs with (CELERY_BROKER_URL), on a database
number of its own.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.cache import caches
from django.urls import reverse

from registry.apikeys import throttling
from tests.conftest import NEEDS_SERVER_PASS, SERVER_PASS
from tests.registry.apikeys import builders
from tests.registry.apikeys.builders import bearer

pytestmark = pytest.mark.skipif(not SERVER_PASS, reason=NEEDS_SERVER_PASS)

ME = reverse("api:me")


@pytest.fixture
def redis_cache(settings):
    url = urlunsplit(
        urlsplit(os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"))._replace(path="/9")
    )
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    cache = caches["default"]
    cache.clear()
    yield cache
    cache.clear()


def test_past_its_limit_a_key_gets_429_with_the_time_left_in_its_window(client, carol, acme, redis_cache):
    _, full = builders.api_key(user=carol, organisation=acme, name="greedy", rate_limit_per_minute=2)
    assert [client.get(ME, **bearer(full)).status_code for _ in range(3)] == [200, 200, 429]
    response = client.get(ME, **bearer(full))
    assert response.status_code == 429 and 1 <= int(response["Retry-After"]) <= 60


def test_each_key_has_its_own_count_in_redis(client, carol, dave, acme, dave_org, redis_cache):
    _, carols = builders.api_key(user=carol, organisation=acme, rate_limit_per_minute=1)
    _, daves = builders.api_key(user=dave, organisation=dave_org, rate_limit_per_minute=1)
    assert [client.get(ME, **bearer(carols)).status_code for _ in range(2)] == [200, 429]
    assert client.get(ME, **bearer(daves)).status_code == 200


def test_a_count_and_its_window_expire_together_within_a_minute(carol, redis_cache):
    key, _ = builders.api_key(user=carol, rate_limit_per_minute=5)
    count, start = throttling._count_in_redis(redis_cache, key.pk, 1000.0)
    assert (count, start) == (1, 1000.0)
    assert throttling._count_in_redis(redis_cache, key.pk, 1010.0) == (2, 1000.0)  # same window
    client = redis_cache._cache.get_client(None, write=True)
    for name in ("n", "t"):
        assert 0 < client.ttl(redis_cache.make_and_validate_key(f"apikey-rate:{key.pk}:{name}")) <= 60


def test_a_counter_left_without_an_expiry_gets_one_again(carol, redis_cache):
    key, _ = builders.api_key(user=carol, rate_limit_per_minute=5)
    count_key = redis_cache.make_and_validate_key(f"apikey-rate:{key.pk}:n")
    client = redis_cache._cache.get_client(count_key, write=True)
    client.set(count_key, 7)  # as if it had expired between the SET and the INCR of a request
    assert throttling._count_in_redis(redis_cache, key.pk, 1000.0)[0] == 8
    assert 0 < client.ttl(count_key) <= 60
