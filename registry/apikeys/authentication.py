"""DRF authentication by API key: `Authorization: Bearer rk_...` or `X-Api-Key: rk_...`.

On success `request.auth` is the `ApiKey` and `request.user` is who the key acts for: the
owner for a personal key, an `OrganisationPrincipal` for an organisation's key (the key outlives
the person who created it, so it must not act as them). Endpoints read `request.auth` for
scope, organisation and limits.

Every failure is a 401 with its own code, so a client can tell a typo (`invalid_key`) from a
key someone turned off (`revoked_key`) or one that ran out (`expired_key`).
"""

from __future__ import annotations

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from . import selectors, services, tokens
from .models import ApiKey, Organisation

HEADER = "X-Api-Key"


class OrganisationPrincipal:
    """`request.user` for an organisation's key: authenticated, but no person and no pk."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = id = None

    def __init__(self, organisation: Organisation) -> None:
        self.organisation = organisation

    def __str__(self) -> str:
        return f"organisation {self.organisation.name}"


def _fail(code: str, detail: str) -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed(detail=detail, code=code)


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        raw = self._presented_key(request)
        if raw is None:
            return None  # no key at all: permissions answer 401 not_authenticated
        parsed = tokens.parse(raw)
        if parsed is None:
            raise _fail("invalid_key", "That is not a registry API key; keys look like rk_xxxxxxxx_... .")
        key = selectors.api_key_by_prefix(prefix=parsed.prefix)
        # The same answer for "no such prefix" and "wrong secret": a prefix alone proves nothing.
        if key is None or not tokens.matches(parsed.full, key.key_hash):
            raise _fail("invalid_key", "Unknown API key. Check it was copied whole, or create a new one.")
        if key.revoked_at is not None:
            raise _fail(
                "revoked_key",
                f"The API key '{key.name}' was revoked on {key.revoked_at:%Y-%m-%d}; create a new one.",
            )
        now = timezone.now()
        if key.is_expired(now):
            raise _fail(
                "expired_key",
                f"The API key '{key.name}' expired on {key.expires_at:%Y-%m-%d}; create a new one.",
            )
        if key.owner_id is not None and not key.owner.is_active:
            raise _fail("invalid_key", "The account that owns this API key is disabled.")
        services.api_key_mark_used(key=key, now=now)
        return (self._principal(key), key)

    def authenticate_header(self, request) -> str:
        # Present, so DRF answers unauthenticated requests with 401 (not 403) and this header.
        return f'{self.keyword} realm="api"'

    @staticmethod
    def _principal(key: ApiKey):
        return key.owner if key.owner_id is not None else OrganisationPrincipal(key.organisation)

    def _presented_key(self, request) -> str | None:
        header = get_authorization_header(request).split()
        if header and header[0].lower() == self.keyword.lower().encode():
            if len(header) != 2:
                raise _fail(
                    "invalid_key",
                    "The Authorization header must be 'Bearer <key>' with the key and nothing else.",
                )
            try:
                return header[1].decode("ascii")
            except UnicodeDecodeError:
                raise _fail("invalid_key", "The API key holds characters no key has.") from None
        value = request.META.get("HTTP_X_API_KEY")
        if value:
            return value.strip()
        return None
