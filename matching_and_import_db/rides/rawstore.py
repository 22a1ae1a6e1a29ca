"""Raw ride files as uploaded, kept gzip-compressed and named by the SHA-256 of their
decompressed content, so the same ride uploaded twice is stored once.

Writes go to a temporary file and are renamed into place: a reader never sees half a file,
and a crash leaves at most a stray temporary file.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from pathlib import Path

from matching_and_import_db.errors import InputError
from matching_and_import_db.rides.model import gunzip_if_compressed


def decompress_upload(data: bytes, max_bytes: int) -> bytes:
    """The file's content: one gzip layer is unpacked, to at most max_bytes (a small bomb
    cannot fill memory), and a gzip inside it is refused."""
    return gunzip_if_compressed(data, max_bytes)


def content_sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def raw_path(data_dir: str | os.PathLike, sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return Path(data_dir) / "raw" / sha256[:2] / f"{sha256}.gz"


def store_raw(data_dir: str | os.PathLike, content: bytes) -> str:
    """Keep the content; return its SHA-256. Storing the same content again is a no-op."""
    sha256 = content_sha256(content)
    path = raw_path(data_dir, sha256)
    if path.exists():
        return sha256
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as f:
            # mtime=0: the same content always gives the same bytes on disk
            f.write(gzip.compress(content, compresslevel=6, mtime=0))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return sha256


def read_raw(data_dir: str | os.PathLike, sha256: str) -> bytes:
    path = raw_path(data_dir, sha256)
    try:
        return gzip.decompress(path.read_bytes())
    except FileNotFoundError:
        raise InputError("the raw file of this ride is missing from the data directory") from None


def delete_raw(data_dir: str | os.PathLike, sha256: str) -> None:
    raw_path(data_dir, sha256).unlink(missing_ok=True)
