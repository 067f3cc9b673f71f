"""Archive safety: every rejection with the message the author reads."""

import io
import zipfile

import pytest

from registry.works.archives import ArchiveError, Limits, format_size, read_archive_bytes
from tests.registry.works.builders import make_tar, make_zip

LIMITS = Limits(
    max_archive_bytes=1024 * 1024,
    max_unpacked_bytes=4 * 1024 * 1024,
    max_files=10,
    max_ratio=100,
    max_file_bytes=3 * 1024 * 1024,
)


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (900, "900 bytes"),
        (12 * 1024, "12 KB"),
        (5 * 1024 * 1024, "5 MB"),
        (6_500_000, "6.2 MB"),
    ],
)
def test_format_size_reads_like_a_person_would_say_it(size, text):
    assert format_size(size) == text


@pytest.mark.parametrize("make", [make_zip, make_tar], ids=["zip", "tar.gz"])
def test_it_reads_the_text_files_of_an_archive(make):
    name = "repo.zip" if make is make_zip else "repo.tar.gz"
    contents = read_archive_bytes(
        make({"repo/a.py": b"x = 1\n", "repo/b.md": b"# B\n"}), name=name, limits=LIMITS
    )
    assert {e.path: e.data for e in contents.entries} == {"repo/a.py": b"x = 1\n", "repo/b.md": b"# B\n"}


@pytest.mark.parametrize("make,name", [(make_zip, "r.zip"), (make_tar, "r.tgz")])
def test_it_rejects_archive_with_path_traversal(make, name):
    with pytest.raises(ArchiveError) as exc:
        read_archive_bytes(make({"../evil.py": b"x = 1\n"}), name=name, limits=LIMITS)
    assert (
        str(exc.value)
        == "The archive contains a path that leaves its folder (../evil.py); '..' is not accepted."
    )


@pytest.mark.parametrize("make,name", [(make_zip, "r.zip"), (make_tar, "r.tar.gz")])
def test_it_rejects_archive_with_absolute_path(make, name):
    with pytest.raises(ArchiveError) as exc:
        read_archive_bytes(make({"/etc/passwd": b"root:x:0:0\n"}), name=name, limits=LIMITS)
    assert (
        str(exc.value)
        == "The archive contains an absolute path (/etc/passwd); only relative paths are accepted."
    )


def test_it_rejects_a_symlink_in_a_zip():
    data = make_zip({"a.py": b"x = 1\n"}, symlinks={"link": "/etc/passwd"})
    with pytest.raises(ArchiveError) as exc:
        read_archive_bytes(data, name="r.zip", limits=LIMITS)
    assert str(exc.value) == "The archive contains a symbolic link (link); links are not accepted."


def test_it_rejects_a_symlink_in_a_tar():
    data = make_tar({"a.py": b"x = 1\n"}, symlinks={"link": "/etc/passwd"})
    with pytest.raises(ArchiveError) as exc:
        read_archive_bytes(data, name="r.tar.gz", limits=LIMITS)
    assert str(exc.value) == "The archive contains a link (link -> /etc/passwd); links are not accepted."


def test_it_rejects_a_hardlink_in_a_tar():
    data = make_tar({"a.py": b"x = 1\n"}, hardlinks={"b.py": "a.py"})
    with pytest.raises(ArchiveError, match=r"contains a link \(b.py -> a.py\)"):
        read_archive_bytes(data, name="r.tar.gz", limits=LIMITS)


@pytest.mark.parametrize("make,name", [(make_zip, "r.zip"), (make_tar, "r.tar.gz")])
def test_it_rejects_too_many_files(make, name):
    files = {f"f{i}.txt": b"hello\n" for i in range(11)}
    with pytest.raises(ArchiveError) as exc:
        read_archive_bytes(make(files), name=name, limits=LIMITS)
    assert "the limit is 10" in str(exc.value)
    assert str(exc.value).startswith("The archive has")


def test_it_rejects_a_zip_bomb_by_its_compression_ratio():
    data = make_zip({"bomb.txt": b"a" * (2 * 1024 * 1024)})
    with pytest.raises(ArchiveError) as exc:
        read_archive_bytes(data, name="bomb.zip", limits=LIMITS)
    message = str(exc.value)
    assert message.startswith("The archive entry bomb.txt expands ")
    assert message.endswith("times its compressed size; the limit is 100 times (this looks like a zip bomb).")


def test_it_rejects_a_tar_bomb_by_its_compression_ratio():
    data = make_tar({"bomb.txt": b"a" * (2 * 1024 * 1024)})
    with pytest.raises(
        ArchiveError, match=r"^The archive expands \d+ times its compressed size; the limit is 100"
    ):
        read_archive_bytes(data, name="bomb.tar.gz", limits=LIMITS)


@pytest.mark.parametrize("make,name", [(make_zip, "r.zip"), (make_tar, "r.tar.gz")])
def test_it_rejects_an_archive_that_unpacks_past_the_total_limit(make, name):
    limits = Limits(**{**LIMITS.__dict__, "max_unpacked_bytes": 1000})
    with pytest.raises(ArchiveError) as exc:
        read_archive_bytes(make({"a.txt": b"x" * 600, "b.txt": b"y" * 600}), name=name, limits=limits)
    assert "unpacks to" in str(exc.value) and str(exc.value).endswith("the limit is 1000 bytes.")


def test_it_counts_the_bytes_it_reads_when_a_zip_header_lies_about_the_size():
    data = bytearray(make_zip({"a.txt": b"x" * 5000}))
    # Shrink the declared size in the central directory (offset 24 in the entry) to 10 bytes.
    central = data.rfind(b"PK\x01\x02")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")
    with pytest.raises(ArchiveError):
        read_archive_bytes(bytes(data), name="liar.zip", limits=LIMITS)


def test_it_rejects_an_archive_over_the_upload_limit():
    limits = Limits(**{**LIMITS.__dict__, "max_archive_bytes": 100})
    with pytest.raises(ArchiveError) as exc:
        read_archive_bytes(make_zip({"a.txt": b"hello " * 100}), name="r.zip", limits=limits)
    assert str(exc.value).startswith("The archive is ") and str(exc.value).endswith(
        "; the limit is 100 bytes."
    )


@pytest.mark.parametrize("name", ["broken.zip", "broken.tar.gz"])
def test_it_says_a_corrupt_archive_is_corrupt(name):
    with pytest.raises(ArchiveError, match=rf"^The archive {name} is corrupt or not a valid"):
        read_archive_bytes(b"this is not an archive at all", name=name, limits=LIMITS)


def test_it_refuses_an_unsupported_archive_type():
    with pytest.raises(ArchiveError) as exc:
        read_archive_bytes(b"...", name="repo.rar", limits=LIMITS)
    assert str(exc.value) == "repo.rar is not a supported archive; upload a .zip, .tar.gz or .tgz file."


def test_it_skips_version_control_directories_and_empty_files_and_says_why():
    data = make_zip({"repo/.git/config": b"[core]\n", "repo/empty.py": b"", "repo/a.py": b"x = 1\n"})
    contents = read_archive_bytes(data, name="r.zip", limits=LIMITS)
    assert [e.path for e in contents.entries] == ["repo/a.py"]
    assert {(s.path, s.reason) for s in contents.skipped} == {
        ("repo/.git/config", "version-control or build directory"),
        ("repo/empty.py", "empty"),
    }


def test_it_skips_a_file_over_the_per_file_limit_and_says_why():
    limits = Limits(**{**LIMITS.__dict__, "max_file_bytes": 100})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("big.txt", b"z" * 200)
        zf.writestr("small.txt", b"z" * 20)
    contents = read_archive_bytes(buf.getvalue(), name="r.zip", limits=limits)
    assert [e.path for e in contents.entries] == ["small.txt"]
    assert contents.skipped[0].reason == "the file is 200 bytes; the limit is 100 bytes"
