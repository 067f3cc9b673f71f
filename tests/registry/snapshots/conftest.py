"""Works registered through the real services (fingerprinted on commit), and snapshot helpers."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from registry import engine
from registry.works import services as works
from tests.registry.works.builders import PYTHON_FILE

ALICE_CODE = PYTHON_FILE.decode()
BOB_PROSE = """\
The lighthouse keeper wrote every evening in a ledger bound with green thread. She noted the
wind, the colour of the water at dusk, the ships that passed and the ones that should have passed
and did not. Over forty winters the ledger became a second coastline, drawn in ink instead of
rock, and the villagers came to read it the way other people read almanacs.
"""
FREE_TEXT = """\
A recipe for bread: flour, water, salt and time. Mix, rest, fold, rest again, shape it and
leave it overnight in a cold place; bake it hot in a covered pot and let it cool before cutting.
Nothing more is needed, and nothing less will do, whatever the shop on the corner says.
"""


@pytest.fixture(autouse=True)
def _snapshot_settings(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    settings.REGISTRY = {**settings.REGISTRY, "SNAPSHOT_CHANGE_WINDOW_SECONDS": 0, "MATCHER_CHECK_SECONDS": 0}
    engine.reset_matcher_cache()
    yield
    engine.reset_matcher_cache()


@pytest.fixture
def register(django_capture_on_commit_callbacks):
    """Register a work through the services, running its fingerprint tasks."""

    def make(owner, *, title, text, kind, preferences=None, locations=(), name="text"):
        with django_capture_on_commit_callbacks(execute=True):
            return works.work_register(
                owner=owner,
                title=title,
                kind=kind,
                source="text",
                prepared=works.prepare_text(text=text, name=name),
                locations=locations,
                preferences=preferences,
                attribution=f"{title} by {owner.display_name}",
            )

    return make


def untar(data: bytes, dest: Path) -> Path:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(dest, filter="data")
    return dest / "snapshot"
