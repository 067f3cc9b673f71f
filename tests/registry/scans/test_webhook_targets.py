"""Webhooks go to public addresses only: refused at creation when the URL shows a private host,
refused at delivery when the connection reaches one, and never sent on by a redirect."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from registry.scans import webhook_targets
from registry.scans.models import ScanJob

from .conftest import PROSE, samples_intake
from .test_webhooks import _Receiver

PRIVATE_URLS = [
    "http://127.0.0.1:8000/hook",
    "http://127.1.2.3/hook",
    "http://10.0.0.5/hook",
    "http://172.16.3.4/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
    "http://100.64.0.1/hook",  # shared address space (carrier-grade NAT)
    "http://0.0.0.0:8080/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[fd00::1]/hook",
    "http://[fe80::1]/hook",
    "http://224.0.0.1/hook",
    "http://localhost:8000/hook",
    "http://LOCALHOST./hook",
    "http://api.localhost/hook",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://printer.local/hook",
]
PUBLIC_URLS = [
    "https://hooks.example.org/scan",
    "http://93.184.216.34/hook",
    "https://[2606:2800:220:1:248:1893:25c8:1946]/hook",
    "https://ci.example.com:8443/hooks/registry?team=7",
]


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_a_url_naming_a_private_host_is_refused_with_the_way_to_allow_it(url):
    with pytest.raises(ValidationError) as caught:
        webhook_targets.check_url(url)
    message = " ".join(caught.value.messages)
    assert "public addresses only" in message and "REGISTRY_WEBHOOK_ALLOW_PRIVATE=1" in message


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_a_url_naming_a_public_host_is_accepted(url):
    webhook_targets.check_url(url)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://hooks.example.org/scan", "must be http:// or https://"),
        ("file:///etc/passwd", "must be http:// or https://"),
        ("https://user:pw@hooks.example.org/scan", "must not hold a user name or password"),
        ("https:///scan", "has no host name"),
        ("https://hooks.example.org:99999/scan", "is not valid"),
    ],
)
def test_a_malformed_url_says_what_is_wrong(url, says):
    with pytest.raises(ValidationError) as caught:
        webhook_targets.check_url(url)
    assert says in " ".join(caught.value.messages)


def test_a_deployment_may_allow_its_own_network(settings):
    settings.REGISTRY = {**settings.REGISTRY, "WEBHOOK_ALLOW_PRIVATE": True}
    for url in PRIVATE_URLS:
        webhook_targets.check_url(url)
    with pytest.raises(ValidationError):  # the scheme is still checked
        webhook_targets.check_url("ftp://10.0.0.5/hook")


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("::ffff:10.0.0.1", False),  # an IPv4-mapped private address is still private
        ("::ffff:8.8.8.8", True),
        ("fe80::1%eth0", False),
        ("198.18.0.1", False),  # benchmarking range
        ("255.255.255.255", False),
        ("ff02::1", False),
    ],
)
def test_is_public_address(address, public):
    assert webhook_targets.is_public_address(address) is public


# --- creation: the form and the API ----------------------------------------------------------


@pytest.fixture
def client_carol(carol):
    client = Client()
    client.force_login(carol)
    return client


def test_the_form_refuses_a_private_webhook_url(client_carol):
    response = client_carol.post(reverse("scans:create"), {"webhook_url": "http://169.254.169.254/latest"})
    errors = " ".join(response.context["form"].errors["webhook_url"])
    assert "169.254.169.254 is not a public address" in errors
    assert not ScanJob.objects.exists()


def test_the_api_refuses_a_private_webhook_url(api_carol):
    response = api_carol.post(
        "/api/v1/scans",
        {"samples": [{"text": "x = 1\n"}], "webhook_url": "http://localhost:6379/"},
        content_type="application/json",
    )
    body = response.json()
    assert response.status_code == 400 and "names a host on this machine" in str(
        body["errors"]["webhook_url"]
    )
    assert not ScanJob.objects.exists()


# --- delivery ------------------------------------------------------------------------------------


@pytest.fixture
def receivers():
    made: list[_Receiver] = []

    def make(statuses=(200,), headers=None):
        made.append(_Receiver(statuses, headers=headers))
        return made[-1]

    yield make
    for r in made:
        r.close()


def test_a_delivery_that_reaches_a_private_address_is_refused_before_sending(
    carol, alice_prose, receivers, scan
):
    # A job made before the check existed (or a name that resolves to 127.0.0.1 only later):
    # the delivery checks the address the connection actually reached.
    hook = receivers()
    job = scan(samples_intake({"text": PROSE}), owner=carol, webhook_url=hook.url)

    assert hook.requests == []
    job.refresh_from_db()
    assert job.webhook_delivered_at is None
    assert job.webhook_status.startswith("gave up: refused to send to")
    assert "127.0.0.1, which is not a public address" in job.webhook_status


def test_a_redirect_is_not_followed(carol, alice_prose, receivers, scan, settings):
    settings.REGISTRY = {**settings.REGISTRY, "WEBHOOK_ALLOW_PRIVATE": True}
    inner = receivers()
    outer = receivers(statuses=(302,), headers={"Location": inner.url})
    job = scan(samples_intake({"text": PROSE}), owner=carol, webhook_url=outer.url)

    assert len(outer.requests) >= 1 and inner.requests == []
    job.refresh_from_db()
    assert job.webhook_delivered_at is None and "answered HTTP 302" in job.webhook_status
