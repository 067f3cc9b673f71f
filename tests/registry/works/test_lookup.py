"""The public lookup page: finds copies, shows what owners allow, never shows a registered text."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest
from django.urls import reverse

from tests.registry.works.conftest import PROSE, upload

TEXTWRAP = (Path(sysconfig.get_paths()["stdlib"]) / "textwrap.py").read_text()


@pytest.fixture
def alices_code(alice, register):
    register(
        title="Alice's wrapper",
        kind="code",
        file=upload("textwrap.py", TEXTWRAP.encode()),
        licence="PSF-2.0",
        attribution="textwrap by Alice Example",
        locations="https://github.com/alice/wrapper",
        preferences={"train-ai": "no", "search": "yes"},
    )


def lookup(client, **data):
    return client.post(reverse("works:lookup"), {"text": "", "url": "", "kind": "", "language": "", **data})


def test_the_lookup_page_needs_no_login(client, db):
    assert client.get(reverse("works:lookup")).status_code == 200


def test_a_modified_snippet_of_a_registered_work_is_found_with_its_preferences(client, alices_code):
    lines = TEXTWRAP.splitlines()[120:170]
    snippet = "\n".join(line.replace("chunks", "pieces") for line in lines)
    response = lookup(client, text=snippet)
    [result] = response.context["results"]
    assert result.work.title == "Alice's wrapper"
    assert result.owner_name == "Alice Example"
    assert result.match_kind in ("snippet", "near-duplicate")
    assert result.sample_lines
    assert result.preferences["train-ai"].value == "no"
    assert result.preferences["train-genai"].value == "no"  # inherited from train-ai
    assert result.preferences["search"].value == "yes"
    page = response.content.decode()
    for shown in (
        "Alice&#x27;s wrapper",
        "Alice Example",
        "PSF-2.0",
        "textwrap by Alice Example",
        "train-genai",
    ):
        assert shown in page


def test_the_page_never_contains_registered_lines_the_visitor_did_not_paste(client, alices_code):
    lines = TEXTWRAP.splitlines()
    snippet = "\n".join(lines[200:240])
    page = lookup(client, text=snippet).content.decode()
    assert "Alice&#x27;s wrapper" in page
    pasted = {line.strip() for line in lines[200:240]}
    from django.utils.html import escape

    leaked = [
        line
        for line in lines
        if len(line.strip()) > 25 and line.strip() not in pasted and escape(line.strip()) in page
    ]
    assert leaked == []


def test_a_reworded_paragraph_of_a_registered_prose_work_is_found(client, alice, register):
    register(title="The ledger", kind="prose", text=PROSE, preferences={"train-genai": "no"})
    first = PROSE.split("\n\n")[0].replace("green thread", "GREEN thread").replace("forty", "forty-one")
    response = lookup(client, text=first)
    [result] = response.context["results"]
    assert result.work.title == "The ledger"
    assert result.preferences["train-genai"].value == "no"
    page = response.content.decode()
    assert "carried the ledger down the hill" not in page  # the second paragraph stays private


def test_an_unrelated_snippet_matches_nothing(client, alices_code):
    response = lookup(client, text="SELECT name FROM users WHERE id = 1;\n" * 3)
    assert response.context["results"] == []
    assert "No registered work matches." in response.content.decode()


def test_a_url_under_a_registered_repository_finds_the_work(client, alices_code):
    response = lookup(client, url="https://www.GitHub.com/alice/wrapper/blob/main/textwrap.py")
    [result] = response.context["results"]
    assert result.work.title == "Alice's wrapper" and result.match_kind == "location"


def test_the_canonical_url_itself_finds_the_work_in_any_spelling(client, alices_code):
    for url in (
        "github.com/alice/wrapper",
        "http://github.com/alice/wrapper.git",
        "git@github.com:alice/wrapper.git",
    ):
        assert len(lookup(client, url=url).context["results"]) == 1, url


def test_an_invalid_url_is_a_form_error(client, db):
    response = lookup(client, url="http://exa mple")
    assert response.context["form"].errors["url"] == ["'http://exa mple' is not a valid URL or domain."]


def test_an_empty_lookup_asks_for_input(client, db):
    response = lookup(client)
    assert response.context["form"].non_field_errors() == ["Paste a snippet or enter a URL to look up."]
