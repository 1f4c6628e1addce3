"""Moving duplicates to the trash: the only code in dedup_gui that changes anything on disk.

Two steps, so the GUI can confirm between them:
1. `plan_removal(groups, marked_paths, ...)` turns the user's marks into a `RemovalPlan`.
   It refuses (`RemovalRefusedError`) a plan that would leave a group without a kept copy
   on disk, or that touches a reference-folder file, unless the caller explicitly allows it.
2. `execute_removal(plan, ...)` re-checks every file right before acting on it (still there,
   still a regular file, same size and mtime as scanned; a kept copy of its group still there)
   and sends it to the system trash with send2trash. It never deletes, never stops at the first
   failure, and reports one `FileOutcome` per planned file.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import send2trash

from dedup_gui.core.models import CancelToken, DuplicateGroup, ImageRecord

TrashFunction = Callable[[str], None]
"""Moves one path to the trash or raises; `send2trash.send2trash` unless a test injects one."""


class ProblemKind(str, Enum):
    WOULD_EMPTY_GROUP = "would-empty-group"
    REFERENCE_FILE = "reference-file"
    NOT_IN_ANY_GROUP = "not-in-any-group"


@dataclass(frozen=True, slots=True)
class PlanProblem:
    kind: ProblemKind
    group_index: int | None
    """Position of the group in the `groups` passed to the planner (None: no group)."""
    path: str
    message: str


class RemovalRefusedError(ValueError):
    """The marks would lose a photo or touch a protected file; nothing was done."""

    def __init__(self, problems: Sequence[PlanProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(problem.message for problem in self.problems))


@dataclass(frozen=True, slots=True)
class PlannedRemoval:
    record: ImageRecord
    """The file as scanned; it is trashed only if it still has this size and mtime."""
    group_indices: tuple[int, ...]
    kept_copies: tuple[ImageRecord, ...]
    """Copies that stay, as scanned; at least one must still be on disk, unchanged, when the
    file is trashed. Empty when the caller allowed its group to be emptied."""

    @property
    def kept_paths(self) -> tuple[str, ...]:
        return tuple(copy.path for copy in self.kept_copies)


@dataclass(frozen=True, slots=True)
class RemovalPlan:
    removals: tuple[PlannedRemoval, ...]

    @property
    def file_count(self) -> int:
        return len(self.removals)

    @property
    def total_bytes(self) -> int:
        return sum(removal.record.size for removal in self.removals)

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(removal.record.path for removal in self.removals)


class Outcome(str, Enum):
    TRASHED = "trashed"
    SKIPPED_CHANGED = "skipped-changed"
    SKIPPED_MISSING = "skipped-missing"
    SKIPPED_NO_KEPT_COPY = "skipped-no-kept-copy"
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class FileOutcome:
    path: str
    outcome: Outcome
    message: str
    """Why it was not trashed, in one sentence a user understands ("" when trashed)."""
    size: int


@dataclass(frozen=True, slots=True)
class TrashProgress:
    done: int
    total: int
    current_path: str


@dataclass(frozen=True, slots=True)
class TrashReport:
    outcomes: tuple[FileOutcome, ...]

    @property
    def trashed(self) -> tuple[FileOutcome, ...]:
        return tuple(o for o in self.outcomes if o.outcome is Outcome.TRASHED)

    @property
    def not_trashed(self) -> tuple[FileOutcome, ...]:
        return tuple(o for o in self.outcomes if o.outcome is not Outcome.TRASHED)

    @property
    def trashed_bytes(self) -> int:
        return sum(o.size for o in self.trashed)

    @property
    def cancelled(self) -> bool:
        return any(o.outcome is Outcome.CANCELLED for o in self.outcomes)


def removal_problems(
    groups: Sequence[DuplicateGroup],
    marked_paths: Iterable[str],
    *,
    allow_empty_groups: bool | Collection[int] = False,
    allow_reference: bool = False,
) -> list[PlanProblem]:
    """Everything that stops `plan_removal` from accepting these marks (empty: it will)."""
    marked = set(marked_paths)
    problems: list[PlanProblem] = []
    known: set[str] = set()
    for index, group in enumerate(groups):
        touched = False
        for member in group.members:
            path = member.record.path
            known.add(path)
            if path not in marked:
                continue
            touched = True
            if member.is_reference and not allow_reference:
                problems.append(PlanProblem(
                    ProblemKind.REFERENCE_FILE, index, path,
                    f"{path} is in a reference folder, which is protected.",
                ))
        if (
            touched
            and not _may_empty(index, allow_empty_groups)
            and not _keeps_a_copy(group, marked)
        ):
            keeper_path = group.keeper.record.path
            problems.append(PlanProblem(
                ProblemKind.WOULD_EMPTY_GROUP, index, keeper_path,
                f"No copy of {keeper_path} would be left: every file of its group is marked "
                "for the trash, already gone or changed since the scan.",
            ))
    for path in sorted(marked - known):
        problems.append(PlanProblem(
            ProblemKind.NOT_IN_ANY_GROUP, None, path,
            f"{path} is not in any duplicate group, so it was not checked as a copy.",
        ))
    return problems


def plan_removal(
    groups: Sequence[DuplicateGroup],
    marked_paths: Iterable[str],
    *,
    allow_empty_groups: bool | Collection[int] = False,
    allow_reference: bool = False,
) -> RemovalPlan:
    """The files to trash for these marks, or RemovalRefusedError listing every problem.

    `allow_empty_groups`: True, or the indices (into `groups`) of the groups the user
    confirmed may lose every copy. `allow_reference`: also trash reference-folder files.
    """
    marked = set(marked_paths)
    problems = removal_problems(
        groups, marked, allow_empty_groups=allow_empty_groups, allow_reference=allow_reference
    )
    if problems:
        raise RemovalRefusedError(problems)

    group_indices: dict[str, list[int]] = {}
    kept: dict[str, dict[str, ImageRecord]] = {}
    unguarded: dict[str, bool] = {}
    records: dict[str, ImageRecord] = {}
    for index, group in enumerate(groups):
        kept_here = {m.record.path: m.record for m in group.members if m.record.path not in marked}
        may_empty = _may_empty(index, allow_empty_groups)
        for member in group.members:
            path = member.record.path
            if path not in marked:
                continue
            records.setdefault(path, member.record)
            group_indices.setdefault(path, []).append(index)
            kept.setdefault(path, {}).update(kept_here)
            unguarded[path] = unguarded.get(path, True) and may_empty
    removals = tuple(
        PlannedRemoval(
            record=record,
            group_indices=tuple(group_indices[path]),
            kept_copies=() if unguarded[path] else tuple(
                kept[path][kept_path] for kept_path in sorted(kept[path])
            ),
        )
        for path, record in records.items()
    )
    return RemovalPlan(removals)


def execute_removal(
    plan: RemovalPlan,
    *,
    trash: TrashFunction | None = None,
    progress: Callable[[TrashProgress], None] | None = None,
    cancel: CancelToken | None = None,
) -> TrashReport:
    """Trash every planned file that is still exactly as scanned; one outcome per file."""
    send = trash if trash is not None else send2trash.send2trash
    total = plan.file_count
    outcomes: list[FileOutcome] = []
    for done, removal in enumerate(plan.removals):
        record = removal.record
        if cancel is not None and cancel.cancelled:
            outcomes.append(FileOutcome(
                record.path, Outcome.CANCELLED, "Not attempted: the removal was cancelled.",
                record.size,
            ))
            continue
        if progress is not None:
            progress(TrashProgress(done, total, record.path))
        outcomes.append(_trash_one(removal, send))
    if progress is not None:
        progress(TrashProgress(total, total, ""))
    return TrashReport(tuple(outcomes))


def _trash_one(removal: PlannedRemoval, send: TrashFunction) -> FileOutcome:
    record = removal.record

    def outcome(kind: Outcome, message: str = "") -> FileOutcome:
        return FileOutcome(record.path, kind, message, record.size)

    try:
        current = os.lstat(record.path)
    except (FileNotFoundError, NotADirectoryError):
        return outcome(Outcome.SKIPPED_MISSING, "The file is no longer there.")
    except OSError as error:
        return outcome(Outcome.FAILED, f"The file could not be checked: {error.strerror}.")
    changed = _change_since_scan(record, current)
    if changed:
        return outcome(Outcome.SKIPPED_CHANGED, changed)
    if removal.kept_copies and not any(
        _is_separate_copy_on_disk(kept, record.path, current) for kept in removal.kept_copies
    ):
        return outcome(
            Outcome.SKIPPED_NO_KEPT_COPY,
            "Kept back: no other copy of this photo is on disk, unchanged since the scan.",
        )
    try:
        send(record.path)
    except Exception as error:  # any failure of one file must not stop the others
        return outcome(Outcome.FAILED, f"Could not move it to the trash: {error}")
    return outcome(Outcome.TRASHED)


def _change_since_scan(record: ImageRecord, current: os.stat_result) -> str:
    if stat.S_ISLNK(current.st_mode):
        return "It is a symbolic link, not the photo itself; the link was left alone."
    if not stat.S_ISREG(current.st_mode):
        return "It is no longer a regular file."
    if current.st_size != record.size:
        return f"Its size changed since the scan ({record.size} -> {current.st_size} bytes)."
    if current.st_mtime_ns != record.mtime_ns:
        return "It was modified since the scan."
    return ""


def _is_separate_copy_on_disk(
    kept: ImageRecord, removed_path: str, removed: os.stat_result
) -> bool:
    """A regular file, unchanged since the scan, that survives the removal. A hard link
    counts; another name for the removed file itself (a symlink, a bind mount, another
    spelling on a case-insensitive disk) does not, nor does a kept copy edited since."""
    current = _unchanged_stat(kept)
    if current is None:
        return False
    if (current.st_dev, current.st_ino) != (removed.st_dev, removed.st_ino):
        return True
    # The same file: it survives only as a hard link, a second directory entry.
    if current.st_nlink < 2:
        return False
    try:
        return Path(kept.path).resolve() != Path(removed_path).resolve()
    except (OSError, RuntimeError):
        return False


def _keeps_a_copy(group: DuplicateGroup, marked: set[str]) -> bool:
    return any(
        member.record.path not in marked and _unchanged_stat(member.record) is not None
        for member in group.members
    )


def _unchanged_stat(record: ImageRecord) -> os.stat_result | None:
    """The file's stat if it is still a regular file of the scanned size and mtime."""
    try:
        current = Path(record.path).stat()
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(current.st_mode):
        return None
    if (current.st_size, current.st_mtime_ns) != (record.size, record.mtime_ns):
        return None
    return current


def _may_empty(index: int, allow_empty_groups: bool | Collection[int]) -> bool:
    if isinstance(allow_empty_groups, bool):
        return allow_empty_groups
    return index in allow_empty_groups
