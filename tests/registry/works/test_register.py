"""Registering works from the web: text, file, archive; every bad input with its message."""

from __future__ import annotations

import pytest

from registry.preferences.models import PreferenceStatement
from registry.works import services
from registry.works.models import Document, Location, Work
from tests.registry.works.builders import PYTHON_FILE, make_tar, make_zip
from tests.registry.works.conftest import PROSE, form_errors, upload


def test_alice_registers_a_pasted_text_and_it_becomes_ready(alice, register):
    response = register(title="The ledger", text=PROSE, licence="cc-by-4.0", attribution="By Alice")
    work = Work.objects.get(owner=alice)
    assert response.status_code == 302 and response.url == work.get_absolute_url()
    assert work.licence == "CC-BY-4.0"
    doc = work.documents.get()
    assert doc.state == Document.State.READY
    assert doc.text == PROSE and doc.fingerprint and doc.fingerprinted_at
    assert len(work.public_id) == 10 and not work.public_id.isdigit()


def test_alice_uploads_a_python_file_and_its_language_comes_from_the_extension(alice, register):
    register(title="Stats", kind="code", file=upload("stats.py", PYTHON_FILE))
    doc = Document.objects.get(work__owner=alice)
    assert (doc.path, doc.language, doc.state) == ("stats.py", "python", "ready")


def test_the_language_set_on_the_work_overrides_the_extension(alice, register):
    register(title="Stats", kind="code", language="cython", file=upload("stats.py", PYTHON_FILE))
    assert Document.objects.get(work__owner=alice).language == "cython"


@pytest.mark.parametrize(
    "name,make", [("repo.zip", make_zip), ("repo.tar.gz", make_tar), ("repo.tgz", make_tar)]
)
def test_each_text_file_of_an_archive_becomes_a_document(alice, register, name, make):
    data = make(
        {"repo/stats.py": PYTHON_FILE, "repo/README.md": PROSE.encode(), "repo/logo.png": b"\x89PNG\x00\x01"}
    )
    register(title="Repo", kind="code", file=upload(name, data))
    work = Work.objects.get(owner=alice)
    assert work.source == "archive"
    assert sorted(work.documents.values_list("path", "language")) == [
        ("repo/README.md", ""),
        ("repo/stats.py", "python"),
    ]
    assert work.import_report["skipped"] == [{"path": "repo/logo.png", "reason": "binary file"}]
    assert work.import_report["counts"] == {"taken": 2, "skipped": 1, "binary": 1}


def test_the_work_page_shows_what_was_taken_and_skipped_and_why(client_alice, alice, register):
    data = make_zip(
        {"a.py": PYTHON_FILE, "b.bin": b"\x00\x01\x02", "c.txt": "café naïve".encode("cp1252") * 30}
    )
    register(title="Repo", kind="code", file=upload("r.zip", data))
    page = client_alice.get(Work.objects.get(owner=alice).get_absolute_url()).content.decode()
    assert "b.bin" in page and "binary file" in page
    assert "not valid UTF-8; decoded as cp1252" in page


def test_a_non_utf8_file_is_decoded_with_the_fallback_and_reported(alice, register):
    register(title="Old", file=upload("old.txt", ("Café au lait, naïve façade. " * 20).encode("cp1252")))
    work = Work.objects.get(owner=alice)
    doc = work.documents.get()
    assert doc.encoding == "cp1252" and "Café" in doc.text
    assert work.import_report["taken"][0]["note"] == "not valid UTF-8; decoded as cp1252"


def test_fingerprints_only_storage_keeps_no_text_after_fingerprinting(alice, register):
    register(title="Private", text=PROSE, storage="fingerprints")
    doc = Document.objects.get(work__owner=alice)
    assert doc.state == "ready" and doc.fingerprint
    assert doc.text is None and doc.pending_text is None


def test_canonical_locations_are_normalised_for_lookup(alice, register):
    register(
        title="Site",
        text=PROSE,
        locations="https://www.Example.ORG/Essays/Ledger/\ngit@github.com:alice/ledger.git\nexample.net",
    )
    assert sorted(Location.objects.values_list("kind", "normalised")) == [
        ("domain", "example.net"),
        ("repository", "github.com/alice/ledger"),
        ("url", "example.org/Essays/Ledger"),
    ]


# --- Bad input: the exact message the author gets ----------------------------------------------


def test_it_rejects_a_text_over_the_limit(alice, register, settings):
    settings.REGISTRY = {**settings.REGISTRY, "MAX_TEXT_BYTES": 1000}
    response = register(text="x" * 1500)
    assert form_errors(response) == ["The text is 1.5 KB; the limit is 1000 bytes."]
    assert not Work.objects.exists()


def test_it_rejects_a_file_over_the_limit(alice, register, settings):
    settings.REGISTRY = {**settings.REGISTRY, "MAX_FILE_BYTES": 5 * 1024 * 1024}
    response = register(file=upload("big.txt", b"a" * 6_500_000))
    assert form_errors(response) == ["The file is 6.2 MB; the limit is 5 MB."]


def test_it_rejects_an_archive_over_the_limit(alice, register, settings):
    settings.REGISTRY = {**settings.REGISTRY, "MAX_ARCHIVE_BYTES": 100}
    response = register(file=upload("r.zip", make_zip({"a.py": PYTHON_FILE})))
    [message] = form_errors(response)
    assert message.startswith("The archive is ") and message.endswith("; the limit is 100 bytes.")


def test_it_rejects_an_archive_with_too_many_files(alice, register, settings):
    settings.REGISTRY = {**settings.REGISTRY, "MAX_ARCHIVE_FILES": 2}
    response = register(file=upload("r.zip", make_zip({f"{i}.py": PYTHON_FILE for i in range(3)})))
    assert form_errors(response) == ["The archive has 3 files; the limit is 2."]


def test_it_rejects_a_zip_bomb(alice, register):
    response = register(file=upload("bomb.zip", make_zip({"bomb.txt": b"0" * (3 * 1024 * 1024)})))
    [message] = form_errors(response)
    assert message.startswith("The archive entry bomb.txt expands ")
    assert message.endswith("the limit is 100 times (this looks like a zip bomb).")


def test_it_rejects_an_archive_that_unpacks_past_the_limit(alice, register, settings):
    settings.REGISTRY = {**settings.REGISTRY, "MAX_ARCHIVE_UNPACKED_BYTES": 1024}
    response = register(file=upload("r.tar.gz", make_tar({"a.py": PYTHON_FILE, "b.py": PYTHON_FILE})))
    assert form_errors(response) == ["The archive unpacks to more than 1 KB; the limit is 1 KB."]


def test_it_rejects_path_traversal_in_an_archive(alice, register):
    response = register(file=upload("r.zip", make_zip({"../evil.py": PYTHON_FILE})))
    assert form_errors(response) == [
        "The archive contains a path that leaves its folder (../evil.py); '..' is not accepted."
    ]


def test_it_rejects_an_absolute_path_in_an_archive(alice, register):
    response = register(file=upload("r.tar.gz", make_tar({"/etc/evil.py": PYTHON_FILE})))
    assert form_errors(response) == [
        "The archive contains an absolute path (/etc/evil.py); only relative paths are accepted."
    ]


def test_it_rejects_a_symlink_in_a_tar(alice, register):
    response = register(
        file=upload("r.tgz", make_tar({"a.py": PYTHON_FILE}, symlinks={"b.py": "/etc/passwd"}))
    )
    assert form_errors(response) == [
        "The archive contains a link (b.py -> /etc/passwd); links are not accepted."
    ]


def test_it_rejects_a_symlink_in_a_zip(alice, register):
    response = register(
        file=upload("r.zip", make_zip({"a.py": PYTHON_FILE}, symlinks={"b.py": "/etc/passwd"}))
    )
    assert form_errors(response) == ["The archive contains a symbolic link (b.py); links are not accepted."]


def test_it_rejects_a_corrupt_archive(alice, register):
    response = register(file=upload("r.zip", b"PK\x03\x04 definitely not a zip"))
    [message] = form_errors(response)
    assert message.startswith("The archive r.zip is corrupt or not a valid .zip file")


def test_it_rejects_an_archive_with_only_binary_files(alice, register):
    response = register(file=upload("r.zip", make_zip({"a.bin": b"\x00\x01", "b.bin": b"\x00\x02"})))
    assert form_errors(response) == ["The archive r.zip has no text files to register (2 skipped)."]


def test_it_rejects_a_binary_file(alice, register):
    response = register(file=upload("logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00"))
    assert form_errors(response) == [
        "logo.png looks like a binary file; upload a text file (or an archive of text files)."
    ]


def test_it_rejects_an_unknown_spdx_licence_naming_the_id(alice, register):
    response = register(text=PROSE, licence="MIT OR Foo-1.0")
    assert form_errors(response) == [
        "Unknown SPDX licence identifier: Foo-1.0. Use ids from https://spdx.org/licenses/ "
        "such as MIT, Apache-2.0 or GPL-3.0-or-later."
    ]


def test_it_rejects_a_malformed_licence_expression(alice, register):
    response = register(text=PROSE, licence="MIT AND (")
    assert form_errors(response) == [
        "'MIT AND (' is not a valid SPDX licence expression (e.g. 'MIT OR Apache-2.0')."
    ]


def test_it_rejects_an_empty_title(alice, register):
    response = register(title="   ", text=PROSE)
    assert form_errors(response) == ["A title is required."]


def test_it_rejects_an_invalid_url(alice, register):
    response = register(text=PROSE, locations="https://exa mple.org/x\nhttps://ok.example.org")
    assert form_errors(response) == ["'https://exa mple.org/x' is not a valid URL or domain."]


def test_it_asks_for_a_text_or_a_file(alice, register):
    assert form_errors(register(text="")) == ["Paste a text or upload a file."]
    assert form_errors(register(text=PROSE, file=upload("a.txt", b"hello"))) == [
        "Paste a text or upload a file, not both."
    ]


# --- All or nothing ---------------------------------------------------------------------------


def test_a_failure_part_way_through_registration_leaves_nothing(alice, monkeypatch):
    prepared = services.prepare_archive(
        name="r.zip",
        fileobj=__import__("io").BytesIO(
            data := make_zip({"a.py": PYTHON_FILE, "b.py": PYTHON_FILE + b"\n# b\n"})
        ),
        size=len(data),
    )
    real = services._document_create
    calls = []

    def fail_on_second(**fields):
        calls.append(fields["path"])
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real(**fields)

    monkeypatch.setattr(services, "_document_create", fail_on_second)
    with pytest.raises(RuntimeError, match="disk on fire"):
        services.work_register(
            owner=alice,
            title="Half",
            kind="code",
            source="archive",
            prepared=prepared,
            locations=["https://example.org/half"],
            preferences={"train-ai": "no"},
        )
    assert calls == ["a.py", "b.py"]
    assert not Work.objects.exists() and not Document.objects.exists() and not Location.objects.exists()


def test_a_failure_recording_the_initial_preferences_leaves_nothing(alice, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("preferences unavailable")

    monkeypatch.setattr(services, "preference_set", broken)
    with pytest.raises(RuntimeError):
        services.work_register(
            owner=alice,
            title="Half",
            kind="prose",
            source="text",
            prepared=services.prepare_text(text=PROSE),
            preferences={"train-ai": "no"},
        )
    assert not Work.objects.exists() and not Document.objects.exists()
    assert not PreferenceStatement.objects.exists()


def test_registration_records_the_initial_preferences_in_the_same_transaction(alice, register):
    register(title="Prefs", text=PROSE, preferences={"train-ai": "no", "search": "yes"})
    work = Work.objects.get(owner=alice)
    assert sorted(work.preference_statements.values_list("key", "value", "note")) == [
        ("search", "yes", "at registration"),
        ("train-ai", "no", "at registration"),
    ]
