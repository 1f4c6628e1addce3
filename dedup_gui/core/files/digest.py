"""Content digests: byte-identical files have equal digests (exact-copy detection)."""

from __future__ import annotations

import hashlib
import os

from dedup_gui.core.files.bounded_read import read_chunks
from dedup_gui.core.files.fileaccess import open_for_reading
from dedup_gui.core.files.interrupt import CancelFlag

DIGEST_SIZE = 32


def bytes_digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=DIGEST_SIZE).digest()


def file_digest(
    path: str | os.PathLike[str],
    *,
    expected_size: int | None = None,
    cancel: CancelFlag | None = None,
) -> bytes:
    """blake2b of the file's bytes, read in chunks (memory stays flat for any size).

    With `expected_size`, raises bounded_read.FileChangedError when the file is not that
    long (reading at most one byte more); raises interrupt.Cancelled soon after `cancel`
    is set, even in the middle of a huge file."""
    hasher = hashlib.blake2b(digest_size=DIGEST_SIZE)
    with open_for_reading(path) as handle:
        for chunk in read_chunks(handle, expected_size, cancel):
            hasher.update(chunk)
    return hasher.digest()
