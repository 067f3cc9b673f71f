"""The scan pages: upload, the job page and its live progress, cancel, samples, downloads, webhook.

Personas: alice registers works (an author), carol scans generated code (a dataset builder),
bob is someone else who must not see carol's scans.
"""

from __future__ import annotations

import inspect
import io
import json
import shlex
import tarfile
import textwrap
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from registry.scans import intake, services
from registry.scans.models import ScanJob

pytestmark = pytest.mark.django_db

# Real code for alice's work, and a sample copied from it (40 lines of shlex's tokenizer).
SHLEX = inspect.getsource(shlex)
COPIED = textwrap.dedent("\n".join(inspect.getsource(shlex.shlex.read_token).splitlines()[:40]))
UNRELATED = "def greet(name):\n    return f'hello {name}'\n"


def _jsonl(*objects) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objects)


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


@pytest.fixture
def client_carol(carol):
    client = Client()
    client.force_login(carol)
    return client


@pytest.fixture
def alices_work(alice, django_capture_on_commit_callbacks):
    """shlex, registered by alice with its text kept and shown beside matches; fingerprinted."""
    from registry.works import services as works

    with django_capture_on_commit_callbacks(execute=True):
        work = works.work_register(
            owner=alice,
            title="shlex",
            kind="code",
            source="file",
            prepared=works.prepare_file(name="shlex.py", data=SHLEX.encode()),
            licence="MIT",
            attribution="Alice Example, shlex",
        )
    work.text_public = True
    work.save(update_fields=["text_public"])
    return work


def _scan(owner, samples, *, capture=None, **kwargs) -> ScanJob:
    """A job from `samples`; run to the end when `capture` (the on-commit fixture) is given."""
    items = [{"id": sid, "text": text, "language": "python"} for sid, text in samples]
    if capture is None:
        return services.scan_create(intake=intake.read_samples(items), owner=owner, **kwargs)
    with capture(execute=True):
        job = services.scan_create(intake=intake.read_samples(items), owner=owner, **kwargs)
    job.refresh_from_db()
    return job


@pytest.fixture
def finished_job(carol, alices_work, django_capture_on_commit_callbacks):
    job = _scan(
        carol, [("copied", COPIED), ("unrelated", UNRELATED)], capture=django_capture_on_commit_callbacks
    )
    assert job.status == "finished" and job.matched == 1
    return job


# --- Who sees what ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["scans:list", "scans:create", "scans:webhook"])
def test_anonymous_visitors_are_sent_to_log_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_anonymous_visitors_cannot_read_a_job_or_its_progress(client, carol):
    job = _scan(carol, [("a", UNRELATED)])
    for name in ("scans:detail", "scans:progress"):
        response = client.get(reverse(name, args=[job.public_id]))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_the_list_shows_my_scans_and_my_organisations_but_not_bobs(client_carol, carol, bob):
    from registry.apikeys.services import organisation_create

    mine = _scan(carol, [("a", UNRELATED)], name="my run")
    team = organisation_create(name="Carol's lab", created_by=carol)
    ours = _scan(carol, [("a", UNRELATED)], name="lab run", organisation=team)
    theirs = _scan(bob, [("a", UNRELATED)], name="bob's secret run")

    page = client_carol.get(reverse("scans:list")).content.decode()

    assert mine.get_absolute_url() in page and ours.get_absolute_url() in page
    assert "Carol&#x27;s lab" in page
    assert theirs.public_id not in page and "bob&#x27;s secret run" not in page


@pytest.mark.parametrize(
    ("name", "method", "extra"),
    [
        ("scans:detail", "get", ()),
        ("scans:progress", "get", ()),
        ("scans:cancel", "post", ()),
        ("scans:sample", "get", (0,)),
        ("scans:report", "get", ("csv",)),
    ],
)
def test_bob_cannot_see_or_touch_carols_job(client_bob, carol, name, method, extra):
    job = _scan(carol, [("a", UNRELATED)])
    response = getattr(client_bob, method)(reverse(name, args=[job.public_id, *extra]))
    assert response.status_code == 404
    job.refresh_from_db()
    assert job.status == "queued"


def test_a_member_of_the_organisation_sees_its_scan(client_bob, carol, bob):
    from registry.apikeys.services import organisation_create, organisation_member_add

    team = organisation_create(name="Lab", created_by=carol)
    organisation_member_add(organisation=team, added_by=carol, email=bob.email)
    job = _scan(carol, [("a", UNRELATED)], organisation=team)

    assert client_bob.get(job.get_absolute_url()).status_code == 200


# --- Creating a scan ----------------------------------------------------------------------------


def test_a_jsonl_upload_starts_a_scan_and_opens_its_page(client_carol, carol, alices_work):
    data = _jsonl({"id": "copied", "text": COPIED, "language": "python"}, {"id": "other", "text": UNRELATED})

    response = client_carol.post(
        reverse("scans:create"),
        {"file": _upload("batch.jsonl", data), "name": "model run 7", "webhook_url": ""},
    )

    job = ScanJob.objects.get(owner=carol)
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert (job.name, job.source, job.total) == ("model run 7", "jsonl", 2)


def test_a_scan_can_be_made_for_one_of_my_organisations(client_carol, carol, bob):
    from registry.apikeys.services import organisation_create

    team = organisation_create(name="Carol's lab", created_by=carol)
    organisation_create(name="Bob's lab", created_by=bob)
    form = client_carol.get(reverse("scans:create")).context["form"]
    assert [label for _, label in form.fields["organisation"].choices] == ["Myself", "Carol's lab"]

    client_carol.post(
        reverse("scans:create"),
        {"file": _upload("a.jsonl", _jsonl({"text": UNRELATED})), "organisation": str(team.pk)},
    )

    assert ScanJob.objects.get().organisation == team


def test_an_archive_upload_scans_each_file(client_carol, carol):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("gen/a.py", UNRELATED)
        archive.writestr("gen/b.py", COPIED)

    response = client_carol.post(reverse("scans:create"), {"file": _upload("gen.zip", buffer.getvalue())})

    assert response.status_code == 302
    job = ScanJob.objects.get(owner=carol)
    assert (job.source, job.total) == ("archive", 2)


def _tar_with_traversal() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        data = UNRELATED.encode()
        info = tarfile.TarInfo("../../etc/evil.py")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _zip_of_binaries() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model.bin", bytes(range(256)) * 4)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.jsonl", b"\n\n", "is empty"),
        ("weights.jsonl", b"\x00\x01\x02binary", "is not a JSON Lines file (it looks binary)"),
        ("notes.jsonl", b"just some words\nand more\n", "is not a JSON Lines file: no line is a JSON object"),
        ("ids.jsonl", _jsonl({"id": 1}, {"id": 2}), 'has a "text" field'),
        ("evil.tar.gz", _tar_with_traversal(), "leaves its folder (../../etc/evil.py)"),
        ("bins.zip", _zip_of_binaries(), "has no text files to scan"),
    ],
)
def test_each_bad_upload_shows_what_was_wrong_on_the_form(client_carol, carol, name, data, message):
    response = client_carol.post(reverse("scans:create"), {"file": _upload(name, data)})

    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert any(message in e for e in errors), errors
    assert message.replace('"', "&quot;") in response.content.decode()
    assert not ScanJob.objects.exists(), "nothing half-written"


def test_an_upload_over_the_size_limit_names_the_limit(client_carol, settings):
    settings.REGISTRY = {**settings.REGISTRY, "MAX_SCAN_BYTES": 100}
    response = client_carol.post(
        reverse("scans:create"), {"file": _upload("big.jsonl", _jsonl({"text": "x = 1\n" * 40}))}
    )
    assert "the limit is 100" in " ".join(response.context["form"].errors["file"])
    assert not ScanJob.objects.exists()


def test_an_upload_with_too_many_samples_names_the_limit(client_carol, settings):
    settings.REGISTRY = {**settings.REGISTRY, "MAX_SCAN_SAMPLES": 2}
    data = _jsonl(*({"text": f"x = {i}\n"} for i in range(3)))
    response = client_carol.post(reverse("scans:create"), {"file": _upload("many.jsonl", data)})
    assert "the limit is 2 per scan" in " ".join(response.context["form"].errors["file"])
    assert not ScanJob.objects.exists()


def test_no_file_and_a_bad_webhook_url_are_form_errors(client_carol):
    response = client_carol.post(reverse("scans:create"), {"webhook_url": "not a url"})
    form = response.context["form"]
    assert form.errors["file"] == ["Choose a JSON Lines file or an archive to scan."]
    assert "webhook_url" in form.errors


def test_bad_lines_fail_alone_and_are_listed_with_their_reasons(
    client_carol, carol, django_capture_on_commit_callbacks
):
    data = b'{"id": "ok", "text": "x = 1\\n"}\n{not json\n{"id": "nt"}\n'
    with django_capture_on_commit_callbacks(execute=True):
        response = client_carol.post(reverse("scans:create"), {"file": _upload("b.jsonl", data)})
    page = client_carol.get(response["Location"]).content.decode()

    assert "Failed samples" in page
    assert "line 2: not valid JSON" in page
    assert "line 3: no &quot;text&quot; field" in page


# --- The job page, its progress, cancel -----------------------------------------------------------


def test_the_progress_endpoint_answers_the_numbers_the_page_polls(client_carol, carol):
    job = _scan(carol, [("a", UNRELATED), ("b", UNRELATED)])

    response = client_carol.get(reverse("scans:progress", args=[job.public_id]))

    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    body = response.json()
    assert body == {
        "status": "queued",
        "status_display": "Queued",
        "total": 2,
        "done": 0,
        "failed": 0,
        "matched": 0,
        "skipped": 0,
        "percent": 0,
        "samples_per_second": None,
        "eta_seconds": None,
        "started_at": None,
        "finished_at": None,
        "error": "",
    }


def test_a_finished_jobs_progress_is_complete(client_carol, finished_job):
    body = client_carol.get(reverse("scans:progress", args=[finished_job.public_id])).json()
    assert (body["status"], body["done"], body["total"], body["percent"], body["matched"]) == (
        "finished",
        2,
        2,
        100,
        1,
    )
    assert body["finished_at"] is not None and body["eta_seconds"] == 0


def test_a_running_job_page_has_the_live_progress_bar_and_a_cancel_button(client_carol, carol):
    job = _scan(carol, [("a", UNRELATED)])

    page = client_carol.get(job.get_absolute_url()).content.decode()

    assert f'data-progress-url="{reverse("scans:progress", args=[job.public_id])}"' in page
    assert 'data-status="queued"' in page and "<progress" in page
    assert "scans/progress.js" in page
    assert reverse("scans:cancel", args=[job.public_id]) in page
    assert "Summary" not in page


def test_a_finished_job_page_shows_the_summary_matches_and_downloads(client_carol, finished_job, alices_work):
    page = client_carol.get(finished_job.get_absolute_url()).content.decode()

    assert 'data-status="finished"' in page and 'data-percent="100"' in page
    assert "Summary" in page and "MIT" in page and "shlex" in page
    assert reverse("scans:sample", args=[finished_job.public_id, 0]) in page
    for fmt in ("jsonl", "csv", "html"):
        assert reverse("scans:report", args=[finished_job.public_id, fmt]) in page
    assert "Cancel the scan" not in page


def test_cancel_is_a_post_and_stops_the_job(client_carol, carol):
    job = _scan(carol, [("a", UNRELATED)])
    url = reverse("scans:cancel", args=[job.public_id])

    assert client_carol.get(url).status_code == 405
    response = client_carol.post(url, follow=True)

    job.refresh_from_db()
    assert job.status == "cancelled"
    assert "Scan cancelled" in response.content.decode()
    assert client_carol.get(reverse("scans:progress", args=[job.public_id])).json()["status"] == "cancelled"


def test_cancelling_a_finished_job_changes_nothing(client_carol, finished_job):
    response = client_carol.post(reverse("scans:cancel", args=[finished_job.public_id]), follow=True)
    finished_job.refresh_from_db()
    assert finished_job.status == "finished"
    assert "already ended" in response.content.decode()


def test_csrf_is_enforced_on_cancel_create_and_rotate(carol):
    client = Client(enforce_csrf_checks=True)
    client.force_login(carol)
    job = _scan(carol, [("a", UNRELATED)])

    assert client.post(reverse("scans:cancel", args=[job.public_id])).status_code == 403
    assert (
        client.post(reverse("scans:create"), {"file": _upload("a.jsonl", _jsonl({"text": "x"}))}).status_code
        == 403
    )
    assert client.post(reverse("scans:webhook")).status_code == 403
    job.refresh_from_db()
    assert job.status == "queued"
    assert ScanJob.objects.count() == 1

    # With the token from the page, the same POST goes through.
    client.get(job.get_absolute_url())
    token = client.cookies["csrftoken"].value
    response = client.post(reverse("scans:cancel", args=[job.public_id]), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "cancelled"


# --- A matched sample, the downloads --------------------------------------------------------------


def test_the_sample_page_highlights_the_matched_lines_beside_the_registered_ones(client_carol, finished_job):
    response = client_carol.get(reverse("scans:sample", args=[finished_job.public_id, 0]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "shlex" in page and "MIT" in page and "Alice Example, shlex" in page
    assert 'class="line hit"' in page
    assert "The registered lines" in page  # alice keeps the text and made it public


def test_the_sample_page_never_shows_registered_text_the_author_keeps_private(
    client_carol, carol, alices_work, django_capture_on_commit_callbacks
):
    alices_work.text_public = False
    alices_work.save(update_fields=["text_public"])
    job = _scan(carol, [("copied", COPIED)], capture=django_capture_on_commit_callbacks)

    page = client_carol.get(reverse("scans:sample", args=[job.public_id, 0])).content.decode()

    assert "The registered lines" not in page
    assert "keeps the registered text private" in page
    # The sample's own lines are there, the registered file's lines outside the sample are not.
    first_registered_line = SHLEX.splitlines()[0]
    assert first_registered_line not in COPIED and first_registered_line not in page


def test_an_unknown_sample_is_a_404(client_carol, finished_job):
    assert client_carol.get(reverse("scans:sample", args=[finished_job.public_id, 99])).status_code == 404


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "html"])
def test_each_download_holds_the_matched_sample(client_carol, finished_job, fmt):
    response = client_carol.get(reverse("scans:report", args=[finished_job.public_id, fmt]))

    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"copied" in body and b"shlex" in body
    assert "attachment" in response.get("Content-Disposition", "")


def test_an_unknown_report_format_is_a_404(client_carol, finished_job):
    assert client_carol.get(reverse("scans:report", args=[finished_job.public_id, "pdf"])).status_code == 404


# --- The webhook secret ---------------------------------------------------------------------------


def test_the_webhook_page_shows_my_secret_and_rotating_replaces_it(client_carol, carol):
    from registry.scans import webhooks

    before = webhooks.webhook_secret(account=carol)
    page = client_carol.get(reverse("scans:webhook")).content.decode()
    assert before in page and "X-Registry-Signature" in page

    response = client_carol.post(reverse("scans:webhook"), follow=True)

    after = webhooks.webhook_secret(account=carol)
    assert after != before
    page = response.content.decode()
    assert after in page and before not in page


def test_only_an_organisations_owners_rotate_its_secret(client_bob, carol, bob):
    from registry.apikeys.services import organisation_create, organisation_member_add
    from registry.scans import webhooks

    team = organisation_create(name="Lab", created_by=carol)
    organisation_member_add(organisation=team, added_by=carol, email=bob.email)
    secret = webhooks.webhook_secret(account=team)

    assert secret in client_bob.get(reverse("scans:webhook")).content.decode()
    assert client_bob.post(reverse("scans:webhook"), {"organisation": team.slug}).status_code == 404
    assert webhooks.webhook_secret(account=team) == secret


def test_the_nav_links_to_scans_for_logged_in_users(client_carol, client):
    assert reverse("scans:list") in client_carol.get(reverse("works:lookup")).content.decode()
    assert reverse("scans:list") not in client.get(reverse("works:lookup")).content.decode()
