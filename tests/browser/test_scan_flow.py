"""A batch scan in a real browser: upload, live progress to 100%, a matched sample, the downloads.

Alice is an author who also builds datasets: her works (modules of this Python's standard
library) are registered through the services, then she uploads a JSONL batch of "generated"
samples -- some copied from her works with identifiers renamed, some unrelated -- and follows
the scan on its page. The progress bar is driven by static/scans/progress.js polling the JSON
endpoint; the test waits on the bar's attributes (Playwright's auto-waiting `expect`), never on
a sleep. In the default pass the scan runs in-process during the upload request; in the server
pass a real Celery worker runs it while the page polls.

Every page is saved to tests/browser/screenshots/.
"""

from __future__ import annotations

import colorsys
import csv
import inspect
import json
import re
import shlex
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, wait_for

pytestmark = pytest.mark.browser

EMAIL = "alice@example.org"


def _renamed(source: str, renames: dict[str, str]) -> str:
    for old, new in renames.items():
        source = re.sub(rf"\b{old}\b", new, source)
    return source


def _samples() -> list[dict]:
    wrap = textwrap.dedent(inspect.getsource(textwrap.TextWrapper._wrap_chunks))
    token = textwrap.dedent("\n".join(inspect.getsource(shlex.shlex.read_token).splitlines()[:40]))
    return [
        {"id": "gen-wrap", "language": "python",
         "text": _renamed(wrap, {"chunks": "pieces"})},
        {"id": "gen-unrelated-1", "language": "python",
         "text": "def add(a, b):\n    return a + b\n\n\nprint(add(2, 3))\n"},
        {"id": "gen-token", "language": "python", "text": _renamed(token, {"nextchar": "ch"})},
        {"id": "gen-unrelated-2", "language": "python",
         "text": "import os\n\nfor name in sorted(os.listdir('.')):\n    print(name.upper())\n"},
        {"id": "gen-unrelated-3", "language": "javascript",
         "text": "export function clamp(x, lo, hi) {\n  return Math.min(hi, Math.max(lo, x));\n}\n"},
    ]  # fmt: skip


@pytest.fixture
def alice_with_works(transactional_db, background_work):
    """Alice (verified email) and three registered works, fingerprinted before the test goes on."""
    from allauth.account.models import EmailAddress

    from registry.works import services
    from registry.works.models import Document, Work
    from tests.factories import UserFactory

    alice = UserFactory(email=EMAIL, public_name="Alice Example")
    EmailAddress.objects.create(user=alice, email=EMAIL, verified=True, primary=True)
    for module, public in ((textwrap, True), (shlex, False), (colorsys, False)):
        path = Path(module.__file__)
        work = services.work_register(
            owner=alice,
            title=f"{path.stem} module",
            kind="code",
            source="file",
            prepared=services.prepare_file(name=path.name, data=path.read_bytes()),
            licence="MIT",
            attribution=f"Alice Example, {path.stem}",
        )
        if public:
            Work.objects.filter(pk=work.pk).update(text_public=True)
    wait_for(
        lambda: not Document.objects.exclude(state="ready").exists(),
        timeout=60,
        what="alice's works to be fingerprinted",
    )
    return alice


class _Parses(HTMLParser):
    """Feeds the whole report; records the text so the test can look for the sample in it."""

    def __init__(self):
        super().__init__()
        self.text: list[str] = []

    def handle_data(self, data):
        self.text.append(data)


def test_a_builder_scans_a_batch_watches_it_finish_and_downloads_the_reports(
    alice_with_works, page, screenshot, tmp_path
):
    batch = tmp_path / "generated.jsonl"
    batch.write_text("".join(json.dumps(s) + "\n" for s in _samples()))

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="Your works", exact=True)).to_be_visible()

    page.get_by_role("navigation").get_by_role("link", name="Scans").click()
    expect(page.get_by_role("heading", name="Scans", exact=True)).to_be_visible()
    screenshot(page, "scans-empty")

    page.get_by_role("link", name="New scan").click()
    page.get_by_label("Samples").set_input_files(str(batch))
    page.get_by_label("Name").fill("model run 7")
    screenshot(page, "new-scan")
    page.get_by_role("button", name="Start the scan").click()

    # The job page: the bar reaches 100% and the status "finished" (live, or already at load).
    expect(page.get_by_role("heading", name=re.compile("model run 7"))).to_be_visible()
    progress = page.locator("#progress")
    expect(progress).to_have_attribute("data-percent", "100", timeout=120_000)
    expect(progress).to_have_attribute("data-status", "finished")
    expect(progress.locator("progress")).to_have_attribute("value", "5")
    expect(progress).to_contain_text("5 / 5 samples")
    summary = page.locator("#summary")
    expect(summary).to_contain_text("2 matched")
    expect(summary).to_contain_text("MIT")
    matched = page.locator("#matched")
    expect(matched).to_contain_text("gen-wrap")
    expect(matched).to_contain_text("gen-token")
    expect(matched).not_to_contain_text("gen-unrelated")
    screenshot(page, "job-finished")

    # The three downloads, each parsed and holding the matched sample.
    files = {}
    for label, fmt in (("JSON Lines", "jsonl"), ("CSV", "csv"), ("HTML report", "html")):
        with page.expect_download() as info:
            summary.get_by_role("link", name=label, exact=True).click()
        files[fmt] = Path(info.value.path()).read_text(encoding="utf-8")
        assert info.value.suggested_filename.endswith(f".{fmt}")

    rows = [json.loads(line) for line in files["jsonl"].splitlines() if line.strip()]
    by_id = {row["id"]: row for row in rows}
    assert set(by_id) == {s["id"] for s in _samples()}
    assert by_id["gen-wrap"]["matched"] and by_id["gen-wrap"]["matches"][0]["title"] == "textwrap module"
    assert not by_id["gen-unrelated-1"]["matched"]

    table = list(csv.DictReader(files["csv"].splitlines()))
    wrap_rows = [r for r in table if r["sample_id"] == "gen-wrap"]
    assert wrap_rows and wrap_rows[0]["title"] == "textwrap module" and wrap_rows[0]["licence"] == "MIT"

    parser = _Parses()
    parser.feed(files["html"])
    parser.close()
    text = " ".join(parser.text)
    assert "gen-wrap" in text and "textwrap module" in text

    # A matched sample: its lines highlighted, and textwrap's registered lines beside them
    # (alice keeps the text and made it public).
    matched.get_by_role("link", name="gen-wrap").click()
    expect(page.get_by_role("heading", name=re.compile("Sample gen-wrap"))).to_be_visible()
    card = page.get_by_role("region", name="Match with textwrap module")
    expect(card.get_by_role("heading", name="The registered lines")).to_be_visible()
    expect(card.locator(".line.hit").first).to_be_visible()
    expect(card.get_by_label("Sample lines")).to_contain_text("pieces")  # the sample's renamed text
    expect(card.get_by_label("Registered lines")).to_contain_text("chunks")  # the original, beside it
    screenshot(page, "sample")

    # shlex's text is private: the token sample's page shows line numbers only.
    page.go_back()
    page.locator("#matched").get_by_role("link", name="gen-token").click()
    card = page.get_by_role("region", name="Match with shlex module")
    expect(card).to_contain_text("keeps the registered text private")
    expect(card.get_by_role("heading", name="The registered lines")).to_have_count(0)
    screenshot(page, "sample-private")

    page.get_by_role("navigation").get_by_role("link", name="Scans").click()
    expect(page.get_by_role("row").filter(has_text="model run 7")).to_contain_text("Finished")
    screenshot(page, "scans-list")
    page.get_by_role("link", name="Webhook secret").click()
    expect(page.get_by_role("heading", name="Webhook secret")).to_be_visible()
    screenshot(page, "webhook-secret")
