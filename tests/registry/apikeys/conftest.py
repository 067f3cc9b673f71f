"""Personas for the key pages: carol builds datasets in "Acme Data"; dave runs another org."""

import pytest
from django.test import Client

from tests.conftest import _persona
from tests.registry.apikeys import builders


@pytest.fixture
def dave(db):
    """A dataset builder in another organisation: must never see Acme's keys."""
    return _persona("dave@example.org", "")


@pytest.fixture
def acme(carol):
    return builders.organisation(owner=carol, name="Acme Data")


@pytest.fixture
def dave_org(dave):
    return builders.organisation(owner=dave, name="Dave's Datasets")


@pytest.fixture
def client_carol(carol):
    client = Client()
    client.force_login(carol)
    return client


@pytest.fixture
def client_dave(dave):
    client = Client()
    client.force_login(dave)
    return client
