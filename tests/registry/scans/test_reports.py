"""Reports: what of a registered work may be shown, escaping, self-containment, matched-only."""

from __future__ import annotations

import re

from registry.scans import reports

from .conftest import PROSE, TEXTWRAP, UNRELATED, samples_intake

XSS = "<script>alert('x')</script>"


def _html(job) -> str:
    return "".join(reports.render_html(job))


def test_the_html_report_escapes_every_text_and_loads_nothing_from_outside(carol, alice, register, scan):
    work = register(alice, PROSE, title=f"Ledger {XSS}", kind="prose", attribution=f"by {XSS}")
    job = scan(samples_intake({"id": XSS, "text": PROSE + XSS + "\n"}), owner=carol, name=XSS)
    html = _html(job)
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert not re.search(r"(src|href)\s*=", html, re.I) and "http" not in html.split("<body>")[1]
    assert "<style>" in html and work.public_id in html


def test_the_registered_lines_are_shown_only_when_the_text_is_kept_and_public(carol, alice, register, scan):
    work = register(
        alice, TEXTWRAP, title="Text wrapping", kind="code", path="textwrap.py", language="python"
    )
    registered_line = "class TextWrapper:"
    sample = TEXTWRAP.replace("TextWrapper", "Wrapper")  # a renamed copy: its own text differs

    job = scan(samples_intake({"id": "copy", "text": sample, "language": "python"}), owner=carol)
    assert job.matched == 1
    assert registered_line not in _html(job)

    work.text_public = True
    work.save()
    job = scan(samples_intake({"id": "copy", "text": sample, "language": "python"}), owner=carol)
    html = _html(job)
    assert registered_line in html and "shown with its owner's permission" in html

    # Public, but the owner stopped keeping the text: never shown, even from this older job.
    work.documents.update(text=None)
    assert registered_line not in _html(job)
    work.storage = "fingerprints"
    work.save()
    assert registered_line not in "".join(reports.render_jsonl(job)) + "".join(reports.render_csv(job))


def test_the_html_report_lists_matched_samples_only_with_their_lines_highlighted(carol, alice_prose, scan):
    job = scan(
        samples_intake({"id": "copied", "text": "Intro line.\n" + PROSE}, {"id": "bees", "text": UNRELATED}),
        owner=carol,
    )
    html = _html(job)
    assert 'id="sample-0"' in html and 'id="sample-1"' not in html
    assert "waggle dance" not in html
    assert re.search(r'class="line hit"><span class="n">2</span>The lighthouse keeper', html)


def test_failed_samples_are_listed_with_their_reason(carol, db, scan):
    job = scan(samples_intake({"id": "nul", "text": "a\x00b"}), owner=carol)
    assert "the text looks binary" in _html(job)


def test_downloads_stream_from_an_iterator(carol, alice_prose, scan, django_assert_max_num_queries):
    job = scan(samples_intake(*({"id": str(i), "text": PROSE} for i in range(30))), owner=carol)
    response = reports.streaming_report(job, "jsonl")
    assert response.streaming
    with django_assert_max_num_queries(3):
        assert len(b"".join(response.streaming_content).splitlines()) == 30
