"""Stream a directory as a .tar.gz without writing the archive anywhere first.

The archive is assembled by hand from `tarfile`'s own header encoding (`TarInfo.tobuf`) and
`zlib` in gzip mode, so each file is read and compressed one block at a time: a response of
hundreds of megabytes holds about one block in memory, whatever the size of the largest file
(`tarfile`'s stream mode would buffer a whole file inside one ``addfile`` call).
"""

from __future__ import annotations

import shutil
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path

BLOCK = 1 << 20


def tar_gz_stream(root: Path, *, arcname: str, remove_after: bool = False) -> Iterator[bytes]:
    """Yield a .tar.gz of directory ``root`` (entries under ``arcname/``), block by block.

    With ``remove_after`` the directory is deleted once the stream ends or is abandoned (a
    one-off delta built for one response).
    """
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: gzip header and trailer
    written = 0

    def emit(raw: bytes) -> bytes:
        nonlocal written
        written += len(raw)
        return compressor.compress(raw)

    try:
        for path in [root, *sorted(root.rglob("*"))]:
            rel = path.relative_to(root).as_posix()
            info = tarfile.TarInfo(arcname if rel == "." else f"{arcname}/{rel}")
            info.mtime = int(path.stat().st_mtime)
            if path.is_dir():
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            else:
                info.size, info.mode = path.stat().st_size, 0o644
            yield emit(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))
            if path.is_file():
                with path.open("rb") as handle:
                    while block := handle.read(BLOCK):
                        yield emit(block)
                yield emit(b"\0" * (-info.size % tarfile.BLOCKSIZE))
        end = b"\0" * (2 * tarfile.BLOCKSIZE)
        yield emit(end + b"\0" * (-(written + len(end)) % tarfile.RECORDSIZE))
        yield compressor.flush()
    finally:
        if remove_after:
            shutil.rmtree(root, ignore_errors=True)
