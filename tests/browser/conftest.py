"""Real-browser tests: Playwright's sync API driving Debian's Chromium against `live_server`.

Chromium comes from Debian's `chromium` package, never from `playwright install` (that downloads
a browser build of its own, which this project's machines cannot fetch). If /usr/bin/chromium is
missing, the `chromium` fixture installs it with apt-get, once, under a file lock so parallel
pytest-xdist processes do not run apt twice. That needs root, which CI and the development
machines are; elsewhere the fixture fails with the command to run.

`live_server` (pytest-django) serves the app from a thread of this process with a transactional
database, so data the browser creates is committed and visible to this test and to a Celery
worker, and mail sent by the app lands in `mailoutbox`.
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SERVER_PASS

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"  # gitignored
# Headless and quiet: the machines' network is closed, and Chromium's background connections
# (updates, sync, safe browsing) would each fail, slowly, at every start.
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",  # /dev/shm is small in containers
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def _install_chromium() -> None:
    lock_path = Path(tempfile.gettempdir()) / "registry-tests-chromium.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if CHROMIUM.exists():  # another xdist process installed it while this one waited
            return
        if os.geteuid() != 0:
            pytest.fail(f"{CHROMIUM} is missing; install it with: sudo apt-get install -y chromium")
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
            result = subprocess.run(
                command,
                env=environment,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=1200,
            )
            if result.returncode != 0:
                pytest.fail(f"`{' '.join(command)}` failed ({result.returncode}):\n{result.stderr[-3000:]}")


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, installed with apt-get if it is missing (see the module docstring)."""
    if not CHROMIUM.exists():
        _install_chromium()
    return CHROMIUM


@pytest.fixture
def page(chromium: Path, live_server) -> Iterator:
    """A fresh Playwright page on a fresh browser, with `base_url` set to the live server.

    Playwright is started per test, not per session: while its sync API is running it keeps an
    asyncio event loop in this thread, and Django refuses ORM calls from a thread with a running
    loop (SynchronousOnlyOperation), even though our calls here are plain synchronous ones. So
    DJANGO_ALLOW_ASYNC_UNSAFE is set only while the browser runs, and later tests in the session
    get Django's check back.
    """
    from playwright.sync_api import sync_playwright

    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
            )
            context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
            context.set_default_timeout(20_000)
            page = context.new_page()
            try:
                yield page
            finally:
                context.close()
                browser.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture
def screenshot(request: pytest.FixtureRequest):
    """`screenshot(page, "name")` saves tests/browser/screenshots/<test>-NN-name.png (full page)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    counter = iter(range(1, 100))
    prefix = re.sub(r"[^\w-]+", "_", request.node.name)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{prefix}-{next(counter):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def background_work(request: pytest.FixtureRequest) -> Iterator[str]:
    """Where the live server's background tasks run: in-process by default, and in the server
    pass on the real Celery worker (the live server's data is committed, so the worker sees it).
    """
    if not SERVER_PASS:
        yield "eager"
        return
    from registry.celery import app

    request.getfixturevalue("celery_worker")
    before = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield "worker"
    app.conf.task_always_eager = before
