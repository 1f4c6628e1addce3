"""Where send2trash put a file in the freedesktop trash (Linux, BSD), and putting it back.

The trash is `Trash/files/NAME` with `Trash/info/NAME.trashinfo` naming the original path,
in the home trash ($XDG_DATA_HOME/Trash) or in a volume's `.Trash/UID` or `.Trash-UID`.
send2trash names a file by its base name, then "BASE 1.EXT", "BASE 2.EXT"... when taken, so
only those info files are read. Putting back never writes over a file: a file now at the
original path stays, and the photo is restored beside it.
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_to_bytes

INFO_SUFFIX = ".trashinfo"
MAX_NUMBERED_NAMES = 10_000

SUPPORTED = sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd"))
"""Elsewhere (macOS, Windows) there is no restore call: the user puts files back by hand."""


@dataclass(frozen=True, slots=True)
class TrashedFile:
    files_path: str
    """The file inside the trash."""
    info_path: str
    """Its .trashinfo."""


def home_trash() -> Path:
    try:
        import send2trash.plat_other as backend  # the folder send2trash itself uses
    except ImportError:
        data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return Path(data) / "Trash"
    return Path(os.fsdecode(backend.HOMETRASH_B))


def trash_folders(original_path: str) -> list[Path]:
    """The trash folders a file at `original_path` may have gone to, most likely first."""
    folders = [home_trash()]
    mount = _mount_point(Path(original_path).parent)
    if mount is not None:
        uid = str(os.getuid()) if hasattr(os, "getuid") else ""
        folders += [mount / ".Trash" / uid, mount / f".Trash-{uid}"]
    return [folder for folder in folders if (folder / "info").is_dir()]


def locate(original_path: str) -> TrashedFile | None:
    """The newest trash entry of the file that was at `original_path`, or None."""
    name, stem, extension = Path(original_path).name, Path(original_path).stem, ""
    extension = name[len(stem):]
    best: tuple[str, TrashedFile] | None = None
    for folder in trash_folders(original_path):
        try:
            with os.scandir(folder / "info") as entries:
                names = [entry.name for entry in entries]
        except OSError:
            continue
        for info_name in names:
            candidate = info_name.removesuffix(INFO_SUFFIX)
            if not _is_name_send2trash_gives(candidate, name, stem, extension):
                continue
            info = folder / "info" / info_name
            original, deleted_at = _read_info(info, folder)
            if original == os.fsencode(original_path) and (best is None or deleted_at > best[0]):
                best = (deleted_at, TrashedFile(str(folder / "files" / candidate), str(info)))
    return None if best is None else best[1]


def _is_name_send2trash_gives(candidate: str, name: str, stem: str, extension: str) -> bool:
    if candidate == name:
        return True
    if not (candidate.startswith(f"{stem} ") and candidate.endswith(extension)):
        return False
    counter = candidate[len(stem) + 1 : len(candidate) - len(extension)]
    return counter.isdigit()


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


def _read_info(info: Path, trash: Path) -> tuple[bytes, str]:
    original = b""
    deleted_at = ""
    try:
        text = info.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return original, deleted_at
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key == "Path":
            original = unquote_to_bytes(value)
        elif key == "DeletionDate":
            deleted_at = value
    if original and not original.startswith(b"/"):
        # A volume trash names files relative to the volume's top folder.
        top = trash.parent if trash.name.startswith(".Trash-") else trash.parent.parent
        original = os.fsencode(top) + b"/" + original
    return original, deleted_at


def _mount_point(folder: Path) -> Path | None:
    try:
        folder = folder.resolve()
        device = folder.stat().st_dev
    except OSError:
        return None
    while folder.parent != folder:
        try:
            if folder.parent.stat().st_dev != device:
                return folder
        except OSError:
            return None
        folder = folder.parent
    return folder
