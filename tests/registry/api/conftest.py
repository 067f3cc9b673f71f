"""The API tests use the same personas as the key pages (carol in "Acme Data", dave elsewhere)."""

from tests.registry.apikeys.conftest import acme, client_carol, client_dave, dave, dave_org  # noqa: F401
