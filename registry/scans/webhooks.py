"""The signed "scan finished" webhook.

The body is JSON (the job's progress and summary, no sample text); the header
`X-Registry-Signature: sha256=<hex>` is HMAC-SHA256 of the raw body with the account's secret.
A receiver recomputes it over the bytes it received and compares in constant time.

The secret is never stored: it is HMAC(SECRET_KEY, "webhook:<account>:<rotation>"), so it comes
from the environment's secret, a database dump does not reveal it, and rotating it is
incrementing the account's counter (ScanAccountSettings.webhook_rotation). An account is a
person (`user-<id>`) or an organisation (`org-<id>`): a job made with an organisation's key is
signed with the organisation's secret, which any of its members can see.

Delivery is a Celery task with exponential backoff (tasks.deliver_webhook). `_post` is the
network boundary; tests run a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from registry.scans import selectors, webhook_targets
from registry.scans.models import ScanAccountSettings, ScanJob

HEADER = "X-Registry-Signature"
TIMEOUT_SECONDS = 10


class DeliveryError(Exception):
    """The receiver did not accept the webhook (network error or a non-2xx answer)."""


def _account(account) -> tuple[str, dict]:
    """("user-<id>" | "org-<id>", the ScanAccountSettings lookup)."""
    from registry.apikeys.models import Organisation

    if isinstance(account, Organisation):
        return f"org-{account.pk}", {"organisation": account}
    return f"user-{account.pk}", {"user": account}


def webhook_secret(*, account) -> str:
    """The account's current webhook secret (shown to the account on its settings page and API)."""
    name, lookup = _account(account)
    rotation = (
        ScanAccountSettings.objects.filter(**lookup).values_list("webhook_rotation", flat=True).first() or 0
    )
    message = f"webhook:{name}:{rotation}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


@transaction.atomic
def webhook_secret_rotate(*, account) -> str:
    """Replace the account's secret with a new one (the old one stops verifying at once)."""
    _name, lookup = _account(account)
    row, _ = ScanAccountSettings.objects.get_or_create(**lookup)
    ScanAccountSettings.objects.filter(pk=row.pk).update(webhook_rotation=F("webhook_rotation") + 1)
    return webhook_secret(account=account)


def sign(body: bytes, secret: str) -> str:
    """The header value for `body`: "sha256=<hex HMAC-SHA256>"."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str, secret: str) -> bool:
    """What a receiver does (and what the docs show): constant-time comparison."""
    return hmac.compare_digest(sign(body, secret), header or "")


def job_account(job: ScanJob):
    return job.organisation if job.organisation_id else job.owner


def payload(job: ScanJob) -> dict:
    """The webhook body: the job's progress and summary. No sample text, no sample ids."""
    progress = selectors.scan_progress(job=job)
    return {
        "event": "scan.finished",
        "scan": {
            "id": job.public_id,
            "name": job.name,
            "status": job.status,
            "total": progress.total,
            "done": progress.done,
            "failed": progress.failed,
            "matched": progress.matched,
            "created_at": job.created_at,
            "finished_at": job.finished_at,
        },
        "summary": selectors.scan_summary(job=job),
    }


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST and return the status code; raises DeliveryError on network trouble."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        # public addresses only, no redirects: see webhook_targets (checked again on every attempt)
        with webhook_targets.opener().open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except webhook_targets.BlockedAddress as exc:
        raise DeliveryError(f"refused to send to {url}: {exc}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, webhook_targets.BlockedAddress):
            raise DeliveryError(f"refused to send to {url}: {reason}") from exc
        raise DeliveryError(f"could not reach {url}: {reason}") from exc


def webhook_deliver(*, job_id: int) -> str:
    """Send the webhook of a finished job once it has succeeded; raises DeliveryError to retry."""
    job = ScanJob.objects.select_related("owner", "organisation").filter(pk=job_id).first()
    if job is None or not job.webhook_url:
        return "nothing-to-send"
    if job.webhook_delivered_at is not None:
        return "already-delivered"
    body = json.dumps(payload(job), cls=DjangoJSONEncoder, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "registry-webhook/1",
        HEADER: sign(body, webhook_secret(account=job_account(job))),
        "X-Registry-Event": "scan.finished",
    }
    status = _post(job.webhook_url, body, headers)
    if not 200 <= status < 300:
        ScanJob.objects.filter(pk=job.pk).update(webhook_status=f"HTTP {status}; retrying")
        raise DeliveryError(f"{job.webhook_url} answered HTTP {status}")
    ScanJob.objects.filter(pk=job.pk).update(
        webhook_delivered_at=timezone.now(), webhook_status=f"HTTP {status}"
    )
    return "delivered"


def webhook_give_up(*, job_id: int, reason: str) -> None:
    ScanJob.objects.filter(pk=job_id).update(webhook_status=f"gave up: {reason}"[:200])
