"""Rename a file only if nothing is at the new name: the system does the check and the
rename in one step, so a file that appears there meanwhile is never written over.

Linux: renameat2(RENAME_NOREPLACE); macOS: renameatx_np(RENAME_EXCL); Windows: os.rename,
which never replaces. Elsewhere, or where the file system refuses the flag, `Unsupported`
is raised and the caller must use another way (a hard link, refused by the system when the
name is taken).
"""

from __future__ import annotations

import ctypes
import errno
import os
import sys
from collections.abc import Callable

_AT_FDCWD = -100 if sys.platform.startswith("linux") else -2
_RENAME_NOREPLACE = 1
_RENAME_EXCL = 0x4


class Unsupported(OSError):
    """This system or file system has no rename that refuses to replace."""


def _load() -> Callable[..., int] | None:
    if sys.platform.startswith("linux"):
        name, flag = "renameat2", _RENAME_NOREPLACE
    elif sys.platform == "darwin":
        name, flag = "renameatx_np", _RENAME_EXCL
    else:
        return None
    try:
        function = getattr(ctypes.CDLL(None, use_errno=True), name)
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                         ctypes.c_uint]
    function.restype = ctypes.c_int

    def call(source: bytes, source_fd: int, destination: bytes, destination_fd: int) -> int:
        return function(source_fd, source, destination_fd, destination, flag)

    return call


_CALL = _load()
AVAILABLE = _CALL is not None or sys.platform == "win32"


def rename(
    source: str, destination: str, *, src_dir_fd: int | None = None,
    dst_dir_fd: int | None = None,
) -> None:
    """Rename `source` to `destination`; FileExistsError if anything is there (even a
    dangling link), Unsupported when it cannot be done without that risk."""
    if sys.platform == "win32":
        if src_dir_fd is not None or dst_dir_fd is not None:
            raise Unsupported(errno.ENOTSUP, "No folder descriptors here")
        os.rename(source, destination)  # noqa: PTH104 - never replaces on Windows
        return
    if _CALL is None:
        raise Unsupported(errno.ENOSYS, "No rename that refuses to replace")
    result = _CALL(
        os.fsencode(source), _AT_FDCWD if src_dir_fd is None else src_dir_fd,
        os.fsencode(destination), _AT_FDCWD if dst_dir_fd is None else dst_dir_fd,
    )
    if result == 0:
        return
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        raise Unsupported(code, os.strerror(code))
    raise OSError(code, os.strerror(code), destination)
