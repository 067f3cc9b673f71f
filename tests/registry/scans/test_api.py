"""/api/v1/scans: create (three input forms), progress, cancel, results, downloads, ownership."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.scans.models import ScanJob

from .conftest import PROSE, TEXTWRAP, UNRELATED, jsonl


@pytest.fixture
def create(django_capture_on_commit_callbacks):
    """POST /api/v1/scans and run the queued chunks; (status, body)."""

    def _create(client, *, files=None, body=None):
        with django_capture_on_commit_callbacks(execute=True):
            if files is not None:
                response = client.post("/api/v1/scans", files)
            else:
                response = client.post("/api/v1/scans", body, content_type="application/json")
        return response.status_code, response.json()

    return _create


def test_carol_creates_a_scan_from_samples_in_the_request_and_gets_its_progress(
    api_carol, acme, alice_prose, create
):
    status, body = create(
        api_carol,
        body={"name": "eval run 1", "samples": [{"id": "a", "text": PROSE}, {"id": "b", "text": UNRELATED}]},
    )
    assert status == 202, body
    assert body["name"] == "eval run 1" and body["source"] == "samples" and body["organisation"] == acme.slug
    job = ScanJob.objects.get(public_id=body["id"])
    assert job.organisation == acme and job.owner is None

    progress = api_carol.get(f"/api/v1/scans/{body['id']}").json()
    assert progress["status"] == "finished"
    assert (progress["total"], progress["done"], progress["failed"], progress["matched"]) == (2, 2, 0, 1)
    assert progress["samples_per_second"] is None or progress["samples_per_second"] > 0
    assert progress["eta_seconds"] == 0
    assert progress["summary"]["by_work"][0]["work"] == alice_prose.public_id
    assert progress["summary"]["by_licence"] == [{"licence": "CC-BY-4.0", "samples": 1}]
    assert progress["links"]["report_csv"].endswith(f"/api/v1/scans/{body['id']}/report.csv")


def test_carol_creates_a_scan_from_a_jsonl_file_with_a_malformed_line(api_carol, alice_prose, create):
    upload = SimpleUploadedFile("out.jsonl", jsonl({"id": "a", "text": PROSE}, "{oops"))
    status, body = create(api_carol, files={"file": upload})
    assert status == 202, body
    progress = api_carol.get(f"/api/v1/scans/{body['id']}").json()
    assert (progress["source"], progress["done"], progress["failed"], progress["matched"]) == (
        "jsonl",
        2,
        1,
        1,
    )
    assert progress["failed_samples"] == [
        {
            "sample_index": 1,
            "id": "line 2",
            "error": "line 2: not valid JSON (Expecting property name enclosed in double quotes at column 2)",
        }
    ]


def test_carol_creates_a_scan_from_a_zip_and_binary_files_are_skipped_and_counted(
    api_carol, alice_code, create
):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("gen/textwrap_copy.py", TEXTWRAP)
        archive.writestr("gen/image.png", b"\x89PNG\x00\x00")
    status, body = create(api_carol, files={"file": SimpleUploadedFile("out.zip", buffer.getvalue())})
    assert status == 202, body
    assert (body["source"], body["total"], body["skipped"]) == ("archive", 1, 1)
    detail = api_carol.get(f"/api/v1/scans/{body['id']}").json()
    assert detail["matched"] == 1
    assert detail["skipped_files"] == [{"path": "gen/image.png", "reason": "binary file"}]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"file": SimpleUploadedFile("empty.jsonl", b"")}, "empty.jsonl is empty"),
        ({"file": SimpleUploadedFile("notes.jsonl", b"just words\n")}, "not a JSON Lines file"),
        ({"file": SimpleUploadedFile("x.zip", b"not a zip")}, "is corrupt or not a valid .zip file"),
    ],
)
def test_a_bad_upload_is_a_400_with_the_reason(api_carol, create, files, message):
    status, body = create(api_carol, files=files)
    assert status == 400
    assert body["code"] == "invalid" and message in body["detail"]
    assert message in body["errors"]["file"][0]
    assert not ScanJob.objects.exists()


def test_a_request_over_the_size_limit_is_refused_with_the_limit_named(api_carol, create, settings):
    settings.REGISTRY = {**settings.REGISTRY, "MAX_SCAN_BYTES": 100}
    status, body = create(api_carol, body={"samples": [{"text": "x" * 200}]})
    assert status == 400 and "the limit is 100 bytes" in body["detail"]


def test_samples_without_text_are_a_400_in_the_json_error_format(api_carol, create):
    status, body = create(api_carol, body={"samples": [{"id": "a"}]})
    assert status == 400 and body["code"] == "invalid"
    assert "samples[0]" in body["errors"]
    status, body = create(api_carol, body={"name": "nothing"})
    assert status == 400 and "either a file" in json.dumps(body["errors"])


def test_a_webhook_url_must_be_http(api_carol, create):
    status, body = create(
        api_carol, body={"samples": [{"text": "x"}], "webhook_url": "ftp://example.org/hook"}
    )
    assert status == 400 and "webhook_url" in body["errors"]


def test_results_are_paginated_with_a_cursor_and_filter_matched(api_carol, alice_prose, create):
    samples = [{"id": f"s{i}", "text": PROSE if i % 2 else UNRELATED} for i in range(5)]
    _, body = create(api_carol, body={"samples": samples})
    url = f"/api/v1/scans/{body['id']}/results"

    page = api_carol.get(url, {"limit": 2}).json()
    assert [r["id"] for r in page["results"]] == ["s0", "s1"] and page["next_cursor"] == "1"
    page = api_carol.get(url, {"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [r["id"] for r in page["results"]] == ["s2", "s3"]
    page = api_carol.get(page["next"]).json()
    assert [r["id"] for r in page["results"]] == ["s4"] and page["next_cursor"] is None

    matched = api_carol.get(url, {"matched": "true"}).json()["results"]
    assert [r["id"] for r in matched] == ["s1", "s3"]
    assert matched[0]["matches"][0]["work"] == alice_prose.public_id

    bad = api_carol.get(url, {"matched": "maybe"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


def test_downloads_parse_as_jsonl_and_csv_and_html(api_carol, alice_prose, create):
    _, body = create(
        api_carol, body={"samples": [{"id": "=cmd", "text": PROSE}, {"id": "b", "text": UNRELATED}]}
    )
    base = f"/api/v1/scans/{body['id']}"

    response = api_carol.get(f"{base}/report.jsonl", HTTP_ACCEPT="application/x-ndjson")
    assert response.status_code == 200 and response.streaming
    rows = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert [r["id"] for r in rows] == ["=cmd", "b"] and rows[0]["matched"] and not rows[1]["matched"]

    response = api_carol.get(f"{base}/report.csv", HTTP_ACCEPT="text/csv")
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert table[0]["sample_id"] == "'=cmd"  # not a spreadsheet formula
    assert table[0]["work"] == alice_prose.public_id and table[0]["licence"] == "CC-BY-4.0"
    assert table[1]["matched"] == "no" and table[1]["work"] == ""
    assert response["Content-Disposition"] == f'attachment; filename="scan-{body["id"]}.csv"'

    response = api_carol.get(f"{base}/report.html")
    assert response["Content-Type"].startswith("text/html")
    assert "The lighthouse ledger" in b"".join(response.streaming_content).decode()

    assert api_carol.get(f"{base}/report.pdf").json()["code"] == "not_found"


def test_carol_cancels_a_queued_scan(api_carol, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # nothing runs: the job stays queued
        body = api_carol.post(
            "/api/v1/scans", {"samples": [{"text": "x"}]}, content_type="application/json"
        ).json()
    response = api_carol.post(f"/api/v1/scans/{body['id']}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


def test_dave_cannot_see_carols_scan(api_carol, api_dave, create):
    _, body = create(api_carol, body={"samples": [{"text": PROSE}]})
    for path in ("", "/results", "/report.csv"):
        response = api_dave.get(f"/api/v1/scans/{body['id']}{path}")
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert api_dave.post(f"/api/v1/scans/{body['id']}/cancel").status_code == 404
    assert api_dave.get("/api/v1/scans").json()["results"] == []
    assert [j["id"] for j in api_carol.get("/api/v1/scans").json()["results"]] == [body["id"]]


def test_dave_sees_his_own_scans(api_dave, dave, create):
    _, body = create(api_dave, body={"samples": [{"text": "hello"}]})
    assert ScanJob.objects.get(public_id=body["id"]).owner == dave
    assert [j["id"] for j in api_dave.get("/api/v1/scans").json()["results"]] == [body["id"]]


def test_without_a_key_or_with_an_author_key_it_is_refused_in_the_json_format(client, alice):
    from tests.registry.apikeys import builders

    response = client.get("/api/v1/scans")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"
    _, full = builders.api_key(user=alice, scope="author", name="mine")
    response = client.get("/api/v1/scans", **builders.bearer(full))
    assert response.status_code == 403 and response.json()["code"] == "insufficient_scope"


def test_the_webhook_secret_is_shown_and_rotates(api_carol):
    first = api_carol.get("/api/v1/scans/webhook-secret").json()
    assert first["header"] == "X-Registry-Signature" and len(first["secret"]) == 64
    assert api_carol.get("/api/v1/scans/webhook-secret").json()["secret"] == first["secret"]
    rotated = api_carol.post("/api/v1/scans/webhook-secret/rotate").json()
    assert rotated["secret"] != first["secret"]
    assert api_carol.get("/api/v1/scans/webhook-secret").json()["secret"] == rotated["secret"]
