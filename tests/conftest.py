"""Fixtures shared by every registry test: personas, and the two passes the suite runs in.

The two passes
--------------
- Default (nothing set): SQLite and Celery's eager mode, so `python -m pytest` on a fresh clone
  needs no server. Everything must pass here.
- Server pass (`.ci/run` sets REGISTRY_TEST_SERVERS=1, DATABASE_URL=postgres://...,
  CELERY_BROKER_URL=redis://...): the same suite on PostgreSQL, plus the tests marked `worker`,
  which run against a real `celery -A registry worker` subprocess. A missing server there is a
  failure at session start, never a skip: a green server pass must mean the servers were used.

The rule for background work (read this before writing a test that enqueues a task)
-------------------------------------------------------------------------------------
1. By default every test runs tasks eagerly, in its own thread: the autouse `_eager_tasks`
   fixture switches the Celery app to eager for every test NOT marked `worker`, in both passes.
   Nothing to do for such tests, with one catch: a task sent with `transaction.on_commit` /
   `delay_on_commit` inside the `db` fixture's transaction never runs, because that transaction
   is rolled back, not committed. Wrap the call in
   `django_capture_on_commit_callbacks(execute=True)` (pytest-django), or use `transactional_db`.
2. A test that must see a real worker process the task (the queue, the worker's own database
   connection, acks, retries) marks itself `@pytest.mark.worker` and uses the `transactional_db`
   and `celery_worker` fixtures: the worker reads what the test committed, so the test's data must
   really be committed. Such a test polls the database for the result (see `wait_for`). It skips
   in the default pass with "needs the server pass (REGISTRY_TEST_SERVERS=1)". Using the
   `celery_worker` fixture marks a test `worker` automatically.

Under pytest-xdist each xdist process has its own test database (pytest-django adds the `gw`
suffix), so each gets its own Celery worker and its own queue name: no worker ever takes a
task that belongs to another process's database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.factories import UserFactory

BASE_DIR = Path(__file__).resolve().parent.parent
SERVER_PASS = os.environ.get("REGISTRY_TEST_SERVERS") == "1"
NEEDS_SERVER_PASS = "needs the server pass (REGISTRY_TEST_SERVERS=1)"
PASSWORD = "correct horse battery staple"  # what tests.factories.UserFactory sets

T = TypeVar("T")


# --- The server pass: check the servers before any test runs --------------------------------


def _server_problems() -> list[str]:
    """What is wrong with the server pass's PostgreSQL and Redis, as sentences (empty if fine)."""
    from django.conf import settings

    problems = []
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        problems.append(
            f"DATABASE_URL must point at PostgreSQL in the server pass; the engine is {database['ENGINE']}."
        )
    else:
        import psycopg

        try:
            # The maintenance database: the registry's own may not exist yet, pytest-django makes
            # test_<name> from this connection.
            psycopg.connect(
                dbname="postgres",
                user=database["USER"],
                password=database["PASSWORD"] or None,
                host=database["HOST"] or None,
                port=database["PORT"] or None,
                connect_timeout=5,
            ).close()
        except psycopg.Error as exc:
            problems.append(f"PostgreSQL at {database['HOST']}:{database['PORT']} does not answer: {exc}")

    broker = settings.CELERY_BROKER_URL
    if not broker:
        problems.append("CELERY_BROKER_URL must be set in the server pass.")
    else:
        from kombu import Connection

        try:
            with Connection(broker, connect_timeout=5) as connection:
                connection.ensure_connection(max_retries=1)
        except Exception as exc:  # kombu raises the transport's own errors
            problems.append(f"The Celery broker {broker} does not answer: {exc}")
    return problems


def pytest_sessionstart(session: pytest.Session) -> None:
    if not SERVER_PASS:
        return
    problems = _server_problems()
    if problems:
        pytest.exit("REGISTRY_TEST_SERVERS=1 but the servers are not usable:\n  " + "\n  ".join(problems), 1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "celery_worker" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("worker"):
            item.add_marker(pytest.mark.worker)
        if not SERVER_PASS and item.get_closest_marker("worker"):
            item.add_marker(pytest.mark.skip(reason=NEEDS_SERVER_PASS))


# --- Background work --------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _eager_tasks(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run tasks in-process for every test not marked `worker` (rule 1 in the module docstring).

    Celery copies Django's settings into `app.conf` once, so overriding
    `settings.CELERY_TASK_ALWAYS_EAGER` would not reach it: the app's own conf is switched.
    """
    if request.node.get_closest_marker("worker"):
        yield
        return
    from registry.celery import app

    before = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


def _xdist_name(request: pytest.FixtureRequest) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


def _database_url_for(name: str) -> str:
    """DATABASE_URL with its database name replaced (the worker must use the TEST database)."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(scope="session")
def celery_worker(
    request: pytest.FixtureRequest, django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[subprocess.Popen]:
    """A real `celery -A registry worker` on the test database, for the whole session.

    Depends on `django_db_setup` so the test database exists (and is migrated) before the worker
    connects, and is stopped before pytest-django drops that database.
    """
    if not SERVER_PASS:
        pytest.skip(NEEDS_SERVER_PASS)
    from django.db import connections

    from registry.celery import app

    name = _xdist_name(request)
    queue = f"registry-test-{name}"
    node = f"registry-test-{name}@{os.uname().nodename}"
    test_database = connections["default"].settings_dict["NAME"]
    # The Router reads task_default_queue on every send, so this takes effect at once.
    app.conf.task_default_queue = queue

    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    environment = {
        **os.environ,
        "DATABASE_URL": _database_url_for(test_database),
        "CELERY_BROKER_URL": os.environ["CELERY_BROKER_URL"],
        # tasks the worker itself sends (a finished scan's webhook, a resume) go to its own queue
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "PYTHONUNBUFFERED": "1",
    }
    # Set while a browser test runs (tests/browser/conftest.py); the worker must keep Django's check.
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    command = [
        sys.executable, "-m", "celery", "-A", "registry", "worker",
        "--pool", "prefork", "-c", "2", "-l", "info",
        "-n", node, "-Q", queue,
        "--purge",  # tasks left in the queue by an earlier, interrupted run would hit the wrong rows
        "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip

    def log_tail() -> str:
        return "\n".join(log_path.read_text(errors="replace").splitlines()[-40:])

    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[node], timeout=0.5):
            if process.poll() is not None:
                pytest.fail(f"The Celery worker exited with {process.returncode}:\n{log_tail()}")
            if time.monotonic() > deadline:
                pytest.fail(f"The Celery worker did not answer a ping within 60 s:\n{log_tail()}")
        yield process
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """Warm shutdown (SIGTERM lets running tasks finish), then the whole process group."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for(check: Callable[[], T], *, timeout: float = 30, interval: float = 0.1, what: str = "") -> T:
    """Poll `check()` until it returns something truthy; fail with `what` after `timeout` seconds.

    For worker tests: the result of background work appears in the database some time later.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out after {timeout} s waiting for {what or check}")
        time.sleep(interval)


# --- Shared state between tests ---------------------------------------------------------------


@pytest.fixture(autouse=True)
def _keep_the_test_connection_open() -> Iterator[None]:
    """Tests that call the real WSGI application (schemathesis' `from_wsgi`) fire
    request_started/request_finished, whose `close_old_connections` closes the connection the
    test's transaction runs on -- on PostgreSQL; SQLite's in-memory test database ignores the
    close, so only the server pass would see it. Django's own test client disconnects it the same
    way for every request it makes."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    """allauth's rate limits (sign-ups, logins per IP) count in the cache; start every test at 0."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_policy_cache() -> Iterator[None]:
    """registry/filtering/policy_cache.py keeps works' policies per process, checked against the
    change log; each test's database starts again from the same ids, so start with it empty."""
    from registry.filtering.policy_cache import reset_policy_cache

    reset_policy_cache()
    yield
    reset_policy_cache()


@pytest.fixture(autouse=True)
def _matcher_checks_every_lookup(settings) -> None:
    """registry/engine.py checks for new fingerprints at most once a second per process; a test
    that registers a work and looks it up at once needs the check on every lookup."""
    settings.REGISTRY = {**settings.REGISTRY, "MATCHER_CHECK_SECONDS": 0}


# --- Personas ---------------------------------------------------------------------------------


def _persona(email: str, public_name: str):
    from allauth.account.models import EmailAddress

    user = UserFactory(email=email, public_name=public_name)
    # As if they had signed up and clicked the link: allauth refuses unverified logins.
    EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


@pytest.fixture
def alice(db):
    """An author with a verified email; password: tests.conftest.PASSWORD."""
    return _persona("alice@example.org", "Alice Example")


@pytest.fixture
def bob(db):
    """Another author, for "cannot see or change someone else's work"."""
    return _persona("bob@example.org", "Bob Example")


@pytest.fixture
def carol(db):
    """A dataset builder: no works of her own; she looks things up."""
    return _persona("carol@example.org", "")


@pytest.fixture
def client_alice(alice):
    """A test client logged in as alice (separate from the plain `client`)."""
    from django.test import Client

    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def client_bob(bob):
    from django.test import Client

    client = Client()
    client.force_login(bob)
    return client
