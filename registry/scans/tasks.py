"""Thin Celery tasks for scans: an id in, a service call. Each is safe to run twice.

`scan_chunk` is the one that matters for exactly-once results: acks_late with
reject_on_worker_lost means a worker killed mid-chunk (OOM, SIGKILL, a deploy) leaves the
message on the broker for another worker, and the service's idempotent write means a second
delivery after a successful write does nothing.
"""

from __future__ import annotations

from celery import Task, shared_task
from django.conf import settings
from django.db import DatabaseError

from registry.scans import notifications, services, webhooks

EAGER_ATTEMPTS = 3


class ChunkTask(Task):
    """A chunk that keeps failing (after its retries) fails its job with the reason, rather than
    leaving it "running" for ever."""

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        from registry.scans.models import ScanChunk

        chunk = ScanChunk.objects.filter(pk=args[0] if args else kwargs.get("chunk_id")).first()
        if chunk is not None:
            services.scan_fail(job_id=chunk.job_id, error=f"chunk {chunk.index} failed: {exc}")


@shared_task(
    base=ChunkTask,
    acks_late=True,  # the message stays on the broker until the chunk is written...
    reject_on_worker_lost=True,  # ...and goes back to the queue if the worker dies mid-chunk
    time_limit=900,  # hard kill: a chunk of ~1,000 samples takes seconds, not fifteen minutes
    soft_time_limit=840,
    autoretry_for=(DatabaseError,),  # transient database trouble (a lock timeout, a restart)
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
)
def scan_chunk(chunk_id: int) -> str:
    """Match one chunk and write its results once (services.chunk_process)."""
    return services.chunk_process(chunk_id=chunk_id)


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def resume_scans() -> int:
    """Re-send the pending chunks of every active job (run it by hand after a broker restart)."""
    return services.scan_resume()


@shared_task(acks_late=True, time_limit=600, soft_time_limit=540)
def resume_stalled_scans(idle_seconds: float | None = None) -> int:
    """Re-send the pending chunks of jobs idle for `idle_seconds` (Celery beat: settings.py sends
    its own setting, so the schedule and the idle time are configured in one place)."""
    if idle_seconds is None:
        idle_seconds = settings.REGISTRY["RESUME_SCANS_IDLE_SECONDS"]
    return services.scan_resume_stalled(idle_seconds=float(idle_seconds))


@shared_task(
    bind=True,
    acks_late=True,
    time_limit=60,
    max_retries=8,  # 1 min, 2, 4, ... about four hours in all, then it is given up and recorded
)
def deliver_webhook(self, job_id: int) -> str:
    """POST the finished job's summary to its webhook URL, signed; retried with backoff.

    Without a broker (eager mode, the default set-up) nothing can run later, and a retry
    raised here would surface in the request that finished the job: a few immediate
    attempts, then the failure is recorded on the job like a broker's final give-up.
    """
    if self.request.is_eager:
        for _attempt in range(EAGER_ATTEMPTS):
            try:
                return webhooks.webhook_deliver(job_id=job_id)
            except webhooks.DeliveryError as exc:
                error = exc
        webhooks.webhook_give_up(job_id=job_id, reason=str(error))
        return "given-up"
    try:
        return webhooks.webhook_deliver(job_id=job_id)
    except webhooks.DeliveryError as exc:
        if self.request.retries >= self.max_retries:
            webhooks.webhook_give_up(job_id=job_id, reason=str(exc))
            return "given-up"
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc


@shared_task(
    acks_late=True,
    time_limit=300,
    autoretry_for=(DatabaseError, OSError),  # OSError: the mail server did not answer
    retry_backoff=True,
    max_retries=5,
)
def notify_authors(job_id: int) -> int:
    """Email the authors who asked for it how often the finished job found their works."""
    return notifications.authors_notify(job_id=job_id)
