"""Personas and helpers for the scan tests.

alice is an author with registered works (a Python module kept as text, a prose piece);
carol builds datasets in the organisation "Acme Data" with a `filter` key; dave is another
builder with a personal `filter` key. Works are registered through the real services and
fingerprinted eagerly; scans run eagerly too (chunks one after another, in-process).
"""

from __future__ import annotations

import io
import json
import sysconfig
from pathlib import Path

import pytest
from django.test import Client

from registry import engine
from registry.scans import intake, services
from registry.works import services as works_services
from tests.factories import UserFactory
from tests.registry.apikeys import builders

TEXTWRAP = (Path(sysconfig.get_paths()["stdlib"]) / "textwrap.py").read_text()
# A function of textwrap.py, long enough to be a snippet match on its own.
TEXTWRAP_SNIPPET = TEXTWRAP[TEXTWRAP.index("def dedent(") :][:1500]

PROSE = """\
The lighthouse keeper wrote every evening in a ledger bound with green thread. She noted the
wind, the colour of the water at dusk, the ships that passed and the ones that should have passed
and did not. Over forty winters the ledger became a second coastline, drawn in ink instead of
rock, and the villagers came to read it the way other people read almanacs.

When the lamp was finally automated, the keeper carried the ledger down the hill and gave it to
the school. The children learned to find their grandparents' boats in its pages, and to tell a
storm from a squall by the way her handwriting leaned.
"""

UNRELATED = """\
Bees communicate the direction of flowers through a waggle dance performed on the comb. The angle
of the dance relative to vertical encodes the angle between the sun and the food source, and the
duration of the waggle run encodes the distance the foragers must fly before they find nectar.
"""

UNRELATED_CODE = """\
def fibonacci(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


class Counter:
    def __init__(self):
        self.counts = {}

    def add(self, key):
        self.counts[key] = self.counts.get(key, 0) + 1
"""


@pytest.fixture(autouse=True)
def _fresh_matcher_cache():
    engine.reset_matcher_cache()
    yield
    engine.reset_matcher_cache()


@pytest.fixture
def register(django_capture_on_commit_callbacks):
    """Register a work through the services, running its fingerprint tasks on commit."""

    def _register(owner, text: str, *, title: str, kind: str, path: str = "text", **fields):
        prepared = works_services.prepare_text(text=text, name=path)
        with django_capture_on_commit_callbacks(execute=True):
            work = works_services.work_register(
                owner=owner, title=title, kind=kind, source="text", prepared=prepared, **fields
            )
        assert work.documents.filter(state="ready").count() == work.documents.count()
        return work

    return _register


@pytest.fixture
def alice_code(alice, register):
    return register(
        alice, TEXTWRAP, title="Text wrapping", kind="code", path="textwrap.py", licence="PSF-2.0",
        attribution="textwrap by Alice Example", language="python",
    )  # fmt: skip


@pytest.fixture
def alice_prose(alice, register):
    return register(
        alice, PROSE, title="The lighthouse ledger", kind="prose", licence="CC-BY-4.0",
        attribution="The lighthouse ledger, by Alice Example",
    )  # fmt: skip


@pytest.fixture
def acme(carol):
    from registry.apikeys import services as apikeys_services

    return apikeys_services.organisation_create(name="Acme Data", created_by=carol)


@pytest.fixture
def dave(db):
    from allauth.account.models import EmailAddress

    user = UserFactory(email="dave@example.org", public_name="Dave Builder")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def carol_key(carol, acme):
    """carol's `filter` key for Acme Data, as (ApiKey, full text)."""
    return builders.api_key(user=carol, organisation=acme, scope="filter", name="generator-eval")


@pytest.fixture
def api_carol(carol_key) -> Client:
    return Client(**builders.bearer(carol_key[1]))


@pytest.fixture
def api_dave(dave) -> Client:
    _, full = builders.api_key(user=dave, scope="filter", name="dave's scans")
    return Client(**builders.bearer(full))


def samples_intake(*samples: dict) -> intake.Intake:
    return intake.read_samples(list(samples))


def jsonl(*lines) -> bytes:
    """JSON Lines bytes: dicts are dumped, strings kept as they are (for malformed lines)."""
    return b"".join((json.dumps(x) if isinstance(x, dict) else x).encode() + b"\n" for x in lines)


def jsonl_intake(data: bytes, name: str = "samples.jsonl") -> intake.Intake:
    return intake.read_jsonl(io.BytesIO(data), size=len(data), name=name)


@pytest.fixture
def scan(django_capture_on_commit_callbacks):
    """Create a scan and run it (eagerly, on commit); returns the job reloaded."""

    def _scan(source: intake.Intake, *, owner=None, organisation=None, **kw):
        with django_capture_on_commit_callbacks(execute=True):
            job = services.scan_create(intake=source, owner=owner, organisation=organisation, **kw)
        job.refresh_from_db()
        return job

    return _scan


@pytest.fixture
def small_chunks(settings):
    """Two samples per chunk, so a handful of samples make several chunks."""
    settings.REGISTRY = {**settings.REGISTRY, "SCAN_CHUNK_SIZE": 2}
