"""Carry out a removal plan by moving the files into a folder the user chose, not the trash.

The plan and every re-check are the trash's (`actions.execute_removal`: the very file
scanned, through real folders inside the roots, a kept copy still there); only the last
step differs. Each file goes to TARGET/<its path below the scanned root it lies in>, and
nothing is ever written over:
- same file system: a hard link at the new name (refused by the system if the name is
  taken), then the old name is removed; where hard links are not supported, a rename right
  after checking that the name is free;
- across file systems: a copy into a temporary file inside the target folder, flushed to
  disk, read back and compared (size and digest) with what was read from the original,
  linked (or renamed, name checked free) to its name; the original is checked once more
  and only then removed. A failed step removes only the temporary file we wrote.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from dedup_gui.core.files.digest import DIGEST_SIZE
from dedup_gui.core.files.fileaccess import open_for_reading
from dedup_gui.core.models import CancelToken, ImageRecord
from dedup_gui.core.trash import recheck
from dedup_gui.core.trash.actions import (
    FileOutcome,
    Outcome,
    RemovalPlan,
    TrashProgress,
    TrashReport,
    execute_removal,
)

_link = os.link
"""os.link; tests replace it to act as another file system (EXDEV) would."""
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS}
_CHUNK = 1 << 20
_TRASH_FAILURE = "Could not move it to the trash: "


class DestinationTakenError(FileExistsError):
    """A file is already at the destination: it is never written over."""


class MoveFailedError(OSError):
    """The move did not complete; the original is where it was."""


@dataclass(frozen=True, slots=True)
class MoveReport:
    report: TrashReport
    """One outcome per planned file; TRASHED there means moved into the folder."""
    destinations: dict[str, str]
    """Original path -> where it went, for the files moved."""

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


def move_marked(
    plan: RemovalPlan,
    target: str,
    *,
    progress: Callable[[TrashProgress], None] | None = None,
    cancel: CancelToken | None = None,
) -> MoveReport:
    """Move every planned file that is still as scanned into `target`; one outcome each."""
    target = os.path.abspath(target)  # noqa: PTH100
    records = {removal.record.path: removal.record for removal in plan.removals}
    destinations: dict[str, str] = {}

    def move(path: str) -> None:
        destination = destination_of(path, plan.roots, target)
        _move_one(records[path], destination, plan.roots)
        destinations[path] = destination

    report = execute_removal(plan, trash=move, progress=progress, cancel=cancel)
    outcomes = tuple(
        replace(o, message="Could not move it: " + o.message[len(_TRASH_FAILURE):])
        if o.outcome is Outcome.FAILED and o.message.startswith(_TRASH_FAILURE) else o
        for o in report.outcomes
    )
    return MoveReport(TrashReport(outcomes), destinations)


def _move_one(record: ImageRecord, destination: str, roots: Sequence[str]) -> None:
    source = record.path
    if os.path.normcase(os.path.abspath(source)) == os.path.normcase(destination):  # noqa: PTH100
        raise MoveFailedError("It is already in the chosen folder.")
    if os.path.lexists(destination):
        raise DestinationTakenError(_taken(destination))
    Path(destination).parent.mkdir(parents=True, exist_ok=True)
    scanned = os.lstat(source)
    try:
        _link(source, destination)
    except FileExistsError:
        raise DestinationTakenError(_taken(destination)) from None
    except OSError as error:
        if error.errno == errno.EXDEV:
            _copy_across(record, destination, roots)
            return
        if error.errno not in _NO_HARD_LINKS:
            raise
        _rename_if_free(source, destination)
        return
    linked = os.lstat(destination)
    if (linked.st_dev, linked.st_ino) != (scanned.st_dev, scanned.st_ino):
        Path(destination).unlink()  # our new name for a file swapped in meanwhile; never the photo
        raise MoveFailedError("It was replaced by another file while being moved.")
    Path(source).unlink()


def _rename_if_free(source: str, destination: str) -> None:
    if os.path.lexists(destination):
        raise DestinationTakenError(_taken(destination))
    os.rename(source, destination)  # noqa: PTH104


def _copy_across(record: ImageRecord, destination: str, roots: Sequence[str]) -> None:
    folder, name = os.path.split(destination)
    temporary = os.path.join(folder, f".{name}.dedup-move-{os.getpid()}.tmp")  # noqa: PTH118
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                         | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0), 0o600)
    try:
        written = hashlib.blake2b(digest_size=DIGEST_SIZE)
        size = 0
        with open_for_reading(record.path) as source, os.fdopen(descriptor, "wb") as copy:
            while chunk := source.read(_CHUNK):
                written.update(chunk)
                copy.write(chunk)
                size += len(chunk)
            copy.flush()
            os.fsync(copy.fileno())
        if size != record.size or _digest(temporary) != written.digest():
            raise MoveFailedError("The copy in the chosen folder did not read back the same.")
        shutil.copystat(record.path, temporary)
        try:
            _link(temporary, destination)
            Path(temporary).unlink()
        except FileExistsError:
            raise DestinationTakenError(_taken(destination)) from None
        except OSError as error:
            if error.errno not in _NO_HARD_LINKS:
                raise
            _rename_if_free(temporary, destination)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        raise
    found = recheck.check_before_removal(record, roots)
    if isinstance(found, recheck.Mismatch):
        # The copy is a second copy of a photo that has changed; take back only our copy.
        Path(destination).unlink()
        raise MoveFailedError(f"It changed while being copied: {found.message}")
    Path(record.path).unlink()


def _digest(path: str) -> bytes:
    hasher = hashlib.blake2b(digest_size=DIGEST_SIZE)
    with Path(path).open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            hasher.update(chunk)
    return hasher.digest()


def _taken(destination: str) -> str:
    return f"A file named {destination} already exists there; it was not written over."
