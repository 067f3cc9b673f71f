"""Scan pages under /scans/: my scans, upload a batch, the job page with live progress, a matched
sample, the downloads, and the webhook secret.

Views are thin: the form checks the request, `services` writes, `selectors` read. Every page of
a job looks it up through `selectors.scan_get`, which answers 404 for a job the user may not see
(someone else's, or another organisation's), so a job id proves nothing.

Live progress: the job page loads static/scans/progress.js, which polls `progress` (JSON) every
second and stops at the end; the page itself is complete without JavaScript.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from registry.apikeys.selectors import organisation_list, owned_organisations
from registry.scans import intake, reports, selectors, services, webhooks
from registry.scans.forms import ScanCreateForm
from registry.scans.intake import unpack_payload
from registry.scans.models import ScanResult

PAGE_ROWS = 200  # matched / failed samples listed on the job page; the downloads hold them all


@login_required
def scan_list(request):
    return render(request, "scans/list.html", {"jobs": selectors.scan_list(principal=request.user)[:200]})


@login_required
@require_http_methods(["GET", "POST"])
def scan_create(request):
    form = ScanCreateForm(
        request.POST or None, request.FILES or None, organisations=organisation_list(user=request.user)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        organisation = data.get("organisation")
        try:
            job = services.scan_create(
                intake=intake.read_upload(data["file"]),
                owner=request.user,
                organisation=organisation,
                name=data["name"],
                webhook_url=data["webhook_url"],
            )
        except intake.IntakeError as exc:
            form.add_error("file", str(exc))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, f"Scan started: {job.total} sample{'s' if job.total != 1 else ''} queued."
            )
            return redirect(job)
    return render(request, "scans/create.html", {"form": form})


def _progress_json(progress: selectors.Progress) -> dict:
    return {
        "status": progress.status,
        "status_display": progress.status.capitalize(),
        "total": progress.total,
        "done": progress.done,
        "failed": progress.failed,
        "matched": progress.matched,
        "skipped": progress.skipped,
        "percent": int(progress.percent),
        "samples_per_second": progress.samples_per_second,
        "eta_seconds": progress.eta_seconds,
        "started_at": progress.started_at.isoformat() if progress.started_at else None,
        "finished_at": progress.finished_at.isoformat() if progress.finished_at else None,
        "error": progress.error,
    }


@login_required
def scan_detail(request, public_id: str):
    job = selectors.scan_get(principal=request.user, public_id=public_id)
    progress = selectors.scan_progress(job=job)
    matched, matched_next = selectors.scan_results(job=job, matched=True, limit=PAGE_ROWS)
    failed, failed_next = selectors.scan_results(job=job, failed=True, limit=PAGE_ROWS)
    return render(
        request,
        "scans/detail.html",
        {
            "job": job,
            "progress": progress,
            "percent": int(progress.percent),
            "summary": None if job.is_active else selectors.scan_summary(job=job),
            "matched": matched,
            "matched_more": matched_next is not None,
            "failed": failed,
            "failed_more": failed_next is not None,
        },
    )


@login_required
@require_GET
@never_cache
def scan_progress(request, public_id: str):
    """The job page's live numbers (static/scans/progress.js polls this every second)."""
    job = selectors.scan_get(principal=request.user, public_id=public_id)
    return JsonResponse(_progress_json(selectors.scan_progress(job=job)))


@login_required
@require_POST
def scan_cancel(request, public_id: str):
    job = selectors.scan_get(principal=request.user, public_id=public_id)
    if services.scan_cancel(job=job):
        messages.success(request, "Scan cancelled. The samples scanned so far keep their results.")
    else:
        messages.info(request, f"The scan had already ended ({job.get_status_display().lower()}).")
    return redirect(job)


@login_required
def scan_sample(request, public_id: str, index: int):
    """One sample with its matched lines, and the registered lines beside them where the work's
    owner allows it (the selector leaves them out otherwise)."""
    job = selectors.scan_get(principal=request.user, public_id=public_id)
    result = ScanResult.objects.filter(job=job, sample_index=index).select_related("chunk").first()
    if result is None:
        raise Http404("No sample with that number in this scan (or it has not been scanned yet).")
    return render(request, "scans/sample.html", {"job": job, "sample": _sample_view(result)})


def _with_gaps(rows: list[dict]) -> list[dict]:
    """Mark where numbered lines skip ahead, so the page shows "⋯" between the excerpts."""
    out: list[dict] = []
    for row in rows:
        if out and row["n"] != out[-1]["n"] + 1:
            out.append({"gap": True})
        out.append(row)
    return out


def _sample_view(result: ScanResult) -> dict:
    """The sample's lines, and per matched work its lines highlighted and -- only where the
    reports module allows it (the owner keeps the text and made it public) -- the registered
    lines. The rules and the text lookups are the HTML report's, so the page and the download
    never differ in what they reveal."""
    payload = unpack_payload(result.chunk.payload)
    text = payload[result.sample_index - result.chunk.first_sample].get("text") or ""
    documents = reports._shown_documents([result])
    matches = []
    for m in result.matches:
        doc_text = documents.get((m["work"], m.get("document", "")))
        registered = None
        if doc_text is not None and m.get("doc_lines"):
            registered = _with_gaps(reports._numbered(doc_text, m["doc_lines"], only_context=True))
        matches.append(
            {**m, "sample_view": reports._numbered(text, m["sample_lines"]), "registered_lines": registered}
        )
    return {"result": result, "text": text, "lines": reports._numbered(text, []), "matches": matches}


@login_required
def scan_report(request, public_id: str, fmt: str):
    """The results as a download: JSON Lines, CSV or a self-contained HTML report."""
    job = selectors.scan_get(principal=request.user, public_id=public_id)
    if fmt not in reports.RENDERERS:
        raise Http404("No such report format; use jsonl, csv or html.")
    return reports.streaming_report(job, fmt)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def webhook_secret(request):
    """The webhook secrets the user may see: their own, and their organisations' (a job made with
    an organisation's key is signed with the organisation's). Rotating makes the old one useless;
    an organisation's secret is rotated by its owners only."""
    organisations = list(organisation_list(user=request.user))
    owned = {o.pk for o in owned_organisations(user=request.user)}
    if request.method == "POST":
        slug = request.POST.get("organisation", "")
        if slug:
            account = next((o for o in organisations if o.slug == slug and o.pk in owned), None)
            if account is None:
                raise Http404("No organisation of yours with that name.")
        else:
            account = request.user
        webhooks.webhook_secret_rotate(account=account)
        messages.success(request, "A new webhook secret is in use; the old one no longer verifies.")
        return redirect("scans:webhook")
    accounts = [{"name": "Your scans", "slug": "", "secret": webhooks.webhook_secret(account=request.user),
                 "can_rotate": True}]  # fmt: skip
    accounts += [
        {
            "name": o.name,
            "slug": o.slug,
            "secret": webhooks.webhook_secret(account=o),
            "can_rotate": o.pk in owned,
        }
        for o in organisations
    ]
    return render(request, "scans/webhook.html", {"accounts": accounts, "header": webhooks.HEADER})
