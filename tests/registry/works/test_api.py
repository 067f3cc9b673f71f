"""The authors' API (registry/works/api.py): the same rules as the web forms, as JSON.

alice and bob are authors with `author` keys; carol builds datasets with a `filter` key.
"""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from dedup.config import EngineConfig
from dedup.fingerprint import fingerprint
from registry import engine
from registry.preferences.models import PreferenceStatement
from registry.works.models import Document, Work
from tests.registry.apikeys import builders
from tests.registry.works.builders import PYTHON_FILE, make_tar, make_zip
from tests.registry.works.conftest import PROSE


class Api:
    """A test client presenting one API key; writes run their on-commit tasks."""

    def __init__(self, key: str, capture):
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
        self.capture = capture

    def get(self, path, **params):
        return self.client.get(f"/api/v1/{path}", params, **self.headers)

    def post(self, path, body=None, **kw):
        with self.capture(execute=True):
            if "files" in kw:
                return self.client.post(f"/api/v1/{path}", {**(body or {}), **kw["files"]}, **self.headers)
            return self.client.post(
                f"/api/v1/{path}", json.dumps(body), content_type="application/json", **self.headers
            )

    def patch(self, path, body):
        return self.client.patch(
            f"/api/v1/{path}", json.dumps(body), content_type="application/json", **self.headers
        )

    def delete(self, path):
        return self.client.delete(f"/api/v1/{path}", **self.headers)


@pytest.fixture
def alice_api(alice, django_capture_on_commit_callbacks):
    _key, full = builders.api_key(user=alice, scope="author", name="alice's laptop")
    return Api(full, django_capture_on_commit_callbacks)


@pytest.fixture
def bob_api(bob, django_capture_on_commit_callbacks):
    _key, full = builders.api_key(user=bob, scope="author", name="bob's laptop")
    return Api(full, django_capture_on_commit_callbacks)


@pytest.fixture
def carol_api(carol, django_capture_on_commit_callbacks):
    _key, full = builders.api_key(user=carol, scope="filter", name="crawler")
    return Api(full, django_capture_on_commit_callbacks)


def register_text(api: Api, **fields):
    return api.post("works", {"title": "The ledger", "kind": "prose", "text": PROSE, **fields})


def upload(api: Api, name: str, data: bytes, **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return api.post(
        "works", {"title": "Repo", "kind": "code", **fields}, files={"file": SimpleUploadedFile(name, data)}
    )


# --- registering ------------------------------------------------------------------------------


def test_alice_registers_a_text_as_json_and_gets_the_work_back_ready(alice, alice_api):
    response = register_text(
        alice_api,
        licence="cc-by-4.0",
        attribution="By Alice",
        locations=["https://www.Example.org/ledger/"],
        preferences={"train-genai": "no"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    work = Work.objects.get(owner=alice)
    assert body["id"] == work.public_id
    # The answer comes before the background task has run...
    assert (body["title"], body["kind"], body["licence"], body["state"]) == (
        "The ledger",
        "prose",
        "CC-BY-4.0",
        "pending",
    )
    assert body["documents_count"] == {"total": 1, "pending": 1, "ready": 0, "failed": 0}
    # ...which has run by the time she asks again.
    again = alice_api.get(f"works/{work.public_id}").json()
    assert again["state"] == "ready"
    assert again["documents_count"] == {"total": 1, "pending": 0, "ready": 1, "failed": 0}
    assert body["locations"] == ["https://www.Example.org/ledger/"]
    assert body["preferences"]["train-genai"]["value"] == "no"
    assert body["preferences"]["train-ai"]["value"] == "unset"
    [doc] = again["documents"]
    assert (doc["path"], doc["state"], doc["error"]) == ("text", "ready", "")
    assert "text" not in doc  # texts only when asked for


def test_a_file_upload_becomes_one_document_with_its_language(alice, alice_api):
    response = upload(alice_api, "stats.py", PYTHON_FILE)
    assert response.status_code == 201, response.json()
    work_id = response.json()["id"]
    assert [
        (d["path"], d["language"], d["state"]) for d in alice_api.get(f"works/{work_id}").json()["documents"]
    ] == [("stats.py", "python", "ready")]
    assert Work.objects.get(owner=alice).source == "file"


@pytest.mark.parametrize("name,make", [("repo.zip", make_zip), ("repo.tar.gz", make_tar)])
def test_an_archive_upload_reports_what_was_taken_and_the_binary_files_skipped(alice_api, name, make):
    data = make(
        {"repo/stats.py": PYTHON_FILE, "repo/README.md": PROSE.encode(), "repo/logo.png": b"\x89PNG\x00\x01"}
    )
    response = upload(alice_api, name, data)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["source"] == "archive"
    assert sorted(d["path"] for d in body["documents"]) == ["repo/README.md", "repo/stats.py"]
    assert body["import_report"]["skipped"] == [{"path": "repo/logo.png", "reason": "binary file"}]
    assert body["import_report"]["counts"] == {"taken": 2, "skipped": 1, "binary": 1}


def test_multipart_metadata_takes_lists_and_preferences_as_json(alice, alice_api):
    response = upload(
        alice_api,
        "stats.py",
        PYTHON_FILE,
        locations=["github.com/alice/stats", "stats.example.org"],
        preferences=json.dumps({"train-ai": "no"}),
        licence="MIT",
    )
    assert response.status_code == 201, response.json()
    work = Work.objects.get(owner=alice)
    assert sorted(work.locations.values_list("normalised", flat=True)) == [
        "github.com/alice/stats",
        "stats.example.org",
    ]
    assert response.json()["preferences"]["train-genai"]["source"] == "parent"


# --- every bad input, with the form's message and a stable code -------------------------------


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    return body


def test_a_text_over_the_limit_is_413_text_too_large(alice_api, settings):
    settings.REGISTRY = {**settings.REGISTRY, "MAX_TEXT_BYTES": 1000}
    body = _error(register_text(alice_api, text="x" * 1500), 413, "text_too_large")
    assert body["detail"] == "The text is 1.5 KB; the limit is 1000 bytes."
    assert body["errors"] == {"text": ["The text is 1.5 KB; the limit is 1000 bytes."]}
    assert not Work.objects.exists()


def test_a_request_body_far_over_the_limit_is_refused_before_it_is_read(alice_api, settings):
    settings.REGISTRY = {**settings.REGISTRY, "MAX_TEXT_BYTES": 10}
    body = _error(register_text(alice_api, text="x" * (2 * 1024 * 1024)), 413, "payload_too_large")
    assert body["detail"].startswith("The request body is 2 MB; the limit is ")


def test_a_file_over_the_limit_is_413_file_too_large(alice_api, settings):
    settings.REGISTRY = {**settings.REGISTRY, "MAX_FILE_BYTES": 1024}
    body = _error(upload(alice_api, "big.txt", b"a" * 2048), 413, "file_too_large")
    assert body["detail"] == "The file is 2 KB; the limit is 1 KB."
    assert body["errors"] == {"file": ["The file is 2 KB; the limit is 1 KB."]}


def test_an_archive_over_the_limit_is_413_file_too_large(alice_api, settings):
    settings.REGISTRY = {**settings.REGISTRY, "MAX_ARCHIVE_BYTES": 100}
    body = _error(upload(alice_api, "r.zip", make_zip({"a.py": PYTHON_FILE})), 413, "file_too_large")
    assert body["detail"].startswith("The archive is ") and body["detail"].endswith(
        "; the limit is 100 bytes."
    )


@pytest.mark.parametrize(
    "name,data,reason,message",
    [
        (
            "r.zip",
            make_zip({"../evil.py": PYTHON_FILE}),
            "path_traversal",
            "The archive contains a path that leaves its folder (../evil.py); '..' is not accepted.",
        ),
        (
            "r.tar.gz",
            make_tar({"/etc/evil.py": PYTHON_FILE}),
            "absolute_path",
            "The archive contains an absolute path (/etc/evil.py); only relative paths are accepted.",
        ),
        (
            "r.tgz",
            make_tar({"a.py": PYTHON_FILE}, symlinks={"b.py": "/etc/passwd"}),
            "link",
            "The archive contains a link (b.py -> /etc/passwd); links are not accepted.",
        ),
        (
            "r.zip",
            make_zip({"a.py": PYTHON_FILE}, symlinks={"b.py": "/etc/passwd"}),
            "link",
            "The archive contains a symbolic link (b.py); links are not accepted.",
        ),
        (
            "r.zip",
            make_zip({"a.bin": b"\x00\x01", "b.bin": b"\x00\x02"}),
            "no_text_files",
            "The archive r.zip has no text files to register (2 skipped).",
        ),
    ],
)
def test_an_unsafe_or_empty_archive_is_archive_rejected_with_the_reason(
    alice_api, name, data, reason, message
):
    body = _error(upload(alice_api, name, data), 400, "archive_rejected")
    assert (body["reason"], body["detail"]) == (reason, message)
    assert body["errors"] == {"file": [message]}
    assert not Work.objects.exists()


def test_a_zip_bomb_is_archive_rejected_for_its_compression_ratio(alice_api):
    body = _error(
        upload(alice_api, "bomb.zip", make_zip({"bomb.txt": b"0" * (3 * 1024 * 1024)})),
        400,
        "archive_rejected",
    )
    assert body["reason"] == "compression_ratio"
    assert body["detail"].endswith("the limit is 100 times (this looks like a zip bomb).")


def test_archive_limits_are_reasons_too(alice_api, settings):
    settings.REGISTRY = {**settings.REGISTRY, "MAX_ARCHIVE_FILES": 2}
    body = _error(
        upload(alice_api, "r.zip", make_zip({f"{i}.py": PYTHON_FILE for i in range(3)})),
        400,
        "archive_rejected",
    )
    assert (body["reason"], body["detail"]) == ("too_many_files", "The archive has 3 files; the limit is 2.")
    corrupt = _error(upload(alice_api, "r.zip", b"PK\x03\x04 definitely not a zip"), 400, "archive_rejected")
    assert corrupt["reason"] == "corrupt"


def test_a_file_sent_as_an_archive_that_is_not_one_is_unsupported_archive(alice_api):
    body = _error(
        upload(alice_api, "repo.rar", b"Rar!\x1a\x07", source="archive"), 400, "unsupported_archive"
    )
    assert body["detail"] == "repo.rar is not a supported archive; upload a .zip, .tar.gz or .tgz file."


def test_a_binary_file_is_binary_file(alice_api):
    body = _error(upload(alice_api, "logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00"), 400, "binary_file")
    assert (
        body["detail"]
        == "logo.png looks like a binary file; upload a text file (or an archive of text files)."
    )


@pytest.mark.parametrize(
    "licence,message",
    [
        (
            "MIT OR Foo-1.0",
            "Unknown SPDX licence identifier: Foo-1.0. Use ids from https://spdx.org/licenses/ "
            "such as MIT, Apache-2.0 or GPL-3.0-or-later.",
        ),
        ("MIT AND (", "'MIT AND (' is not a valid SPDX licence expression (e.g. 'MIT OR Apache-2.0')."),
    ],
)
def test_a_bad_spdx_licence_is_invalid_licence_with_the_forms_message(alice_api, licence, message):
    body = _error(register_text(alice_api, licence=licence), 400, "invalid_licence")
    assert body["detail"] == message
    assert body["errors"] == {"licence": [message]}


def test_field_errors_are_invalid_with_each_field_named(alice_api):
    body = _error(
        register_text(alice_api, title="   ", kind="poetry", locations=["https://exa mple.org/x"]),
        400,
        "invalid",
    )
    assert body["errors"]["title"] == ["A title is required."]
    assert body["errors"]["kind"] == ['"poetry" is not a valid choice.']
    assert body["errors"]["locations"] == {"0": ["'https://exa mple.org/x' is not a valid URL or domain."]}


def test_unknown_preferences_are_invalid_naming_the_vocabulary(alice_api):
    body = _error(register_text(alice_api, preferences={"train-ai": "maybe", "sell": "no"}), 400, "invalid")
    assert body["errors"]["preferences"] == {
        "train-ai": ["Preference 'train-ai' must be one of yes, no, unset, not 'maybe'."],
        "sell": ["Unknown preference 'sell'; known: train-ai, train-genai, ai-use, search, attribution."],
    }


def test_it_asks_for_a_text_or_a_file_and_not_both(alice_api):
    body = _error(alice_api.post("works", {"title": "Nothing", "kind": "prose"}), 400, "invalid")
    assert body["errors"] == {
        "text": ["Send a text (JSON) or upload a file or archive (multipart, field 'file')."]
    }
    body = _error(register_text(alice_api, text="   \n"), 400, "invalid")
    assert body["errors"] == {"text": ["The text is empty."]}
    body = _error(upload(alice_api, "a.txt", b"hello", text=PROSE), 400, "invalid")
    assert body["errors"] == {"non_field_errors": ["Send a text or a file, not both."]}


def test_malformed_json_is_malformed_json(alice_api):
    response = alice_api.client.post(
        "/api/v1/works", "{nope", content_type="application/json", **alice_api.headers
    )
    _error(response, 400, "malformed_json")


# --- reading, listing, deleting: own works only -------------------------------------------------


def test_alice_lists_her_works_with_their_state_and_documents(alice_api, bob_api):
    register_text(alice_api, title="Mine")
    register_text(bob_api, title="Bob's")
    works = alice_api.get("works").json()["works"]
    assert [(w["title"], w["state"]) for w in works] == [("Mine", "ready")]
    assert "documents" not in works[0]
    [work] = alice_api.get("works", include="documents").json()["works"]
    assert [(d["path"], d["state"]) for d in work["documents"]] == [("text", "ready")]
    assert all("text" not in d for d in work["documents"])


def test_a_failed_document_is_reported_with_its_reason(alice, alice_api, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("tokeniser exploded")

    monkeypatch.setattr(engine, "fingerprint_document_text", broken)
    work_id = register_text(alice_api).json()["id"]
    body = alice_api.get(f"works/{work_id}").json()
    assert body["state"] == "failed"
    assert body["reasons"] == ["text: The engine could not fingerprint this document: tokeniser exploded"]
    assert (
        body["documents"][0]["error"] == "The engine could not fingerprint this document: tokeniser exploded"
    )
    assert alice_api.get("works").json()["works"][0]["documents_count"]["failed"] == 1


def test_the_text_is_returned_to_its_owner_only_when_asked(alice_api):
    work_id = register_text(alice_api).json()["id"]
    assert "text" not in alice_api.get(f"works/{work_id}").json()["documents"][0]
    assert alice_api.get(f"works/{work_id}", include="text").json()["documents"][0]["text"] == PROSE


def test_fingerprints_only_storage_has_no_text_to_return(alice_api):
    work_id = register_text(alice_api, storage="fingerprints").json()["id"]
    assert alice_api.get(f"works/{work_id}", include="text").json()["documents"][0]["text"] is None


def test_bob_cannot_see_change_or_delete_alices_work(alice_api, bob_api):
    work_id = register_text(alice_api).json()["id"]
    for response in (
        bob_api.get(f"works/{work_id}"),
        bob_api.get(f"works/{work_id}", include="text"),
        bob_api.delete(f"works/{work_id}"),
        bob_api.get(f"works/{work_id}/preferences"),
        bob_api.patch(f"works/{work_id}/preferences", {"values": {"train-ai": "yes"}}),
    ):
        body = _error(response, 404, "not_found")
        assert PROSE[:20] not in json.dumps(body)
    assert Work.objects.filter(public_id=work_id).exists()
    assert not PreferenceStatement.objects.exists()


def test_alice_deletes_her_work(alice_api):
    work_id = register_text(alice_api).json()["id"]
    assert alice_api.delete(f"works/{work_id}").status_code == 204
    assert not Work.objects.exists() and not Document.objects.exists()
    _error(alice_api.get(f"works/{work_id}"), 404, "not_found")


# --- preferences ------------------------------------------------------------------------------


def test_alice_sets_and_reads_a_works_preferences_with_history(alice_api):
    work_id = register_text(alice_api).json()["id"]
    response = alice_api.patch(
        f"works/{work_id}/preferences", {"values": {"train-ai": "no"}, "note": "changed my mind"}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [(s["key"], s["value"], s["note"]) for s in body["recorded"]] == [
        ("train-ai", "no", "changed my mind")
    ]
    assert body["values"]["train-ai"] == "no"
    assert body["effective"]["train-genai"] == {
        "value": "no",
        "source": "parent",
        "via": "train-ai",
        "reason": body["effective"]["train-genai"]["reason"],
    }
    alice_api.patch(f"works/{work_id}/preferences", {"values": {"train-ai": "unset"}})
    history = alice_api.get(f"works/{work_id}/preferences").json()["history"]
    assert [(s["key"], s["value"]) for s in history] == [("train-ai", "unset"), ("train-ai", "no")]


def test_alice_sets_her_defaults_and_they_reach_her_works(alice_api):
    work_id = register_text(alice_api).json()["id"]
    response = alice_api.patch("preferences/defaults", {"values": {"search": "no", "attribution": "yes"}})
    assert response.status_code == 200, response.json()
    assert response.json()["work"] is None
    defaults = alice_api.get("preferences/defaults").json()
    assert defaults["values"]["search"] == "no"
    assert {(s["key"], s["value"]) for s in defaults["history"]} == {("search", "no"), ("attribution", "yes")}
    effective = alice_api.get(f"works/{work_id}").json()["preferences"]
    assert (effective["search"]["value"], effective["search"]["source"]) == ("no", "default")


def test_a_preference_outside_the_vocabulary_is_invalid(alice_api):
    body = _error(
        alice_api.patch("preferences/defaults", {"values": {"train-ai": "perhaps"}}), 400, "invalid"
    )
    assert body["errors"] == {
        "values": {"train-ai": ["Preference 'train-ai' must be one of yes, no, unset, not 'perhaps'."]}
    }


# --- who may call --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "works"),
        ("post", "works"),
        ("get", "works/fingerprints"),
        ("post", "works/fingerprints"),
        ("get", "works/abcdefghij"),
        ("delete", "works/abcdefghij"),
        ("get", "preferences/defaults"),
        ("patch", "preferences/defaults"),
    ],
)
def test_a_filter_key_gets_403_insufficient_scope_on_every_author_endpoint(carol_api, method, path):
    client, headers = carol_api.client, carol_api.headers
    if method in ("post", "patch"):
        response = getattr(client, method)(
            f"/api/v1/{path}", "{}", content_type="application/json", **headers
        )
    else:
        response = getattr(client, method)(f"/api/v1/{path}", **headers)
    body = _error(response, 403, "insufficient_scope")
    assert "needs a key with the 'author' scope" in body["detail"]


def test_no_key_is_401(db):
    response = Client().get("/api/v1/works")
    _error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_logged_in_author_can_use_the_api_from_her_browser_session(
    client_alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_alice.post(
            "/api/v1/works",
            json.dumps({"title": "From the browser", "kind": "prose", "text": PROSE}),
            content_type="application/json",
        )
    assert response.status_code == 201, response.json()
    assert [w["title"] for w in client_alice.get("/api/v1/works").json()["works"]] == ["From the browser"]


def test_a_session_write_without_the_csrf_token_is_refused(alice):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    response = browser.post(
        "/api/v1/works", json.dumps({"title": "x", "text": PROSE}), content_type="application/json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


# --- registering by fingerprints ---------------------------------------------------------------


def _fingerprint_b64(text: str, *, kind="code", language="python", config=None) -> str:
    config = config or engine.engine_config()
    return base64.b64encode(
        fingerprint(text, kind=kind, language=language, config=config).to_bytes()
    ).decode()


def _fingerprint_body(**overrides):
    body = {
        "title": "Stats (private)",
        "kind": "code",
        "licence": "MIT",
        "documents": [
            {
                "path": "src/stats.py",
                "language": "python",
                "fingerprint": _fingerprint_b64(PYTHON_FILE.decode()),
            }
        ],
    }
    body.update(overrides)
    return body


def test_the_fingerprint_params_endpoint_says_how_to_fingerprint(alice_api):
    body = alice_api.get("works/fingerprints").json()
    assert EngineConfig(**body["engine"]) == engine.engine_config()
    assert body["fingerprint_params"]["code"]["channel"] == "abstract"
    assert body["fingerprint_params"]["prose"]["channel"] == "exact"
    assert body["limits"]["max_documents"] > 0


def test_a_work_registered_by_fingerprints_is_ready_at_once_and_holds_no_text(alice, alice_api):
    response = alice_api.post(
        "works/fingerprints", _fingerprint_body(skipped=[{"path": "logo.png", "reason": "binary"}])
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["state"], body["storage"], body["licence"]) == ("ready", "fingerprints", "MIT")
    assert body["import_report"]["skipped"] == [{"path": "logo.png", "reason": "binary"}]
    doc = Document.objects.get(work__owner=alice)
    assert (doc.path, doc.language, doc.state) == ("src/stats.py", "python", "ready")
    assert doc.text is None and doc.pending_text is None
    assert doc.fingerprinted_at is not None and doc.exact_hash
    # ...and the registry finds copies of it like any other work.
    [hit] = engine.find_matches(PYTHON_FILE.decode(), kind="code", language="python")
    assert hit.document_id == doc.pk


def test_a_fingerprint_made_with_other_parameters_is_refused_naming_the_parameter(alice_api):
    other = EngineConfig(num_perm=64)
    documents = [{"path": "a.py", "fingerprint": _fingerprint_b64(PYTHON_FILE.decode(), config=other)}]
    body = _error(
        alice_api.post("works/fingerprints", _fingerprint_body(documents=documents)),
        400,
        "fingerprint_params_mismatch",
    )
    assert (body["parameter"], body["expected"], body["got"], body["path"]) == ("num_perm", 128, 64, "a.py")
    assert "num_perm=64" in body["detail"] and "num_perm=128" in body["detail"]
    assert not Work.objects.exists()


def test_a_prose_fingerprint_in_a_code_work_is_a_kind_mismatch(alice_api):
    documents = [{"path": "a.md", "fingerprint": _fingerprint_b64(PROSE, kind="prose", language=None)}]
    body = _error(
        alice_api.post("works/fingerprints", _fingerprint_body(documents=documents)),
        400,
        "fingerprint_params_mismatch",
    )
    assert (body["parameter"], body["expected"], body["got"]) == ("kind", "code", "prose")


@pytest.mark.parametrize(
    "blob", ["not base64!!", base64.b64encode(b"DDFP garbage").decode(), base64.b64encode(b"").decode()]
)
def test_bytes_that_are_not_a_fingerprint_are_invalid_fingerprint(alice_api, blob):
    documents = [{"path": "a.py", "fingerprint": blob}]
    body = _error(
        alice_api.post("works/fingerprints", _fingerprint_body(documents=documents)),
        400,
        "invalid_fingerprint",
    )
    assert body["path"] == "a.py" and body["detail"].startswith("a.py: ")
    assert not Work.objects.exists()


def test_a_truncated_fingerprint_is_invalid_fingerprint(alice_api):
    whole = base64.b64decode(_fingerprint_b64(PYTHON_FILE.decode()))
    documents = [{"path": "a.py", "fingerprint": base64.b64encode(whole[:-4]).decode()}]
    body = _error(
        alice_api.post("works/fingerprints", _fingerprint_body(documents=documents)),
        400,
        "invalid_fingerprint",
    )
    assert "bytes, its header says" in body["detail"]


def test_the_fingerprint_upload_has_a_size_limit(alice_api, settings):
    settings.REGISTRY = {**settings.REGISTRY, "MAX_FINGERPRINT_UPLOAD_BYTES": 1000}
    body = _error(alice_api.post("works/fingerprints", _fingerprint_body()), 413, "payload_too_large")
    assert body["detail"].endswith("the limit is 1000 bytes.")


def test_the_fingerprint_upload_has_the_archives_document_limit(alice_api, settings):
    settings.REGISTRY = {**settings.REGISTRY, "MAX_ARCHIVE_FILES": 1}
    fp = _fingerprint_b64(PYTHON_FILE.decode())
    documents = [{"path": "a.py", "fingerprint": fp}, {"path": "b.py", "fingerprint": fp}]
    body = _error(
        alice_api.post("works/fingerprints", _fingerprint_body(documents=documents)), 400, "invalid"
    )
    assert body["errors"] == {"documents": ["2 documents; the limit is 1 per work."]}


def test_fingerprint_upload_metadata_is_validated_like_the_form(alice_api):
    _error(alice_api.post("works/fingerprints", _fingerprint_body(licence="Foo-1.0")), 400, "invalid_licence")
    body = _error(alice_api.post("works/fingerprints", _fingerprint_body(documents=[])), 400, "invalid")
    assert "documents" in body["errors"]
