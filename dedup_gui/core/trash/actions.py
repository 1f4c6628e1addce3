"""Moving duplicates to the trash: the only code in dedup_gui that changes anything on disk.

Two steps, so the GUI can confirm between them:
1. `plan_removal(groups, marked_paths, roots=...)` turns the user's marks into a
   `RemovalPlan`. It refuses (`RemovalRefusedError`) marks on every copy of a group, or on a
   reference-folder file, unless the caller explicitly allows it, and any path outside the
   roots of the scan the groups came from. A group whose kept copy has vanished since the scan
   is no "every copy" case: its marked files are planned, guarded by that kept copy, so the
   re-check holds them back (`groups_with_kept_copy_gone` tells the GUI beforehand).
2. `execute_removal(plan, ...)` re-checks every file right before acting on it (`recheck`:
   reached through real folders inside the roots, the very file scanned; a kept copy of its
   group still the file scanned and a separate file) and sends it to the system trash with
   send2trash (`system_trash`: no debris left when a move fails). It never deletes, never
   stops at the first failure, and reports one `FileOutcome` per planned file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from dedup_gui.core.models import CancelToken, DuplicateGroup, ImageRecord
from dedup_gui.core.trash import recheck, system_trash

TrashFunction = Callable[[str], None]
"""Moves one path to the trash or raises; `system_trash.move_to_trash` unless a test injects
one."""


class ProblemKind(str, Enum):
    WOULD_EMPTY_GROUP = "would-empty-group"
    REFERENCE_FILE = "reference-file"
    NOT_IN_ANY_GROUP = "not-in-any-group"
    OUTSIDE_ROOTS = "outside-roots"


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
    """The file as scanned; it is trashed only if it is still this very file."""
    group_indices: tuple[int, ...]
    kept_copies: tuple[ImageRecord, ...]
    """Copies that stay, as scanned; at least one must still be on disk, unchanged, when the
    file is trashed. Empty only when the user marked every copy of its group and the caller
    allowed that group to be emptied."""

    @property
    def kept_paths(self) -> tuple[str, ...]:
        return tuple(copy.path for copy in self.kept_copies)


@dataclass(frozen=True, slots=True)
class RemovalPlan:
    removals: tuple[PlannedRemoval, ...]
    roots: tuple[str, ...]
    """The scan's roots: nothing whose real path lies outside them is trashed."""

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
    SKIPPED_OUTSIDE_ROOTS = "skipped-outside-roots"
    CANCELLED = "cancelled"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class FileOutcome:
    path: str
    outcome: Outcome
    message: str
    """Why it was not trashed, in one sentence a user understands ("" when trashed)."""
    size: int
    trashed_to: system_trash.TrashedFile | None = None
    """Where a trashed file went, when the system trash can be read back (for an undo)."""


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


KEPT_COPY_GONE = "The copy you keep is gone (or changed); nothing in this group was moved."
KEPT_COPIES_GONE = "The copies you keep are gone (or changed); nothing in this group was moved."
STALE_THUMBNAIL = (
    "Left alone: it was compared through the thumbnail inside the file, which does not show "
    "the picture itself."
)
_MISMATCH_OUTCOMES = {
    recheck.Difference.MISSING: Outcome.SKIPPED_MISSING,
    recheck.Difference.CHANGED: Outcome.SKIPPED_CHANGED,
    recheck.Difference.LINKED_FOLDER: Outcome.SKIPPED_CHANGED,
    recheck.Difference.OUTSIDE_ROOTS: Outcome.SKIPPED_OUTSIDE_ROOTS,
    recheck.Difference.UNCHECKABLE: Outcome.FAILED,
}


def removal_problems(
    groups: Sequence[DuplicateGroup],
    marked_paths: Iterable[str],
    *,
    roots: Sequence[str],
    allow_empty_groups: bool | Collection[int] = False,
    allow_reference: bool = False,
) -> list[PlanProblem]:
    """Everything that stops `plan_removal` from accepting these marks (empty: it will)."""
    marked = set(marked_paths)
    problems: list[PlanProblem] = []
    known: set[str] = set()
    for index, group in enumerate(groups):
        paths = [member.record.path for member in group.members]
        known.update(paths)
        for member in group.members:
            path = member.record.path
            if path in marked and member.is_reference and not allow_reference:
                problems.append(PlanProblem(
                    ProblemKind.REFERENCE_FILE, index, path,
                    f"{path} is in a reference folder, which is protected.",
                ))
        if all(path in marked for path in paths) and not _may_empty(index, allow_empty_groups):
            keeper_path = group.keeper.record.path
            problems.append(PlanProblem(
                ProblemKind.WOULD_EMPTY_GROUP, index, keeper_path,
                f"No copy of {keeper_path} would be left: you marked every file of its group "
                "for the trash.",
            ))
    for path in sorted(marked - known):
        problems.append(PlanProblem(
            ProblemKind.NOT_IN_ANY_GROUP, None, path,
            f"{path} is not in any duplicate group, so it was not checked as a copy.",
        ))
    for path in sorted(marked & known):
        if not recheck.inside_roots(path, roots):
            problems.append(PlanProblem(
                ProblemKind.OUTSIDE_ROOTS, None, path,
                f"{path} is not inside the folders this scan looked at.",
            ))
    return problems


def groups_with_kept_copy_gone(
    groups: Sequence[DuplicateGroup], marked_paths: Iterable[str]
) -> tuple[int, ...]:
    """Indices of the groups where the user keeps a copy, marks others, and no kept copy is
    still on disk as scanned: the re-check will move nothing in them. A quick stat-only look
    (no file is read), for the confirmation; `execute_removal` checks fully."""
    marked = set(marked_paths)
    gone: list[int] = []
    for index, group in enumerate(groups):
        kept = [m.record for m in group.members if m.record.path not in marked]
        if len(kept) == len(group.members) or not kept:
            continue  # untouched, or every copy marked (the "every copy" question)
        if not any(recheck.kept_copy_stat(record, read_content=False) for record in kept):
            gone.append(index)
    return tuple(gone)


def plan_removal(
    groups: Sequence[DuplicateGroup],
    marked_paths: Iterable[str],
    *,
    roots: Sequence[str],
    allow_empty_groups: bool | Collection[int] = False,
    allow_reference: bool = False,
) -> RemovalPlan:
    """The files to trash for these marks, or RemovalRefusedError listing every problem.

    `roots`: the folders (and files) scanned for these groups (`ScanResult.roots`).
    `allow_empty_groups`: True, or the indices (into `groups`) of the groups the user
    confirmed may lose every copy; it applies only to groups whose every copy is marked.
    `allow_reference`: also trash reference-folder files.
    """
    marked = set(marked_paths)
    problems = removal_problems(
        groups, marked, roots=roots,
        allow_empty_groups=allow_empty_groups, allow_reference=allow_reference,
    )
    if problems:
        raise RemovalRefusedError(problems)

    group_indices: dict[str, list[int]] = {}
    kept: dict[str, dict[str, ImageRecord]] = {}
    records: dict[str, ImageRecord] = {}
    for index, group in enumerate(groups):
        kept_here = {m.record.path: m.record for m in group.members if m.record.path not in marked}
        for member in group.members:
            path = member.record.path
            if path not in marked:
                continue
            records.setdefault(path, member.record)
            group_indices.setdefault(path, []).append(index)
            kept.setdefault(path, {}).update(kept_here)
    removals = tuple(
        PlannedRemoval(
            record=record,
            group_indices=tuple(group_indices[path]),
            kept_copies=tuple(kept[path][kept_path] for kept_path in sorted(kept[path])),
        )
        for path, record in records.items()
    )
    return RemovalPlan(removals, tuple(roots))


def execute_removal(
    plan: RemovalPlan,
    *,
    trash: TrashFunction | None = None,
    progress: Callable[[TrashProgress], None] | None = None,
    cancel: CancelToken | None = None,
) -> TrashReport:
    """Trash every planned file that is still exactly as scanned; one outcome per file.

    `trash` replaces the system trash (tests); by default a failed move leaves no debris."""
    run = _Removal(plan.roots, trash)
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
        outcomes.append(run.trash_one(removal))
    if progress is not None:
        progress(TrashProgress(total, total, ""))
    return TrashReport(tuple(outcomes))


class _Removal:
    """One run of `execute_removal`: what it has moved and which kept copies it has read."""

    def __init__(self, roots: Sequence[str], trash: TrashFunction | None) -> None:
        self._roots = roots
        self._trash = trash
        self._moved_from_groups: set[int] = set()
        self._content_checked: recheck.ContentChecks = set()
        self._thumbnails_confirmed: dict[str, bool] = {}

    def trash_one(self, removal: PlannedRemoval) -> FileOutcome:
        record = removal.record

        def outcome(kind: Outcome, message: str = "") -> FileOutcome:
            return FileOutcome(record.path, kind, message, record.size)

        found = recheck.check_before_removal(record, self._roots)
        if isinstance(found, recheck.Mismatch):
            return outcome(_MISMATCH_OUTCOMES[found.kind], found.message)
        if not recheck.shows_what_was_hashed(record, self._thumbnails_confirmed):
            return outcome(Outcome.SKIPPED_CHANGED, STALE_THUMBNAIL)
        if removal.kept_copies:
            missing = self._why_no_kept_copy(removal, found)
            if missing:
                return outcome(Outcome.SKIPPED_NO_KEPT_COPY, missing)
        try:
            trashed_to = self._send(record)
        except Exception as error:  # any failure of one file must not stop the others
            return outcome(Outcome.FAILED, f"Could not move it to the trash: {error}")
        self._moved_from_groups.update(removal.group_indices)
        return FileOutcome(record.path, Outcome.TRASHED, "", record.size, trashed_to)

    def _why_no_kept_copy(self, removal: PlannedRemoval, removed: os.stat_result) -> str:
        """"" when a kept copy is on disk as scanned and is a file separate from `removed`."""
        same_file = False
        for kept in removal.kept_copies:
            current = recheck.kept_copy_stat(kept, checked=self._content_checked)
            if current is None or not recheck.shows_what_was_hashed(
                kept, self._thumbnails_confirmed
            ):
                continue
            if _survives_removal(kept.path, current, removal.record.path, removed):
                return ""
            same_file = True
        if same_file:
            return ("The copy you keep is this very file under another name (a link), so "
                    "nothing in this group was moved.")
        if self._moved_from_groups.intersection(removal.group_indices):
            return "The copy you keep is gone (or changed), so this file was kept back."
        return KEPT_COPY_GONE if len(removal.kept_copies) == 1 else KEPT_COPIES_GONE

    def _send(self, record: ImageRecord) -> system_trash.TrashedFile | None:
        if self._trash is not None:
            self._trash(record.path)
            return None

        def intact_original() -> os.stat_result | None:
            found = recheck.check_before_removal(record, self._roots)
            return None if isinstance(found, recheck.Mismatch) else found

        return system_trash.move_to_trash(record.path, intact_original=intact_original)


def _survives_removal(
    kept_path: str, kept: os.stat_result, removed_path: str, removed: os.stat_result
) -> bool:
    """A separate file survives the removal. A hard link counts; another name for the removed
    file itself (a symlink, a bind mount, another spelling on a case-insensitive disk) does
    not."""
    if (kept.st_dev, kept.st_ino) != (removed.st_dev, removed.st_ino):
        return True
    # The same file: it survives only as a hard link, a second directory entry.
    if kept.st_nlink < 2:
        return False
    try:
        return Path(kept_path).resolve() != Path(removed_path).resolve()
    except (OSError, RuntimeError):
        return False


def _may_empty(index: int, allow_empty_groups: bool | Collection[int]) -> bool:
    if isinstance(allow_empty_groups, bool):
        return allow_empty_groups
    return index in allow_empty_groups
