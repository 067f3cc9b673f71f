"""Thin Celery tasks: an id in, a service call."""

from celery import shared_task
from django.db import DatabaseError

from registry.works import services


@shared_task(
    acks_late=True,  # a worker that dies mid-task leaves the message for another worker
    time_limit=300,  # hard kill: one document never takes five minutes
    soft_time_limit=240,
    autoretry_for=(DatabaseError,),  # transient database trouble; engine errors are recorded, not retried
    retry_backoff=True,
    max_retries=5,
)
def fingerprint_document(document_id: int) -> str:
    """Fingerprint one document. Idempotent: a ready document is a no-op."""
    return services.document_fingerprint(document_id=document_id)
