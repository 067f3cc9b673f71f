"""Scope checks for API-key endpoints.

`HasScope("filter")` is a permission *class* (DRF instantiates permission classes per request),
made once per scope, so views write `permission_classes = [HasScope("filter")]`.
A request without a key gets 401 `not_authenticated` from DRF before the scope is looked at;
a key with another scope gets 403 `insufficient_scope`.
"""

from __future__ import annotations

from functools import cache

from rest_framework.permissions import BasePermission

from .models import ApiKey


class HasApiKey(BasePermission):
    """Any valid key, whatever its scope (e.g. /api/v1/me)."""

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiKey)


@cache
def HasScope(scope: str) -> type[BasePermission]:  # noqa: N802 - reads as a class where it is used
    if scope not in ApiKey.Scope.values:
        raise ValueError(f"Unknown API key scope {scope!r}; expected one of {ApiKey.Scope.values}.")

    class _HasScope(BasePermission):
        code = "insufficient_scope"
        message = f"This endpoint needs a key with the '{scope}' scope."

        def has_permission(self, request, view) -> bool:
            key = request.auth
            if not isinstance(key, ApiKey):
                return False
            if key.scope == scope:
                return True
            self.message = (
                f"This endpoint needs a key with the '{scope}' scope; the key '{key.name}' has "
                f"the '{key.scope}' scope. Create a key with the right scope on the API keys page."
            )
            return False

    _HasScope.__name__ = _HasScope.__qualname__ = f"HasScope_{scope}"
    _HasScope.scope = scope
    return _HasScope
