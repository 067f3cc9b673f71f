"""The whole author flow in a real browser, as the issue's acceptance describes it.

A new author signs up, verifies the address from the email, logs in, names herself, registers a
pasted text and an uploaded repository archive, says "no" to generative-AI training, sees both
works ready on the dashboard; then, logged out, a dataset builder finds one of them on the public
lookup page from a snippet whose identifiers were renamed. Every page is saved as a screenshot in
tests/browser/screenshots/.

Selectors are labels, roles and visible text (what a user sees), not CSS classes.
"""

from __future__ import annotations

import bisect
import colorsys
import inspect
import re
import shlex
import textwrap
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

EMAIL = "dora@example.org"
PASSWORD = "a long and unusual passphrase"
# Real code for the two works: modules of this Python's standard library.
PASTED_MODULE = Path(textwrap.__file__)
ARCHIVED_MODULES = {f"toolkit/{Path(m.__file__).name}": Path(m.__file__) for m in (shlex, colorsys, bisect)}


def _archive(tmp_path: Path) -> Path:
    path = tmp_path / "toolkit.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, source in ARCHIVED_MODULES.items():
            archive.writestr(name, source.read_text())
    return path


def _renamed_snippet() -> str:
    """40 lines of shlex's tokenizer (in the archive) with three identifiers renamed, as a
    builder would find it pasted into someone else's project."""
    lines = inspect.getsource(shlex.shlex.read_token).splitlines()[:40]
    snippet = textwrap.dedent("\n".join(lines))
    for old, new in (("nextchar", "ch"), ("escapedstate", "esc_mode"), ("quoted", "in_quotes")):
        snippet = re.sub(rf"\b{old}\b", new, snippet)
    assert "nextchar" not in snippet
    return snippet


def _link(message_body: str, containing: str) -> str:
    for url in re.findall(r"https?://\S+", message_body):
        if containing in url:
            return url
    raise AssertionError(f"no link containing {containing!r} in:\n{message_body}")


def _register(page, *, title: str, text: str | None = None, file: Path | None = None) -> None:
    page.get_by_role("link", name="Register a work").first.click()
    page.get_by_label("Title").fill(title)
    page.get_by_label("Kind").select_option("code")
    if text is not None:
        page.get_by_role("textbox", name=re.compile(r"^Text")).fill(text)
    if file is not None:
        page.get_by_label("File").set_input_files(str(file))
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text(f"Registered “{title}”")).to_be_visible()


def test_an_author_signs_up_registers_works_and_a_builder_finds_one(
    background_work, page, screenshot, mailoutbox, tmp_path
):
    # Sign up, and verify the address from the email.
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    screenshot(page, "signup")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    screenshot(page, "verification-sent")

    assert [message.to for message in mailoutbox] == [[EMAIL]]
    page.goto(_link(mailoutbox[0].body, "/accounts/confirm-email/"))
    screenshot(page, "confirm-email")
    page.get_by_role("button", name="Confirm").click()

    # Log in.
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    screenshot(page, "login")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="Your works", exact=True)).to_be_visible()

    # The name builders will see.
    page.get_by_role("link", name="Account").click()
    page.get_by_label("Public name").fill("Dora Example")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Your public name is saved.")).to_be_visible()
    screenshot(page, "profile")

    # A pasted text and an uploaded archive.
    _register(page, title="Text wrapping helpers", text=PASTED_MODULE.read_text())
    screenshot(page, "registered-text")
    _register(page, title="Toolkit repository", file=_archive(tmp_path))
    screenshot(page, "registered-archive")

    # No generative-AI training, for all of Dora's works.
    page.get_by_role("link", name="Default preferences").first.click()
    page.get_by_role("group", name="Generative AI training").get_by_label("No").check()
    page.get_by_role("button", name="Record").click()
    screenshot(page, "default-preferences")

    # Both works are fingerprinted (in-process, or by the worker in the server pass).
    page.get_by_role("link", name="Dashboard").click()
    for title in ("Text wrapping helpers", "Toolkit repository"):
        row = page.get_by_role("row").filter(has_text=title)
        for _ in range(60):
            if row.get_by_text("ready", exact=True).count():
                break
            page.wait_for_timeout(500)
            page.reload()
        expect(row.get_by_text("ready", exact=True)).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Toolkit repository")).to_contain_text("train-genai: no")
    screenshot(page, "dashboard")

    # Logged out, a dataset builder pastes a snippet with renamed identifiers.
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Lookup").click()
    page.get_by_label("Snippet").fill(_renamed_snippet())
    page.get_by_role("button", name="Look up").click()
    # The card around the result's heading.
    result = page.get_by_role("heading", name="Toolkit repository").locator("xpath=..")
    expect(result).to_be_visible()
    expect(result).to_contain_text("By Dora Example")
    expect(result).to_contain_text("toolkit/shlex.py")
    expect(result.get_by_role("row").filter(has_text="train-genai")).to_contain_text("no")
    screenshot(page, "lookup")
