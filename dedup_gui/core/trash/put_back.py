"""Putting a file back from the trash without ever writing over one: a file now at the
original path stays, and the photo is restored beside it."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

MAX_NUMBERED_NAMES = 10_000


def move_without_replacing(source: str, target: str) -> None:
    """Move `source` to `target`, failing with FileExistsError if `target` exists (a hard
    link then unlink; across file systems a copy that keeps the times, then the same)."""
    try:
        os.link(source, target)
    except OSError as error:
        if error.errno == errno.EEXIST:
            raise
        if error.errno != errno.EXDEV:
            _rename_if_absent(source, target)  # no hard links here (FAT, some shares)
            return
        _copy_then_link(source, target)
        return
    Path(source).unlink()


def free_name_beside(path: str) -> str:
    """`path` itself if nothing is there, else "NAME (restored).EXT", "(restored 2)"..."""
    if not os.path.lexists(path):
        return path
    original = Path(path)
    for counter in range(1, MAX_NUMBERED_NAMES):
        label = "restored" if counter == 1 else f"restored {counter}"
        candidate = str(original.with_name(f"{original.stem} ({label}){original.suffix}"))
        if not os.path.lexists(candidate):
            return candidate
    raise FileExistsError(errno.EEXIST, "No free name to restore to", path)


def _copy_then_link(source: str, target: str) -> None:
    temporary = f"{target}.dedup-restoring-{os.getpid()}"
    shutil.copy2(source, temporary)
    try:
        with open(temporary, "rb") as handle:  # noqa: PTH123
            os.fsync(handle.fileno())
        os.link(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)
    Path(source).unlink()


def _rename_if_absent(source: str, target: str) -> None:
    if os.path.lexists(target):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), target)
    Path(source).rename(target)
