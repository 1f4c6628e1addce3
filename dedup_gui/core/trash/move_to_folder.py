"""Carry out a removal plan by moving the files into a folder the user chose, not the trash.

The plan and every re-check are the trash's (`actions.execute_removal`: the very file
scanned, through real folders inside the roots, a kept copy still there); only the last
step differs. Each file goes to TARGET/<its path below the scanned root it lies in>, through
real folders only (a folder there that is a link is never followed), and nothing is ever
written over:
- same file system: one rename that the system refuses when the name is taken
  (`no_replace`); where there is none, a hard link at the new name (refused the same way),
  then the old name is removed only while it is still that very file;
- across file systems: a copy into a temporary file inside the target folder (named
  `.NAME.dedup-move-PID-TOKEN.tmp`), flushed to disk, read back and compared with the
  scanned digest, published under its name without replacing anything, the folder flushed;
  the original is checked once more and only then removed.
The file moved must still be the one scanned (identity, size, mtime) after the step, or it
is put back. A kill at any moment leaves the original, or a verified copy at its
destination, or both; a temporary file left by a killed run is removed by the next run.
A target inside a scanned folder is refused: the moved copies would be found there again.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

from dedup_gui.core.files.digest import DIGEST_SIZE
from dedup_gui.core.files.fileaccess import open_for_reading
from dedup_gui.core.models import CancelToken, ImageRecord
from dedup_gui.core.trash import no_replace, recheck
from dedup_gui.core.trash.actions import (
    FileOutcome,
    Outcome,
    RemovalPlan,
    TrashProgress,
    TrashReport,
    execute_removal,
)

_rename = no_replace.rename
"""Tests replace these two to act as another file system (EXDEV) or an older system."""
_link = os.link
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS}
_CHUNK = 1 << 20
_TRASH_FAILURE = "Could not move it to the trash: "
_BY_DESCRIPTOR = (
    os.name == "posix" and os.link in os.supports_dir_fd and os.open in os.supports_dir_fd
    and hasattr(os, "O_NOFOLLOW") and hasattr(os, "O_DIRECTORY")
)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_FOLDER_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC
TEMPORARY_MARK = ".dedup-move-"
_TEMPORARY = re.compile(r"^\..*\.dedup-move-(\d+)(?:-[0-9a-f]+)?\.tmp$", re.DOTALL)
_STALE_SECONDS = 24 * 3600
"""Where a process cannot be asked whether it still runs, a temporary file this old is a
leftover."""


class DestinationTakenError(FileExistsError):
    """A file is already at the destination: it is never written over."""


class MoveFailedError(OSError):
    """The move did not complete; the original is where it was."""


class MoveRefusedError(ValueError):
    """The chosen folder cannot take the files; nothing was done."""


@dataclass(frozen=True, slots=True)
class MoveReport:
    report: TrashReport
    """One outcome per planned file; TRASHED there means moved into the folder."""
    destinations: dict[str, str]
    """Original path -> where it went, for the files moved."""
    leftovers_removed: tuple[str, ...] = field(default=())
    """Temporary files of an earlier, interrupted move that this run removed."""

    @property
    def outcomes(self) -> tuple[FileOutcome, ...]:
        return self.report.outcomes

    @property
    def moved(self) -> tuple[FileOutcome, ...]:
        return self.report.trashed

    @property
    def not_moved(self) -> tuple[FileOutcome, ...]:
        return self.report.not_trashed

    @property
    def moved_bytes(self) -> int:
        return self.report.trashed_bytes


def destination_of(path: str, roots: Sequence[str], target: str) -> str:
    """TARGET/<path below the deepest root holding it>; a root that is the file itself
    gives TARGET/<name>."""
    holding = [os.path.normpath(r) for r in roots if recheck.inside_roots(path, [r])]
    root = max(holding, key=len) if holding else os.path.dirname(path)  # noqa: PTH120
    below = os.path.relpath(os.path.normpath(path), root)
    if below == os.curdir:
        below = os.path.basename(path)  # noqa: PTH119
    return os.path.join(target, below)  # noqa: PTH118


def target_problem(target: str, roots: Sequence[str]) -> str:
    """Why `target` cannot take the files ("" when it can): not a scanned folder, nor inside
    one (as spelled or for real), or the moved copies would be found, and moved, again."""
    spelled = os.path.normpath(os.path.abspath(target))  # noqa: PTH100
    real = os.path.realpath(spelled)
    for root in roots:
        if Path(root).is_file():
            continue
        spelled_root = os.path.normpath(os.path.abspath(root))  # noqa: PTH100
        real_root = os.path.realpath(spelled_root)
        if spelled == spelled_root or real == real_root:
            return "Choose a folder other than a scanned folder: the copies would stay in place."
        if recheck.inside_roots(spelled, [spelled_root]) or recheck.inside_roots(
            real, [real_root]
        ):
            return ("Choose a folder outside the scanned folders: the moved copies would be "
                    "found there again as duplicates.")
    return ""


def move_marked(
    plan: RemovalPlan,
    target: str,
    *,
    progress: Callable[[TrashProgress], None] | None = None,
    cancel: CancelToken | None = None,
) -> MoveReport:
    """Move every planned file that is still as scanned into `target`; one outcome each.
    MoveRefusedError (nothing done) for a target the files cannot go to."""
    target = os.path.abspath(target)  # noqa: PTH100
    problem = target_problem(target, plan.roots)
    if problem:
        raise MoveRefusedError(problem)
    leftovers = remove_leftovers(target)
    records = {removal.record.path: removal.record for removal in plan.removals}
    destinations: dict[str, str] = {}

    def move(path: str) -> None:
        destination = destination_of(path, plan.roots, target)
        _move_one(records[path], target, destination, plan.roots)
        destinations[path] = destination

    report = execute_removal(plan, trash=move, progress=progress, cancel=cancel)
    outcomes = tuple(
        replace(o, message="Could not move it: " + o.message[len(_TRASH_FAILURE):])
        if o.outcome is Outcome.FAILED and o.message.startswith(_TRASH_FAILURE) else o
        for o in report.outcomes
    )
    return MoveReport(TrashReport(outcomes), destinations, leftovers)


def remove_leftovers(target: str) -> tuple[str, ...]:
    """Remove the temporary files (ours by name, regular files) that a killed move left in
    `target`. Such a file is only ever a copy: its original was never removed before the
    copy was published under its own name."""
    removed = []
    for folder, _dirs, names in os.walk(target):  # links to folders are not followed
        for name in names:
            found = _TEMPORARY.match(name)
            if found is None:
                continue
            path = os.path.join(folder, name)  # noqa: PTH118
            try:
                info = os.lstat(path)
                if stat.S_ISREG(info.st_mode) and _left_over(int(found.group(1)), info):
                    Path(path).unlink()
                    removed.append(path)
            except OSError:
                continue  # not ours to worry about: it stays
    return tuple(removed)


def _left_over(pid: int, info: os.stat_result) -> bool:
    if pid == os.getpid():
        return False
    if os.name != "posix":
        return time.time() - max(info.st_mtime, info.st_ctime) > _STALE_SECONDS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it runs, as another user
    return False


@dataclass(frozen=True, slots=True)
class _Folder:
    """A destination folder: open by descriptor where the system allows (so a folder
    swapped for a link afterwards changes nothing), else by path."""

    path: str
    fd: int | None

    def name(self, name: str) -> str:
        return name if self.fd is not None else os.path.join(self.path, name)  # noqa: PTH118

    def at(self) -> dict[str, int]:
        return {} if self.fd is None else {"dir_fd": self.fd}

    def lstat(self, name: str) -> os.stat_result:
        return os.stat(self.name(name), follow_symlinks=False, **self.at())  # noqa: PTH116


def _move_one(record: ImageRecord, target: str, destination: str, roots: Sequence[str]) -> None:
    source = record.path
    *folders, name = Path(os.path.relpath(destination, target)).parts
    with _destination_folder(target, folders) as folder:
        if _exists(folder, name):
            raise DestinationTakenError(_taken(destination))
        try:
            _rename_into(source, None, folder, name)
        except FileExistsError:
            raise DestinationTakenError(_taken(destination)) from None
        except no_replace.Unsupported:
            _link_then_unlink(record, folder, name, destination, roots)
        except OSError as error:
            if error.errno != errno.EXDEV:
                raise
            _copy_across(record, folder, name, destination, roots)
        else:
            _confirm_renamed(record, folder, name, destination)


def _rename_into(source: str, source_folder: _Folder | None, folder: _Folder, name: str) -> None:
    """`no_replace` rename of `source` (a path, or a name in `source_folder`) to `name`."""
    extra: dict[str, int] = {}
    if source_folder is not None and source_folder.fd is not None:
        extra["src_dir_fd"] = source_folder.fd
    if folder.fd is not None:
        extra["dst_dir_fd"] = folder.fd
    _rename(source_folder.name(source) if source_folder else source, folder.name(name), **extra)


def _confirm_renamed(record: ImageRecord, folder: _Folder, name: str, destination: str) -> None:
    """What the rename took must be the file scanned; another file swapped in since the
    re-check goes back."""
    if _is_scanned(folder.lstat(name), record):
        return
    try:
        if folder.fd is not None:
            _rename(name, record.path, src_dir_fd=folder.fd)
        else:
            _rename(folder.name(name), record.path)
    except OSError:
        raise MoveFailedError(
            "It was replaced by another file just before the move; that file is now at "
            f"{destination} (its old name was taken again)."
        ) from None
    raise MoveFailedError("It was replaced by another file just before the move; nothing moved.")


def _link_then_unlink(
    record: ImageRecord, folder: _Folder, name: str, destination: str, roots: Sequence[str]
) -> None:
    try:
        _link(record.path, folder.name(name), follow_symlinks=False, **_dst(folder))
    except FileExistsError:
        raise DestinationTakenError(_taken(destination)) from None
    except OSError as error:
        if error.errno == errno.EXDEV:
            _copy_across(record, folder, name, destination, roots)
            return
        if error.errno in _NO_HARD_LINKS:
            raise MoveFailedError(
                "The chosen folder's file system can take a file neither by a rename that "
                "never writes over another nor by a hard link; nothing was moved."
            ) from None
        raise
    linked = folder.lstat(name)
    if not _is_scanned(linked, record):
        _unlink_if_same(folder, name, linked)  # our new name for a file swapped in meanwhile
        raise MoveFailedError("It was replaced by another file just before the move; nothing "
                              "moved.")
    # A file swapped in at the old name since the link is not the photo: it stays.
    _unlink_if_same(_parent_of(record.path), os.path.basename(record.path), linked)  # noqa: PTH119


def _copy_across(
    record: ImageRecord, folder: _Folder, name: str, destination: str, roots: Sequence[str]
) -> None:
    temporary = f".{name[:180]}{TEMPORARY_MARK}{os.getpid()}-{secrets.token_hex(4)}.tmp"
    flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
             | getattr(os, "O_BINARY", 0))
    descriptor = os.open(folder.name(temporary), flags, 0o600, **folder.at())
    ours = os.fstat(descriptor)
    try:
        with os.fdopen(descriptor, "wb") as copy:
            written = _copy_checked(record, copy)
        if _digest(folder, temporary) != written:
            raise MoveFailedError("The copy in the chosen folder did not read back the same.")
        try:
            _rename_into(temporary, folder, folder, name)
        except no_replace.Unsupported:
            _link(folder.name(temporary), folder.name(name), follow_symlinks=False,
                  **_src(folder), **_dst(folder))
            _unlink_if_same(folder, temporary, ours)
    except FileExistsError:
        _unlink_if_same(folder, temporary, ours)
        raise DestinationTakenError(_taken(destination)) from None
    except BaseException:
        with contextlib.suppress(OSError):
            _unlink_if_same(folder, temporary, ours)
        raise
    if folder.fd is not None:
        os.fsync(folder.fd)  # the new name on disk before the original goes
    found = recheck.check_before_removal(record, roots)
    if isinstance(found, recheck.Mismatch):
        # The copy is a second copy of a photo that has changed; take back only our copy.
        _unlink_if_same(folder, name, ours)
        raise MoveFailedError(f"It changed while being copied: {found.message}")
    if not _unlink_if_same(_parent_of(record.path), os.path.basename(record.path), found):  # noqa: PTH119
        raise MoveFailedError(
            f"It was replaced just after it was copied; the copy at {destination} is the file "
            "as scanned, and the file now at its old place was left alone."
        )


def _copy_checked(record: ImageRecord, copy: BinaryIO) -> bytes:
    """Copy the original into `copy` (flushed to disk, its times and mode carried over);
    the digest of what was written, which must be the scanned file's."""
    written = hashlib.blake2b(digest_size=DIGEST_SIZE)
    size = 0
    with open_for_reading(record.path) as source:
        opened = os.fstat(source.fileno())
        if not _is_scanned(opened, record):
            raise MoveFailedError("It was replaced by another file just before the move.")
        while chunk := source.read(_CHUNK):
            written.update(chunk)
            copy.write(chunk)
            size += len(chunk)
    copy.flush()
    target = copy.fileno()
    if hasattr(os, "fchmod"):
        os.fchmod(target, stat.S_IMODE(opened.st_mode))
    if os.utime in os.supports_fd:
        os.utime(target, ns=(opened.st_atime_ns, opened.st_mtime_ns))
    os.fsync(target)
    digest = written.digest()
    if size != record.size or (
        record.content_digest is not None and digest != record.content_digest
    ):
        raise MoveFailedError("It changed while being copied; it was left alone.")
    return digest


@contextlib.contextmanager
def _destination_folder(target: str, folders: Sequence[str]) -> Iterator[_Folder]:
    """TARGET/folders..., made where missing, each a real folder (never a link)."""
    Path(target).mkdir(parents=True, exist_ok=True)
    path = target
    if not _BY_DESCRIPTOR:
        for part in folders:
            path = os.path.join(path, part)  # noqa: PTH118
            with contextlib.suppress(FileExistsError):
                Path(path).mkdir()
            _refuse_link(part, os.lstat(path))
        yield _Folder(path, None)
        return
    descriptor = os.open(target, _FOLDER_FLAGS)
    try:
        for part in folders:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, dir_fd=descriptor)
            try:
                below = os.open(part, _FOLDER_FLAGS | os.O_NOFOLLOW, dir_fd=descriptor)
            except OSError as error:
                if error.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                _refuse_link(part, os.stat(part, dir_fd=descriptor, follow_symlinks=False))
                raise
            os.close(descriptor)
            descriptor = below
            path = os.path.join(path, part)  # noqa: PTH118
        yield _Folder(path, descriptor)
    finally:
        os.close(descriptor)


def _refuse_link(part: str, info: os.stat_result) -> None:
    reparse = getattr(info, "st_file_attributes", 0) & getattr(
        stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0x400)
    if stat.S_ISLNK(info.st_mode) or reparse:
        raise MoveFailedError(
            f"The folder “{part}” in the chosen folder is a link; nothing is put through it.")
    if not stat.S_ISDIR(info.st_mode):
        raise MoveFailedError(f"“{part}” in the chosen folder is a file, not a folder.")


def _parent_of(path: str) -> _Folder:
    return _Folder(os.path.dirname(path), None)  # noqa: PTH120


def _unlink_if_same(folder: _Folder, name: str, expected: os.stat_result) -> bool:
    """Remove `name` only while it is the file `expected` (same device and inode)."""
    if folder.fd is None and _BY_DESCRIPTOR:
        descriptor = os.open(folder.path, _FOLDER_FLAGS)
        try:
            return _unlink_if_same(_Folder(folder.path, descriptor), name, expected)
        finally:
            os.close(descriptor)
    try:
        current = folder.lstat(name)
    except FileNotFoundError:
        return False
    if (current.st_dev, current.st_ino) != (expected.st_dev, expected.st_ino):
        return False
    os.unlink(folder.name(name), **folder.at())
    return True


def _is_scanned(current: os.stat_result, record: ImageRecord) -> bool:
    """Identity, size and mtime as scanned (a rename or link changes the ctime itself)."""
    if not stat.S_ISREG(current.st_mode):
        return False
    if record.dev and record.ino and (current.st_dev, current.st_ino) != (record.dev, record.ino):
        return False
    return current.st_size == record.size and current.st_mtime_ns == record.mtime_ns


def _exists(folder: _Folder, name: str) -> bool:
    try:
        folder.lstat(name)
    except FileNotFoundError:
        return False
    return True


def _src(folder: _Folder) -> dict[str, int]:
    return {} if folder.fd is None else {"src_dir_fd": folder.fd}


def _dst(folder: _Folder) -> dict[str, int]:
    return {} if folder.fd is None else {"dst_dir_fd": folder.fd}


def _digest(folder: _Folder, name: str) -> bytes:
    hasher = hashlib.blake2b(digest_size=DIGEST_SIZE)
    flags = os.O_RDONLY | _CLOEXEC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    with os.fdopen(os.open(folder.name(name), flags, **folder.at()), "rb") as handle:
        while chunk := handle.read(_CHUNK):
            hasher.update(chunk)
    return hasher.digest()


def _taken(destination: str) -> str:
    return f"A file named {destination} already exists there; it was not written over."
