"""Reading a user's file in fixed chunks, never more than the size the scan saw.

A file that grows while it is read (a download, a log named .jpg) would otherwise be
read into memory without end. Reading stops one byte past the expected size: that byte
is enough to know the file changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from dedup_gui.core.files.interrupt import CancelFlag, raise_if_cancelled

CHUNK_BYTES = 1 << 20
"""One read: the cancel token is checked between reads (a few ms apart at most)."""


class FileChangedError(Exception):
    """The file's length is not the length the scan saw: it changed while being read."""


def read_chunks(
    handle: BinaryIO, expected_size: int | None, cancel: CancelFlag | None = None
) -> Iterator[bytes]:
    """The rest of `handle` in chunks of at most CHUNK_BYTES. With `expected_size`, raises
    FileChangedError (having read at most expected_size + 1 bytes) when the file is longer
    or shorter. Raises Cancelled between chunks once `cancel` is set."""
    remaining = None if expected_size is None else expected_size + 1
    while remaining is None or remaining > 0:
        raise_if_cancelled(cancel)
        chunk = handle.read(CHUNK_BYTES if remaining is None else min(CHUNK_BYTES, remaining))
        if not chunk:
            break
        if remaining is not None:
            remaining -= len(chunk)
            if remaining == 0:
                raise FileChangedError  # one byte past the expected end: it grew
        yield chunk
    if remaining is not None and remaining != 1:
        raise FileChangedError  # it ended early: it shrank


def read_all(handle: BinaryIO, expected_size: int, cancel: CancelFlag | None = None) -> bytes:
    """Exactly `expected_size` bytes of `handle` (FileChangedError if it has more or fewer)."""
    buffer = bytearray()
    for chunk in read_chunks(handle, expected_size, cancel):
        buffer += chunk
    return bytes(buffer)
