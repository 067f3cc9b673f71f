"""Helpers for the works tests: registering through the web form, with tasks run on commit."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from registry import engine

PROSE = """\
The lighthouse keeper wrote every evening in a ledger bound with green thread. She noted the
wind, the colour of the water at dusk, the ships that passed and the ones that should have passed
and did not. Over forty winters the ledger became a second coastline, drawn in ink instead of
rock, and the villagers came to read it the way other people read almanacs.

When the lamp was finally automated, the keeper carried the ledger down the hill and gave it to
the school. The children learned to find their grandparents' boats in its pages, and to tell a
storm from a squall by the way her handwriting leaned.
"""


@pytest.fixture(autouse=True)
def _fresh_matcher_cache():
    engine.reset_matcher_cache()
    yield
    engine.reset_matcher_cache()


@pytest.fixture
def register(client_alice, django_capture_on_commit_callbacks):
    """POST the register form as alice, running the fingerprint tasks queued on commit."""

    def post(client=None, *, preferences=None, **fields):
        data = {
            "title": "A work",
            "kind": "prose",
            "storage": "text",
            "licence": "",
            "attribution": "",
            "locations": "",
            "language": "",
            **fields,
        }
        for key in ("train-ai", "train-genai", "ai-use", "search", "attribution"):
            data[f"pref-pref_{key.replace('-', '_')}"] = (preferences or {}).get(key, "unset")
        with django_capture_on_commit_callbacks(execute=True):
            return (client or client_alice).post(reverse("works:register"), data)

    return post


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def form_errors(response) -> list[str]:
    """Every error message of the register form, field and non-field."""
    form = response.context["form"]
    return [message for messages in form.errors.values() for message in messages]
