"""Personas and helpers for the filter, lookup and export tests.

alice and bob are authors who register works through the real services (fingerprinted eagerly,
tasks run on commit); carol builds datasets in "Acme Data" with a `filter` key.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest
from django.test import Client

from registry import engine
from registry.works import services
from tests.registry.apikeys import builders
from tests.registry.apikeys.conftest import acme  # noqa: F401

TEXTWRAP = (Path(sysconfig.get_paths()["stdlib"]) / "textwrap.py").read_text()

PROSE = """\
The lighthouse keeper wrote every evening in a ledger bound with green thread. She noted the
wind, the colour of the water at dusk, the ships that passed and the ones that should have passed
and did not. Over forty winters the ledger became a second coastline, drawn in ink instead of
rock, and the villagers came to read it the way other people read almanacs.

When the lamp was finally automated, the keeper carried the ledger down the hill and gave it to
the school. The children learned to find their grandparents' boats in its pages, and to tell a
storm from a squall by the way her handwriting leaned.
"""

BOB_PROSE = """\
Every programmer eventually keeps a garden of small tools, each shaped by the afternoon it was
written in. Most of them are never shared: too particular, too rough at the edges, too obviously
the work of someone thinking aloud. Yet the garden is where the craft is learned, because a tool
written for oneself has no audience to perform for and shows plainly what its author understood.
"""

UNRELATED = """\
Bees communicate the direction of flowers through a waggle dance performed on the comb. The angle
of the dance relative to vertical encodes the angle between the sun and the food source, and the
duration of the waggle run encodes the distance the foragers must fly before they find nectar.
"""


@pytest.fixture(autouse=True)
def _fresh_matcher_cache():
    engine.reset_matcher_cache()
    yield
    engine.reset_matcher_cache()


@pytest.fixture
def register(django_capture_on_commit_callbacks):
    """Register a work through the services, running its fingerprint tasks on commit."""

    def _register(owner, text: str, *, title: str = "A work", kind: str = "prose", path: str = "text",
                  preferences=None, **fields):  # fmt: skip
        prepared = services.prepare_text(text=text, name=path)
        with django_capture_on_commit_callbacks(execute=True):
            work = services.work_register(
                owner=owner, title=title, kind=kind, source="text", prepared=prepared,
                preferences=preferences, **fields,
            )  # fmt: skip
        assert work.documents.filter(state="ready").count() == work.documents.count()
        return work

    return _register


@pytest.fixture
def carol_key(carol, acme):  # noqa: F811 - the fixture imported above
    """carol's `filter` key for Acme Data, as (ApiKey, full text)."""
    return builders.api_key(user=carol, organisation=acme, scope="filter", name="crawler")


@pytest.fixture
def api_carol(carol_key) -> Client:
    return Client(**builders.bearer(carol_key[1]))


@pytest.fixture
def api_bob(bob) -> Client:
    _, full = builders.api_key(user=bob, scope="filter", name="bob's filter")
    return Client(**builders.bearer(full))


def post(client: Client, path: str, body) -> tuple[int, dict]:
    response = client.post(path, body, content_type="application/json")
    return response.status_code, response.json()


def filter_one(client: Client, purpose: str = "train-genai", **document) -> dict:
    """The one result of a filter call with one document (asserting a 200)."""
    status, body = post(client, "/api/v1/filter", {"purpose": purpose, "documents": [document]})
    assert status == 200, body
    [result] = body["results"]
    return result
