"""Opening the user's files for reading: regular files only, and leaving no trace.

- A pipe, device or socket is never read: a FIFO named photo.jpg would block a plain open()
  forever waiting for a writer, and a device may have side effects on open. The path is
  checked first, and opened non-blocking in case it was swapped for a pipe meanwhile.
- Where the system allows it (Linux, the file's owner), reading does not update the file's
  access time, so a scan changes nothing on disk, not even metadata.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

_READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NONBLOCK", 0)
)
_NO_ATIME = getattr(os, "O_NOATIME", 0)


class NotARegularFileError(OSError):
    """The path is a pipe, device or socket, not a file; it was not read."""


def open_for_reading(path: str | os.PathLike[str]) -> BinaryIO:
    """The regular file at `path`, open for binary reading (raises OSError otherwise)."""
    _require_regular(Path(path).stat(), path)
    descriptor = _open(path)
    try:
        _require_regular(os.fstat(descriptor), path)
        if _READ_FLAGS & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(descriptor, True)
        handle = os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise
    return handle


def _open(path: str | os.PathLike[str]) -> int:
    if _NO_ATIME:
        try:
            return os.open(path, _READ_FLAGS | _NO_ATIME)
        except OSError as error:
            # O_NOATIME is only for the file's owner (EPERM), and some file systems refuse
            # it outright: then the file is read the ordinary way.
            if error.errno not in (errno.EPERM, errno.EACCES, errno.EINVAL):
                raise
    return os.open(path, _READ_FLAGS)


def _require_regular(info: os.stat_result, path: str | os.PathLike[str]) -> None:
    if stat.S_ISREG(info.st_mode):
        return
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(path))
    raise NotARegularFileError(
        errno.EINVAL, "Not a regular file (a pipe, device or socket)", os.fspath(path)
    )
