"""Preference exports: Content-Usage, TDMRep and robots.txt, exactly, for a fixture work."""

from __future__ import annotations

import pytest
from django.urls import reverse

from registry.preferences import exports
from registry.preferences.services import preference_set
from registry.works import services

PROSE = "The lighthouse keeper wrote every evening in a ledger bound with green thread.\n" * 5


@pytest.fixture
def ledger(alice, settings, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://registry.example"
    with django_capture_on_commit_callbacks(execute=True):
        return services.work_register(
            owner=alice, title="The ledger", kind="prose", source="text",
            prepared=services.prepare_text(text=PROSE),
            locations=["https://alice.example.org/ledger/", "https://github.com/alice/ledger"],
            preferences={"train-ai": "no", "search": "yes"},
        )  # fmt: skip


def test_the_content_usage_field_lists_stated_categories_as_y_and_n():
    assert exports.content_usage(
        {"train-ai": "no", "train-genai": "no", "ai-use": "unset", "search": "yes"}
    ) == ("train-ai=n, train-genai=n, search=y")
    assert exports.content_usage({"train-ai": "unset", "attribution": "yes"}) == ""


def test_a_works_export_is_exact(ledger):
    url = f"https://registry.example/api/v1/works/{ledger.public_id}/preferences/export"
    export = exports.work_export(ledger).to_dict()
    assert export == {
        "preferences": {
            "train-ai": "no", "train-genai": "no", "ai-use": "unset", "search": "yes", "attribution": "unset",
        },
        "paths": ["/ledger"],
        "content_usage": "train-ai=n, train-genai=n, search=y",
        "headers": {
            "Content-Usage": "train-ai=n, train-genai=n, search=y",
            "tdm-reservation": "1",
            "tdm-policy": url,
        },
        "tdmrep": [{"location": "/ledger", "tdm-reservation": 1, "tdm-policy": url}],
        "robots_txt": (
            f"# AI preferences for \u201cThe ledger\u201d, as registered at {url}\n"
            "User-Agent: *\n"
            "Content-Usage: /ledger train-ai=n, train-genai=n, search=y\n"
            "\n"
            "# OpenAI, training generative models (train-genai=n)\n"
            "User-Agent: GPTBot\n"
            "# Anthropic, training generative models (train-genai=n)\n"
            "User-Agent: ClaudeBot\n"
            "# Google, Gemini training and grounding (train-genai=n)\n"
            "User-Agent: Google-Extended\n"
            "# Apple, training generative models (train-genai=n)\n"
            "User-Agent: Applebot-Extended\n"
            "# Meta, training generative models (train-genai=n)\n"
            "User-Agent: Meta-ExternalAgent\n"
            "# ByteDance, training generative models (train-genai=n)\n"
            "User-Agent: Bytespider\n"
            "# Common Crawl, an open crawl used for AI training (train-ai=n, train-genai=n)\n"
            "User-Agent: CCBot\n"
            "Disallow: /ledger\n"
        ),
    }  # fmt: skip


def test_without_a_refusal_nothing_is_reserved_or_disallowed():
    export = exports.Export(values={"search": "yes"}, paths=("/",))
    assert export.headers == {"Content-Usage": "search=y", "tdm-reservation": "0"}
    assert export.tdmrep == [{"location": "/", "tdm-reservation": 0}]
    assert export.robots_txt == "User-Agent: *\nContent-Usage: / search=y\n"


def test_an_ai_use_refusal_disallows_the_crawlers_that_answer_users():
    robots = exports.robots_txt({"ai-use": "no"}, ["/"])
    agents = [line.split(": ")[1] for line in robots.splitlines() if line.startswith("User-Agent: ")]
    assert agents == ["*", "Google-Extended", "ChatGPT-User", "Claude-User", "Perplexity-User"]


def test_a_path_with_spaces_is_percent_encoded_and_a_title_cannot_add_lines():
    robots = exports.robots_txt({"search": "no"}, ["/my notes"], comment="line\nDisallow: /")
    assert robots.splitlines()[:3] == [
        "# line Disallow: /",
        "User-Agent: *",
        "Content-Usage: /my%20notes search=n",
    ]


def test_the_work_export_endpoint_is_public_and_holds_no_text(ledger, client):
    response = client.get(reverse("api:work-preferences-export", kwargs={"public_id": ledger.public_id}))
    assert response.status_code == 200
    assert response.json()["content_usage"] == "train-ai=n, train-genai=n, search=y"
    assert "lighthouse" not in response.content.decode()


def test_an_unknown_work_is_a_json_404(client, db):
    response = client.get("/api/v1/works/nosuchwork/preferences/export")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_my_export_gives_the_callers_defaults(alice, client_alice, client):
    preference_set(owner=alice, values={"train-genai": "no"})
    answer = client_alice.get("/api/v1/me/preferences/export").json()
    assert answer["content_usage"] == "train-genai=n"
    assert answer["paths"] == ["/"] and "tdm-policy" not in answer["headers"]
    response = client.get("/api/v1/me/preferences/export")
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


def test_the_work_page_and_the_defaults_page_show_copyable_exports(ledger, client_alice):
    page = client_alice.get(ledger.get_absolute_url()).content.decode()
    assert 'id="export"' in page and "Content-Usage: /ledger train-ai=n, train-genai=n, search=y" in page
    assert "&quot;tdm-reservation&quot;: 1" in page
    page = client_alice.get(reverse("preferences:defaults")).content.decode()
    assert 'id="export"' in page and "tdm-reservation: 0" in page
