"""Is this still the file the scan saw? The re-check right before anything is trashed.

A file is the scanned one when it has the identity (st_dev, st_ino), size, mtime and ctime
the scan recorded (a program can put the size and mtime back, never the ctime) and, for a
file of at most DIGEST_LIMIT bytes whose content digest the scan took, the same digest.
A part the record does not know (0, None) is not compared.

Before a removal the path is checked too, so a folder swapped for a link cannot lead the
trash to a file nobody scanned: every folder below the scan root must be a real folder (walked
down one descriptor at a time, never following a link), the name at the end must be the
scanned file, and its real path must lie inside the scanned roots.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from dedup_gui.core.files.digest import bytes_digest
from dedup_gui.core.files.fileaccess import open_for_reading
from dedup_gui.core.models import ImageRecord

DIGEST_LIMIT = 16 * 1024 * 1024
"""Files up to this size are read again and their digest compared (at most this much in
memory at once); bigger ones rely on identity, size, mtime and ctime."""

_WALK_BY_DESCRIPTOR = (
    os.open in os.supports_dir_fd
    and os.stat in os.supports_dir_fd
    and hasattr(os, "O_NOFOLLOW")
    and hasattr(os, "O_DIRECTORY")
)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC
_READ_FLAGS = os.O_RDONLY | _CLOEXEC | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
_NO_ATIME = getattr(os, "O_NOATIME", 0)
_REPARSE_POINT = getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0x400)

ContentChecks = set[tuple[str, int, int, int, int, int]]
"""(path, dev, ino, size, mtime_ns, ctime_ns) of files whose digest already matched in this
run: a kept copy guarding ten removals is read once while its ctime stays the same."""


class Difference(str, Enum):
    MISSING = "missing"
    CHANGED = "changed"
    LINKED_FOLDER = "linked-folder"
    OUTSIDE_ROOTS = "outside-roots"
    UNCHECKABLE = "uncheckable"


@dataclass(frozen=True, slots=True)
class Mismatch:
    kind: Difference
    message: str
    """One sentence a user understands."""


def inside_roots(path: str, roots: Sequence[str]) -> bool:
    """`path` is one of `roots` or lies below one (compared as spelled, after normpath)."""
    return _containing_root(path, roots) is not None


def check_before_removal(record: ImageRecord, roots: Sequence[str]) -> os.stat_result | Mismatch:
    """The file's lstat if `record.path` still leads, through real folders inside `roots`,
    to the very file scanned; otherwise why not."""
    root = _containing_root(record.path, roots)
    if root is None:
        return Mismatch(Difference.OUTSIDE_ROOTS, "It is not inside the folders scanned.")
    try:
        found = _walk_and_check(record, root) if _WALK_BY_DESCRIPTOR else _lstat_and_check(
            record, root
        )
        if isinstance(found, Mismatch):
            return found
        current = os.lstat(record.path)
        real_path = os.path.realpath(record.path)
        real_roots = [os.path.realpath(root) for root in roots]
    except (FileNotFoundError, NotADirectoryError):
        return Mismatch(Difference.MISSING, "The file is no longer there.")
    except (OSError, ValueError) as error:
        return _uncheckable(error)
    if (current.st_dev, current.st_ino) != (found.st_dev, found.st_ino):
        return Mismatch(Difference.CHANGED, "It was replaced by another file while checked.")
    if not inside_roots(real_path, real_roots):
        return Mismatch(
            Difference.OUTSIDE_ROOTS, "Its real location is outside the folders scanned."
        )
    return found


def shows_what_was_hashed(record: ImageRecord, confirmed: dict[str, bool]) -> bool:
    """A record hashed from a HEIC's embedded thumbnail (`from_thumbnail`) is confirmed by
    a decode of the picture itself before anything is trashed on its strength: a stale
    thumbnail must never make a false group cost a photo. Other records need nothing.
    `confirmed` keeps the answers of one run by path."""
    if not record.from_thumbnail:
        return True
    known = confirmed.get(record.path)
    if known is None:
        from dedup_gui.core.images.decode import ImageLoadError
        from dedup_gui.core.images.heif_thumbnails import confirm_thumbnail_hashes

        try:
            known = confirm_thumbnail_hashes(record.path, record.phash)
        except (ImageLoadError, OSError):
            known = False
        confirmed[record.path] = known
    return known


def kept_copy_stat(
    record: ImageRecord, *, read_content: bool = True, checked: ContentChecks | None = None
) -> os.stat_result | None:
    """The stat (links followed) of a kept copy that is still the file scanned, or None.

    `read_content=False` skips the digest (cheap enough for the GUI thread)."""
    try:
        current = Path(record.path).stat()
    except (OSError, ValueError):
        return None
    if _difference(record, current):
        return None
    if not read_content or not _wants_digest(record):
        return current
    key = (record.path, current.st_dev, current.st_ino, current.st_size,
           current.st_mtime_ns, current.st_ctime_ns)
    if checked is not None and key in checked:
        return current
    try:
        with open_for_reading(record.path) as handle:
            same = _content_matches(handle.fileno(), record, current)
    except OSError:
        return None
    if not same:
        return None
    if checked is not None:
        checked.add(key)
    return current


def _walk_and_check(record: ImageRecord, root: str) -> os.stat_result | Mismatch:
    parent, name = _open_parent(record.path, root)
    if isinstance(parent, Mismatch):
        return parent
    try:
        current = os.stat(name, dir_fd=parent, follow_symlinks=False)
        changed = _difference(record, current)
        if changed:
            return Mismatch(Difference.CHANGED, changed)
        if _wants_digest(record):
            descriptor = _open_file(name, parent)
            try:
                if not _content_matches(descriptor, record, current):
                    return Mismatch(
                        Difference.CHANGED, "Its content changed since the scan."
                    )
            finally:
                os.close(descriptor)
        return current
    finally:
        os.close(parent)


def _open_parent(path: str, root: str) -> tuple[int | Mismatch, str]:
    """A descriptor of the folder holding `path`, reached from `root` (opened as the user
    chose it, links included) through real folders only, and the name inside it."""
    below = os.path.relpath(path, root)
    if below == os.curdir:  # the root is this very file
        head, name = os.path.split(path)
        return os.open(head, _DIRECTORY_FLAGS), name
    *folders, name = Path(below).parts
    descriptor = os.open(root, _DIRECTORY_FLAGS)
    for folder in folders:
        try:
            below_descriptor = os.open(folder, _DIRECTORY_FLAGS | os.O_NOFOLLOW, dir_fd=descriptor)
        except OSError as error:
            try:
                if error.errno in (errno.ENOTDIR, errno.ELOOP):
                    return _not_a_folder(folder, descriptor), name
                raise
            finally:
                os.close(descriptor)
        os.close(descriptor)
        descriptor = below_descriptor
    return descriptor, name


def _not_a_folder(folder: str, parent: int) -> Mismatch:
    if stat.S_ISLNK(os.stat(folder, dir_fd=parent, follow_symlinks=False).st_mode):
        return _linked_folder(folder)
    return Mismatch(Difference.MISSING, f"Its folder “{folder}” is no longer a folder.")


def _lstat_and_check(record: ImageRecord, root: str) -> os.stat_result | Mismatch:
    """Where folders cannot be opened by descriptor (Windows): each folder's lstat."""
    below = os.path.relpath(record.path, root)
    folder = Path(root)
    for part in [] if below == os.curdir else Path(below).parts[:-1]:
        folder = folder / part
        info = folder.lstat()
        if stat.S_ISLNK(info.st_mode) or getattr(info, "st_file_attributes", 0) & _REPARSE_POINT:
            return _linked_folder(part)
        if not stat.S_ISDIR(info.st_mode):
            return Mismatch(Difference.MISSING, f"Its folder “{part}” is no longer a folder.")
    current = os.lstat(record.path)
    changed = _difference(record, current)
    if changed:
        return Mismatch(Difference.CHANGED, changed)
    if _wants_digest(record):
        with open_for_reading(record.path) as handle:
            if not _content_matches(handle.fileno(), record, current):
                return Mismatch(Difference.CHANGED, "Its content changed since the scan.")
    return current


def _difference(record: ImageRecord, current: os.stat_result) -> str:
    """Why `current` is not the file scanned as `record` ("" when it is)."""
    if stat.S_ISLNK(current.st_mode):
        return "It is a symbolic link, not the photo itself; the link was left alone."
    if not stat.S_ISREG(current.st_mode):
        return "It is no longer a regular file."
    if record.dev and record.ino and (current.st_dev, current.st_ino) != (record.dev, record.ino):
        return "It was replaced by another file since the scan."
    if current.st_size != record.size:
        return f"Its size changed since the scan ({record.size} -> {current.st_size} bytes)."
    if current.st_mtime_ns != record.mtime_ns:
        return "It was modified since the scan."
    if record.ctime_ns and current.st_ctime_ns != record.ctime_ns:
        return "It was rewritten or its details changed since the scan."
    return ""


def _wants_digest(record: ImageRecord) -> bool:
    return record.content_digest is not None and record.size <= DIGEST_LIMIT


def _content_matches(descriptor: int, record: ImageRecord, current: os.stat_result) -> bool:
    """The open file is the one stat-ed as `current` and its bytes have the scanned digest."""
    opened = os.fstat(descriptor)
    if (opened.st_dev, opened.st_ino) != (current.st_dev, current.st_ino):
        return False
    if not stat.S_ISREG(opened.st_mode) or opened.st_size > DIGEST_LIMIT:
        return False
    chunks = []
    while chunk := os.read(descriptor, 1 << 20):
        chunks.append(chunk)
    return bytes_digest(b"".join(chunks)) == record.content_digest


def _open_file(name: str, parent: int) -> int:
    if _NO_ATIME:
        try:
            descriptor = os.open(name, _READ_FLAGS | _NO_ATIME, dir_fd=parent)
        except OSError as error:
            # O_NOATIME is only for the file's owner; then the file is read the ordinary way.
            if error.errno not in (errno.EPERM, errno.EACCES, errno.EINVAL):
                raise
        else:
            os.set_blocking(descriptor, True)
            return descriptor
    descriptor = os.open(name, _READ_FLAGS, dir_fd=parent)
    os.set_blocking(descriptor, True)
    return descriptor


def _containing_root(path: str, roots: Sequence[str]) -> str | None:
    """The deepest of `roots` that is `path` or holds it."""
    path = os.path.normpath(path)
    best: str | None = None
    for root in roots:
        root = os.path.normpath(root)
        if Path(root).parent == Path(root):  # "/" or "C:\\"
            holds = path.startswith(root)
        else:
            holds = path == root or path.startswith(root + os.sep)
        if holds and (best is None or len(root) > len(best)):
            best = root
    return best


def _linked_folder(folder: str) -> Mismatch:
    return Mismatch(
        Difference.LINKED_FOLDER,
        f"Its folder “{folder}” was replaced by a link since the scan; the file was left alone.",
    )


def _uncheckable(error: OSError | ValueError) -> Mismatch:
    reason = getattr(error, "strerror", None) or str(error)
    return Mismatch(Difference.UNCHECKABLE, f"The file could not be checked: {reason}.")
