"""Moving one file to the system trash with send2trash, leaving no debris when it fails.

Where send2trash implements the freedesktop trash itself (`send2trash.plat_other`, Linux
without gio) it first writes `Trash/info/NAME.trashinfo`, then renames the file to
`Trash/files/NAME` or, across file systems, copies it there and deletes the original. A move
that fails part-way (a full trash file system, a copy cut short) leaves an orphan .trashinfo
or a partial copy, which the user's trash then lists as a photo that is not really there.

So the info folders send2trash may write to are listed just before and after the call, and
only what appeared meanwhile and names our file is removed: an info entry whose file never
arrived, and, after a failed call, the copy beside it only while our original is still intact
at its path (that copy is then never the photo itself). Nothing else is ever touched. The
entry that did arrive is where the file went, which the trash log keeps for an undo.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from urllib.parse import unquote_to_bytes

import send2trash

SUPPORTED = sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd"))
"""The freedesktop trash, which can be read back; elsewhere (macOS, Windows) there is no
restore call and files are put back by hand."""

IntactOriginal = Callable[[], "os.stat_result | None"]
"""The original's stat if it is still, at its path, the file scanned; else None."""

_INFO_SUFFIX = ".trashinfo"
_INFO_READ_LIMIT = 64 * 1024


@dataclass(frozen=True, slots=True)
class TrashedFile:
    files_path: str
    """The file inside the trash."""
    info_path: str
    """Its .trashinfo."""


def move_to_trash(path: str, *, intact_original: IntactOriginal) -> TrashedFile | None:
    """send2trash `path`; raises what send2trash raised, after removing its debris.
    Returns where the file went, when the trash is one this module can read."""
    backend = _freedesktop_backend()
    if backend is None:
        send2trash.send2trash(path)
        return locate(path)
    watched = _trash_folders(backend, path)
    before = {folder: _info_names(folder) for folder in watched}
    try:
        send2trash.send2trash(path)
    except Exception:
        _remove_debris(watched, before, path, intact_original)
        raise
    # A cross-device fallback that succeeded leaves the first attempt's .trashinfo behind.
    arrived = _remove_debris(watched, before, path, None)
    return arrived[0] if arrived else None


def locate(path: str) -> TrashedFile | None:
    """The newest freedesktop trash entry of the file that was at `path` (a file trashed
    by another program, or through gio), or None."""
    backend = _freedesktop_backend() or _plat_other()
    if backend is None or not SUPPORTED:
        return None
    ours = _normalised(path)
    best: tuple[bytes, TrashedFile] | None = None
    for folder, top in _trash_folders(backend, path).items():
        for name in _info_names(folder):
            if not _is_name_send2trash_gives(name[: -len(_INFO_SUFFIX)], ours.name):
                continue
            info = folder / "info" / name
            if _trashed_path(info, top) != ours:
                continue
            deleted_at = _deletion_date(info)
            if best is None or deleted_at > best[0]:
                entry = TrashedFile(str(folder / "files" / name[: -len(_INFO_SUFFIX)]), str(info))
                best = (deleted_at, entry)
    return None if best is None else best[1]


def _is_name_send2trash_gives(candidate: str, name: str) -> bool:
    """send2trash names an entry NAME, or "STEM N.EXT" when NAME is taken."""
    if candidate == name:
        return True
    stem, extension = os.path.splitext(name)  # noqa: PTH122
    if not (candidate.startswith(f"{stem} ") and candidate.endswith(extension)):
        return False
    return candidate[len(stem) + 1 : len(candidate) - len(extension)].isdigit()


def _plat_other() -> ModuleType | None:
    try:
        import send2trash.plat_other as backend
    except ImportError:
        return None
    return backend


def _freedesktop_backend() -> ModuleType | None:
    if send2trash.send2trash.__module__ != "send2trash.plat_other":
        return None
    import send2trash.plat_other as backend

    return backend


def _trash_folders(backend: ModuleType, path: str) -> dict[Path, Path]:
    """Each trash folder send2trash may use for `path` -> the folder its .trashinfo paths
    are relative to (read from send2trash's module, as it will use them)."""
    folders = {Path(os.fsdecode(backend.HOMETRASH_B)): Path(os.fsdecode(backend.XDG_DATA_HOME))}
    try:
        mount = Path(os.fsdecode(backend.find_mount_point(os.fsencode(path))))
    except OSError:
        return folders
    folders[mount / os.fsdecode(backend.TOPDIR_TRASH) / str(backend.uid)] = mount
    folders[mount / os.fsdecode(backend.TOPDIR_FALLBACK)] = mount
    return folders


def _info_names(folder: Path) -> set[str]:
    try:
        return {entry.name for entry in (folder / "info").iterdir()
                if entry.name.endswith(_INFO_SUFFIX)}
    except OSError:
        return set()


def _remove_debris(
    watched: dict[Path, Path],
    before: dict[Path, set[str]],
    path: str,
    intact_original: IntactOriginal | None,
) -> list[TrashedFile]:
    """`intact_original` None: the call succeeded, so only file-less info entries go.
    Returns the new entries of our file that stay (where the file went)."""
    ours = _normalised(path)
    arrived: list[TrashedFile] = []
    for folder, top in watched.items():
        for name in sorted(_info_names(folder) - before[folder]):
            info = folder / "info" / name
            if _trashed_path(info, top) != ours:
                continue
            copy = folder / "files" / name[: -len(_INFO_SUFFIX)]
            if _exists(copy) and not _is_partial_copy(copy, intact_original):
                arrived.append(TrashedFile(str(copy), str(info)))  # the file did arrive
                continue
            with contextlib.suppress(OSError):
                if _exists(copy):
                    copy.unlink()
                info.unlink()
    return arrived


def _normalised(path: str) -> Path:
    return Path(os.path.normpath(os.path.abspath(path)))  # noqa: PTH100


def _deletion_date(info: Path) -> bytes:
    try:
        with info.open("rb") as handle:
            text = handle.read(_INFO_READ_LIMIT)
    except OSError:
        return b""
    for line in text.splitlines():
        if line.startswith(b"DeletionDate="):
            return line[len(b"DeletionDate="):]
    return b""


def _trashed_path(info: Path, top: Path) -> Path | None:
    try:
        with info.open("rb") as handle:
            text = handle.read(_INFO_READ_LIMIT)
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(b"Path="):
            trashed = os.fsdecode(unquote_to_bytes(line[len(b"Path="):].decode("ascii", "replace")))
            return Path(os.path.normpath(top / trashed))
    return None


def _is_partial_copy(copy: Path, intact_original: IntactOriginal | None) -> bool:
    """A regular file that is not our original, while our original is intact at its path."""
    if intact_original is None:
        return False
    original = intact_original()
    if original is None:
        return False
    try:
        found = copy.lstat()
    except OSError:
        return False
    if not stat.S_ISREG(found.st_mode):
        return False
    return (found.st_dev, found.st_ino) != (original.st_dev, original.st_ino)


def _exists(path: Path) -> bool:
    try:
        path.lstat()
    except OSError:
        return False
    return True
