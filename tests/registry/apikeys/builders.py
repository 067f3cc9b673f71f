"""Shared set-up for the API-key and API tests: carol's "Acme Data" and dave's organisation,
and keys made through the real service (so the stored hash is what production stores)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from registry.apikeys import services
from registry.apikeys.models import ApiKey, Organisation


def organisation(*, owner, name: str) -> Organisation:
    return services.organisation_create(name=name, created_by=owner)


def api_key(
    *, user, organisation: Organisation | None = None, scope: str = "filter", name: str = "crawler", **kw
):
    """A key and its full text, as the create page would hand them out."""
    return services.api_key_create(name=name, scope=scope, created_by=user, organisation=organisation, **kw)


def expire(key: ApiKey) -> ApiKey:
    key.expires_at = timezone.now() - timedelta(seconds=1)
    key.save(update_fields=["expires_at"])
    return key


def bearer(full_key: str) -> dict:
    """Test-client headers that present a key."""
    return {"HTTP_AUTHORIZATION": f"Bearer {full_key}"}
