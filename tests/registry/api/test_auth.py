"""API-key authentication, scopes and per-key rate limits, seen from a client of /api/v1/."""

import time

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIRequestFactory

from registry.api.base import ApiView
from registry.apikeys import services
from registry.apikeys.permissions import HasScope
from tests.registry.apikeys import builders
from tests.registry.apikeys.builders import bearer

ME = reverse("api:me")


class FilterOnlyApi(ApiView):
    """Stands in for the filter endpoints that come later."""

    permission_classes = [HasScope("filter")]

    def get(self, request):
        from rest_framework.response import Response

        return Response({"ok": True})


def _call_filter_only(full_key: str):
    request = APIRequestFactory().get("/api/v1/filter-only", **bearer(full_key))
    response = FilterOnlyApi.as_view()(request)
    return response.status_code, response.data


def test_a_valid_key_says_who_it_is(client, carol, acme):
    key, full = builders.api_key(user=carol, organisation=acme, name="build-3 crawler")
    response = client.get(ME, **bearer(full))
    assert response.status_code == 200
    assert response.json() == {
        "name": "build-3 crawler",
        "prefix": key.prefix,
        "scope": "filter",
        "organisation": {"name": "Acme Data", "slug": "acme-data"},
        "rate_limit_per_minute": 600,
        "created_at": response.json()["created_at"],
        "expires_at": None,
    }


def test_a_personal_key_acts_as_its_owner_and_has_no_organisation(client, alice):
    _, full = builders.api_key(user=alice, scope="author")
    body = client.get(ME, HTTP_X_API_KEY=full).json()  # the X-Api-Key header works too
    assert body["organisation"] is None and body["scope"] == "author"


def test_using_a_key_records_when_it_was_last_used(client, carol):
    key, full = builders.api_key(user=carol)
    before = timezone.now()
    client.get(ME, **bearer(full))
    key.refresh_from_db()
    assert key.last_used_at >= before


def test_no_key_is_401_not_authenticated_with_a_bearer_challenge(client):
    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_session_login_is_not_an_api_key(client_carol):
    assert client_carol.get(ME).json()["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "presented",
    [
        "rk_aaaaaaaa_" + "b" * 32,  # well formed, unknown
        "not-a-key",
        "rk_aaaaaaaa_" + "b" * 32 + " extra",
    ],
)
def test_an_unknown_or_malformed_key_is_401_invalid_key(client, carol, presented):
    response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {presented}")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_key"
    assert response.json()["detail"]


def test_a_known_prefix_with_the_wrong_secret_is_just_as_unknown(client, carol):
    key, full = builders.api_key(user=carol)
    forged = f"rk_{key.prefix}_" + ("a" * 32 if not full.endswith("a" * 32) else "b" * 32)
    body = client.get(ME, **bearer(forged)).json()
    assert body["code"] == "invalid_key" and key.name not in body["detail"]


def test_a_revoked_key_is_401_revoked_key(client, carol, acme):
    key, full = builders.api_key(user=carol, organisation=acme)
    services.api_key_revoke(key=key, revoked_by=carol)
    response = client.get(ME, **bearer(full))
    assert response.status_code == 401
    assert response.json()["code"] == "revoked_key"
    assert "create a new one" in response.json()["detail"]


def test_an_expired_key_is_401_expired_key(client, carol):
    key, full = builders.api_key(user=carol, expires_in_days=30)
    builders.expire(key)
    response = client.get(ME, **bearer(full))
    assert response.status_code == 401
    assert response.json()["code"] == "expired_key"


def test_a_key_of_a_disabled_account_stops_working(client, alice):
    _, full = builders.api_key(user=alice, scope="author")
    alice.is_active = False
    alice.save()
    assert client.get(ME, **bearer(full)).json()["code"] == "invalid_key"


def test_a_key_with_the_right_scope_passes_and_another_scope_is_403_insufficient_scope(alice, carol):
    _, filter_key = builders.api_key(user=carol, scope="filter")
    _, author_key = builders.api_key(user=alice, scope="author")
    assert _call_filter_only(filter_key) == (200, {"ok": True})
    status, body = _call_filter_only(author_key)
    assert status == 403
    assert body["code"] == "insufficient_scope"
    assert "'filter' scope" in body["detail"] and "'author'" in body["detail"]


def test_an_unknown_scope_is_a_programming_error():
    with pytest.raises(ValueError, match="Unknown API key scope"):
        HasScope("admin")


def test_past_its_rate_limit_a_key_gets_429_with_retry_after(client, carol, acme):
    _, full = builders.api_key(user=carol, organisation=acme, name="greedy", rate_limit_per_minute=2)
    assert [client.get(ME, **bearer(full)).status_code for _ in range(2)] == [200, 200]
    response = client.get(ME, **bearer(full))
    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 60
    assert response.json() == {
        "code": "rate_limited",
        "detail": (
            "Rate limit of 2 requests per minute exceeded for key 'greedy'; "
            f"retry after {retry_after} seconds."
        ),
        "retry_after": retry_after,
    }


def test_each_key_has_its_own_count(client, carol, dave, acme, dave_org):
    _, carols = builders.api_key(user=carol, organisation=acme, rate_limit_per_minute=1)
    _, daves = builders.api_key(user=dave, organisation=dave_org, rate_limit_per_minute=1)
    assert client.get(ME, **bearer(carols)).status_code == 200
    assert client.get(ME, **bearer(carols)).status_code == 429
    assert client.get(ME, **bearer(daves)).status_code == 200


def test_the_count_starts_again_after_a_minute(client, carol, monkeypatch):
    _, full = builders.api_key(user=carol, rate_limit_per_minute=1)
    assert client.get(ME, **bearer(full)).status_code == 200
    assert client.get(ME, **bearer(full)).status_code == 429
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)  # the cache's expiry reads the same clock
    assert client.get(ME, **bearer(full)).status_code == 200
