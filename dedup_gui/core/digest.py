"""Content digests: byte-identical files have equal digests (exact-copy detection)."""

from __future__ import annotations

import hashlib
import os

from dedup_gui.core.fileaccess import open_for_reading

DIGEST_SIZE = 32
_CHUNK = 1 << 20


def bytes_digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=DIGEST_SIZE).digest()


def file_digest(path: str | os.PathLike[str]) -> bytes:
    """blake2b of the file's bytes, read in chunks (memory stays flat for any size)."""
    hasher = hashlib.blake2b(digest_size=DIGEST_SIZE)
    with open_for_reading(path) as handle:
        while chunk := handle.read(_CHUNK):
            hasher.update(chunk)
    return hasher.digest()
