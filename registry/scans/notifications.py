"""Telling authors where their works were found.

Authors who chose "email me when my works are found" (ScanAccountSettings.email_when_found,
off by default) get one email per finished job listing, per work of theirs, how many samples
matched. The email never includes the samples' text or ids, nor anything about the other
works in the job. The dashboard shows the same counts (selectors.found_counts_for_author).
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mass_mail
from django.template.loader import render_to_string
from django.utils import timezone

from registry.scans import selectors
from registry.scans.models import ScanAccountSettings, ScanJob


def authors_notify(*, job_id: int) -> int:
    """Email each opted-in author whose works the finished job matched; returns emails sent.

    Claimed with a conditional UPDATE first so a second run (a redelivered task) sends nothing;
    if sending fails the claim is released and the error raised, so the task retries.
    """
    claimed = ScanJob.objects.filter(
        pk=job_id, status=ScanJob.Status.FINISHED, authors_notified_at__isnull=True
    ).update(authors_notified_at=timezone.now())
    if not claimed:
        return 0
    job = ScanJob.objects.select_related("organisation", "owner").get(pk=job_id)
    try:
        return _send(job)
    except Exception:
        ScanJob.objects.filter(pk=job_id).update(authors_notified_at=None)
        raise


def _send(job: ScanJob) -> int:
    from django.contrib.auth import get_user_model

    per_author = selectors.found_counts_for_job(job=job)
    opted_in = set(
        ScanAccountSettings.objects.filter(user_id__in=per_author, email_when_found=True).values_list(
            "user_id", flat=True
        )
    )
    if not opted_in:
        return 0
    users = get_user_model().objects.filter(pk__in=opted_in, is_active=True)
    messages = []
    for user in users:
        works = per_author[user.pk]
        context = {
            "user": user,
            "works": works,
            "samples": sum(w["samples"] for w in works),
            "scanned_by": selectors._scanned_by(job),
            "finished_at": job.finished_at,
            "site_url": settings.SITE_URL,
        }
        subject = f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}Your works were found in a scan"
        body = render_to_string("scans/email_found.txt", context)
        messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]))
    return send_mass_mail(messages, fail_silently=False)
