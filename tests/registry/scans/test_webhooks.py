"""The signed "scan finished" webhook, delivered to a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from registry.scans import webhooks
from registry.scans.models import ScanJob

from .conftest import PROSE, samples_intake


class _Receiver:
    """A local HTTP server that records what it received and answers the queued statuses."""

    def __init__(self, statuses=(200,), headers=None):
        self.requests: list[tuple[dict, bytes]] = []
        self.statuses = list(statuses)
        receiver = self
        extra_headers = dict(headers or {})

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                for name, value in extra_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/scan"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver(settings):
    """A receiver on 127.0.0.1, which this deployment allows (webhook_targets refuses loopback
    addresses unless REGISTRY["WEBHOOK_ALLOW_PRIVATE"] is on)."""
    settings.REGISTRY = {**settings.REGISTRY, "WEBHOOK_ALLOW_PRIVATE": True}
    made = []

    def make(statuses=(200,)):
        made.append(_Receiver(statuses))
        return made[-1]

    yield make
    for r in made:
        r.close()


def test_a_finished_job_posts_a_summary_signed_with_the_shown_secret(
    carol, acme, alice_prose, scan, receiver
):
    hook = receiver()
    job = scan(samples_intake({"id": "a", "text": PROSE}), organisation=acme, webhook_url=hook.url)

    [(headers, body)] = hook.requests
    secret = webhooks.webhook_secret(account=acme)  # what the API and settings page show
    assert webhooks.verify(body, headers["X-Registry-Signature"], secret)
    assert not webhooks.verify(body, headers["X-Registry-Signature"], webhooks.webhook_secret(account=carol))
    data = json.loads(body)
    assert data["event"] == "scan.finished" and data["scan"]["id"] == job.public_id
    assert data["scan"]["matched"] == 1 and data["summary"]["by_work"][0]["work"] == alice_prose.public_id
    assert PROSE[:40] not in body.decode()  # never the sample text
    job.refresh_from_db()
    assert job.webhook_delivered_at is not None and job.webhook_status == "HTTP 200"


def test_the_secret_is_derived_from_the_secret_key_and_not_stored(carol, settings):
    from registry.scans.models import ScanAccountSettings

    first = webhooks.webhook_secret(account=carol)
    assert not ScanAccountSettings.objects.exists()
    settings.SECRET_KEY = "another environment"
    assert webhooks.webhook_secret(account=carol) != first


def test_a_rotated_secret_no_longer_verifies_old_signatures(carol):
    old = webhooks.webhook_secret(account=carol)
    new = webhooks.webhook_secret_rotate(account=carol)
    body = b'{"event":"scan.finished"}'
    assert new != old and not webhooks.verify(body, webhooks.sign(body, old), new)


def test_a_failed_delivery_is_retried_until_the_receiver_accepts(carol, alice_prose, receiver, scan):
    hook = receiver(statuses=(500, 503, 200))
    job = scan(samples_intake({"text": PROSE}), owner=carol, webhook_url=hook.url)
    assert len(hook.requests) == 3
    bodies = {body for _, body in hook.requests}
    assert len(bodies) == 1  # the same signed body each time
    job.refresh_from_db()
    assert job.webhook_status == "HTTP 200"


def test_an_unreachable_receiver_is_given_up_after_the_retries(carol, alice_prose, scan, settings):
    settings.REGISTRY = {**settings.REGISTRY, "WEBHOOK_ALLOW_PRIVATE": True}
    job = scan(samples_intake({"text": PROSE}), owner=carol, webhook_url="http://127.0.0.1:9/nothing-listens")
    job.refresh_from_db()
    assert job.status == ScanJob.Status.FINISHED  # the job itself is unaffected
    assert job.webhook_delivered_at is None and job.webhook_status.startswith("gave up: could not reach")
