"""Reading uploads into samples: each bad upload with the message the user gets."""

from __future__ import annotations

import io
import tarfile
import zipfile

import pytest

from registry.scans import intake

from .conftest import jsonl, jsonl_intake


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _read_archive(data: bytes, name: str = "out.zip") -> intake.Intake:
    return intake.read_archive(io.BytesIO(data), name=name, size=len(data))


def test_it_reads_one_sample_per_jsonl_line_with_id_text_and_language():
    samples = list(
        jsonl_intake(jsonl({"id": 7, "text": "x = 1\n", "language": "Python"}, "", {"text": "hi"})).samples
    )
    assert samples == [
        intake.Sample(id="7", text="x = 1\n", language="python"),
        intake.Sample(id="line 3", text="hi", language=None),
    ]


def test_a_malformed_jsonl_line_is_a_failed_sample_with_its_line_number():
    samples = list(
        jsonl_intake(
            jsonl({"id": "a", "text": "fine"}, '{"id": "b", "text": ', "[1, 2]", {"id": "d"}, {"text": 5})
        ).samples
    )
    assert [s.error for s in samples] == [
        "",
        "line 2: not valid JSON (Expecting value at column 21)",
        "line 3: expected a JSON object, got list",
        'line 4: no "text" field',
        'line 5: "text" is not a string',
    ]
    assert [s.id for s in samples] == ["a", "line 2", "line 3", "d", "line 5"]


def test_a_file_that_is_not_jsonl_at_all_is_rejected():
    with pytest.raises(intake.IntakeError, match="is not a JSON Lines file: no line is a JSON object"):
        list(jsonl_intake(b"hello world\nthis is prose, not JSON\n", name="notes.jsonl").samples)


def test_a_binary_file_is_rejected_as_not_jsonl():
    with pytest.raises(intake.IntakeError, match="not a JSON Lines file \\(it looks binary\\)"):
        jsonl_intake(b"\x89PNG\r\n\x1a\n\x00\x00\x00")


def test_an_empty_file_is_rejected():
    with pytest.raises(intake.IntakeError, match="samples.jsonl is empty"):
        list(jsonl_intake(b"\n  \n").samples)


def test_a_file_without_a_text_field_anywhere_is_rejected():
    with pytest.raises(intake.IntakeError, match='No line of samples.jsonl has a "text" field'):
        list(jsonl_intake(jsonl({"id": 1, "content": "x"}, {"id": 2, "body": "y"})).samples)


def test_a_file_over_the_size_limit_is_rejected_with_the_limit_named(settings):
    settings.REGISTRY = {**settings.REGISTRY, "MAX_SCAN_BYTES": 1024}
    with pytest.raises(intake.IntakeError, match="is 2 KB; the limit is 1 KB"):
        jsonl_intake(b"x" * 2048)


def test_too_many_samples_are_rejected_with_the_limit_named(settings):
    settings.REGISTRY = {**settings.REGISTRY, "MAX_SCAN_SAMPLES": 3}
    with pytest.raises(intake.IntakeError, match="more than 3 samples; the limit is 3 per scan"):
        list(jsonl_intake(jsonl(*({"text": str(i)} for i in range(4)))).samples)
    with pytest.raises(intake.IntakeError, match="the limit is 3 per scan"):
        intake.read_samples([{"text": "a"}] * 4)


def test_an_archive_gives_one_sample_per_text_file_and_skips_and_counts_binary_files():
    data = _zip(
        {
            "src/a.py": b"print('a')\n",
            "README.md": b"# Title\n",
            "logo.png": b"\x89PNG\x00\x00\x01",
            "e.txt": b"  ",
        }
    )
    read = _read_archive(data)
    samples = list(read.samples)
    assert {(s.id, s.language) for s in samples} == {("src/a.py", "python"), ("README.md", "text")}
    assert {(s["path"], s["reason"]) for s in read.skipped} == {
        ("logo.png", "binary file"),
        ("e.txt", "only whitespace"),
    }


@pytest.mark.parametrize(
    ("name", "message"),
    [("../evil.py", "leaves its folder"), ("/etc/passwd", "absolute path")],
)
def test_an_archive_with_path_traversal_is_rejected(name, message):
    with pytest.raises(intake.IntakeError, match=message):
        _read_archive(_zip({name: b"x = 1\n"}))


def test_an_archive_with_a_symlink_is_rejected():
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        link = tarfile.TarInfo("link.py")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        archive.addfile(link)
    with pytest.raises(intake.IntakeError, match="(?i)link"):
        _read_archive(buffer.getvalue(), name="out.tar.gz")


def test_a_zip_bomb_is_rejected(settings):
    data = _zip({"bomb.txt": b"0" * (3 * 1024 * 1024)})
    with pytest.raises(intake.IntakeError, match="zip bomb"):
        _read_archive(data)


def test_an_archive_of_only_binary_files_is_rejected():
    with pytest.raises(intake.IntakeError, match="no text files to scan \\(1 skipped\\)"):
        _read_archive(_zip({"a.bin": b"\x00\x01\x02\x03"}))


def test_samples_in_the_request_over_the_sample_limit_fail_alone(settings):
    settings.REGISTRY = {**settings.REGISTRY, "MAX_FILE_BYTES": 10}
    samples = list(intake.read_samples([{"id": "big", "text": "x" * 11}, {"text": "small"}]).samples)
    assert samples[0].error == "sample 0: the text is 11 bytes; the limit per sample is 10 bytes"
    assert samples[1] == intake.Sample(id="sample 1", text="small", language=None)


def test_the_payload_round_trips_without_the_text_of_failed_samples():
    blob = intake.pack_payload([intake.Sample("a", "text", "python"), intake.Sample("b", error="why")])
    assert intake.unpack_payload(blob) == [
        {"id": "a", "text": "text", "language": "python"},
        {"id": "b", "error": "why"},
    ]
