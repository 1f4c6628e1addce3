"""One row per duplicate group, with the user's keep/trash choices layered over the suggestions."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)

from dedup_gui.app import long_lived
from dedup_gui.app.formatting import format_bytes, format_count
from dedup_gui.core.decisions.apply_rules import ChainMarks, ReviewColumns, apply_chain
from dedup_gui.core.decisions.column_order import ordered_positions
from dedup_gui.core.decisions.group_order import GroupFilter, GroupSort
from dedup_gui.core.decisions.marks import GroupingMarks, MarkChange, MemberArrays, ReviewMarks
from dedup_gui.core.decisions.review_data import ReviewData, prepare_review
from dedup_gui.core.decisions.saved_marks import group_key
from dedup_gui.core.grouping.keeper import ChainRule
from dedup_gui.core.models import DuplicateGroup, GroupMember, ImageRecord

MarkEdit = tuple[ImageRecord, "bool | None"]
"""A file whose mark the user changed: keep (True), trash (False), or the suggestion
again (None)."""

GROUP_ROLE = Qt.ItemDataRole.UserRole + 1

AnyIndex = QModelIndex | QPersistentModelIndex

COLUMNS_IN_BACKGROUND = 20_000
"""Groupings with more members than this get their columns built on a worker right after
they are shown (when the regroup job did not bring them), not when first needed."""
AFTER_PAINT_MS = 100
"""How long after a grouping is set the work it does not need for its first paint starts
(the heap's collection and freeze, 0.25 s at 100k files; the columns' build on a worker,
which holds the GIL for half a second)."""


@dataclass(frozen=True, eq=False)
class MarkEdits:
    """The marks a change touched, as arrays: iterating yields `MarkEdit`s. Made in no
    time on the GUI thread; whoever saves them iterates (on the decisions thread)."""

    members: list[GroupMember]
    flat: np.ndarray
    keeps: np.ndarray
    """The new mark of each member in `flat`."""
    suggested: np.ndarray

    def __len__(self) -> int:
        return len(self.flat)

    def __iter__(self) -> Iterator[MarkEdit]:
        members = self.members
        for i, keep, suggested in zip(self.flat.tolist(), self.keeps.tolist(),
                                      self.suggested.tolist(), strict=True):
            yield members[i].record, None if keep == suggested else keep


@dataclass(frozen=True, slots=True)
class TrashSelection:
    """What "Move to Trash" would do right now."""

    members: tuple[GroupMember, ...]
    emptied_groups: tuple[DuplicateGroup, ...]
    """Groups in which every file is marked for removal."""

    @property
    def total_bytes(self) -> int:
        return sum(member.record.size for member in self.members)


class GroupListModel(QAbstractListModel):
    """Groups sorted by reclaimable space, largest first, or as the sort and filter bar asks.

    The suggested keep marks come from the core (`GroupMember.keep`); what the user toggles
    is kept per path, so it survives regrouping when the similarity slider moves.

    Rows are the groups shown, in the order shown; a filter hides groups from the view only
    (`groups()`, the marks, the totals and the trash always cover every group). A "position"
    is a group's place in `groups()`.
    """

    keep_changed = Signal()
    order_changed = Signal()
    marks_edited = Signal(object)
    """An iterable of MarkEdit (a list, or MarkEdits): the user changed these marks (not
    emitted for saved marks loaded)."""
    reviewed_added = Signal(object)
    """DuplicateGroup the user has now reviewed (looked at for a while, or changed)."""

    def __init__(self, parent: object | None = None, *, freezes_heap: bool = True) -> None:
        """`freezes_heap`: this model shows the review's groupings, whose heap is frozen for
        the collector while it is shown (`long_lived`); not for a side panel's few groups."""
        super().__init__(parent)
        self._freezes_heap = freezes_heap
        self._groups: list[DuplicateGroup] = []
        self._row_of_path: dict[str, int] | None = None
        """Built on first use after each regroup: 300k paths take longer than the regroup."""
        self.marks = ReviewMarks()
        self._arrays = MemberArrays.of([])
        self._current = GroupingMarks(self._arrays, self.marks)
        """The marks of the members of `_groups`, as arrays."""
        self._columns_task: object | None = None
        self._after_paint = QTimer(self)
        self._after_paint.setSingleShot(True)
        self._after_paint.setInterval(AFTER_PAINT_MS)
        self._after_paint.timeout.connect(self._settle)
        self._shown: list[int] = []
        """Position (in `_groups`) of each row."""
        self._row_of_position: np.ndarray = np.zeros(0, np.int64)
        self._sort = GroupSort.SPACE_SAVED
        self._filter = GroupFilter()
        self._columns: ReviewColumns | None = None
        self._reviewed: set[bytes] = set()
        self._group_keys: dict[int, bytes] = {}
        """Position -> group_key, made when a group is first asked about (painting is lazy)."""

    # Qt model interface
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._shown)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._shown):
            return None
        group = self._groups[self._shown[index.row()]]
        if role == GROUP_ROLE:
            return group
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.describe(index.row())
        return None

    # Groups
    def set_groups(self, groups: list[DuplicateGroup] | ReviewData) -> None:
        """Show these groups (or a regroup job's ReviewData, whose arrays and columns were
        made off the GUI thread), the most space freed first."""
        data = groups if isinstance(groups, ReviewData) else prepare_review(
            groups, with_columns=False)
        self.beginResetModel()
        self._groups = data.groups
        self._arrays = data.arrays
        self._row_of_path = None
        self._columns = data.columns
        self._group_keys = {}
        # Overrides of files not shown now are kept, for when a regroup shows them again.
        self._current = GroupingMarks(data.arrays, self.marks)
        self._shown = self._ordered()
        self._index_rows()
        self.endResetModel()
        self.keep_changed.emit()
        self._after_paint.start()  # a grouping set meanwhile: only the last one is settled

    def _settle(self) -> None:
        """The grouping shown is painted: its heap frozen, its columns built on a worker."""
        if self._freezes_heap:  # the views have let the old grouping go by now
            long_lived.settle(self._arrays.member_count)
        if self._columns is None and self._arrays.member_count > COLUMNS_IN_BACKGROUND:
            self._build_columns_in_background()

    def _build_columns_in_background(self) -> None:
        """One build at a time: one for groups replaced meanwhile is dropped, and the
        current groups' build starts when it ends."""
        if self._columns_task is not None:
            return
        from dedup_gui.app.scan_jobs import ColumnsTask  # scan_jobs imports this module

        task = ColumnsTask(self._groups)
        task.signals.built.connect(self._on_columns_built)
        self._columns_task = task.signals
        task.start()

    def _on_columns_built(self, columns: ReviewColumns) -> None:
        self._columns_task = None
        if columns.groups is self._groups:
            if self._columns is None:
                self._columns = columns
        elif self._columns is None and self._arrays.member_count > COLUMNS_IN_BACKGROUND:
            self._build_columns_in_background()

    def remove_paths(self, paths: set[str]) -> None:
        """Take files that are gone (trashed) out of their groups at once, dropping groups
        left with one image; the full regroup that follows may merge or split groups."""
        if not paths or not any(m.record.path in paths for g in self._groups for m in g.members):
            return
        remaining = []
        for group in self._groups:
            members = tuple(m for m in group.members if m.record.path not in paths)
            if len(members) == len(group.members):
                remaining.append(group)
            elif len(members) > 1:
                remaining.append(replace(group, members=members))
        self.set_groups(remaining)

    def groups(self) -> list[DuplicateGroup]:
        """Every group, shown or filtered out."""
        return list(self._groups)

    def group_count(self) -> int:
        return len(self._groups)

    def group(self, row: int) -> DuplicateGroup:
        return self._groups[self._shown[row]]

    def group_at(self, position: int) -> DuplicateGroup:
        """The group at `position` in `groups()`, shown or not."""
        return self._groups[position]

    def position(self, row: int) -> int:
        """The place in `groups()` of the group in `row`."""
        return self._shown[row]

    def row_of_position(self, position: int) -> int | None:
        """The row showing the group at `position`, or None when it is filtered out."""
        row = int(self._row_of_position[position]) if 0 <= position < len(self._groups) else -1
        return row if row >= 0 else None

    def row_of_path(self, path: str) -> int | None:
        position = self.position_of_path(path)
        return None if position is None else self.row_of_position(position)

    def position_of_path(self, path: str) -> int | None:
        if self._row_of_path is None:
            self._row_of_path = {
                member.record.path: position
                for position, group in enumerate(self._groups)
                for member in group.members
            }
        return self._row_of_path.get(path)

    def row_of_keeper(self, path: str) -> int | None:
        """The row whose keeper is `path`: a linear scan, cheaper than building the map."""
        return next(
            (row for row, position in enumerate(self._shown)
             if self._groups[position].keeper.record.path == path),
            None,
        )

    # Sort and filter
    @property
    def sort_order(self) -> GroupSort:
        return self._sort

    @property
    def group_filter(self) -> GroupFilter:
        return self._filter

    def set_order(self, sort: GroupSort, group_filter: GroupFilter | None = None) -> None:
        """Show the groups in this order, only those `group_filter` lets through. The order
        is taken now: marking a copy afterwards does not move its row."""
        self._sort = sort
        self._filter = group_filter or GroupFilter()
        self.beginResetModel()
        self._shown = self._ordered()
        self._index_rows()
        self.endResetModel()
        self.order_changed.emit()

    def order_needs_columns(self) -> bool:
        """Whether showing the groups in the current order needs `columns()`."""
        return not (self._sort is GroupSort.SPACE_SAVED and self._filter.is_everything)

    def reviewed_positions(self) -> set[int]:
        """Positions (in `groups()`) of the groups the user has reviewed."""
        return self.reviewed_rows()

    def _ordered(self) -> list[int]:
        if not self.order_needs_columns():
            return list(range(len(self._groups)))  # set_groups' order: the largest saving first
        columns = self.columns()
        return ordered_positions(
            columns, self._sort, self._filter, self._effective_keeps(columns),
            self.reviewed_positions(),
        )

    def _index_rows(self) -> None:
        rows = np.full(len(self._groups), -1, np.int64)
        rows[np.asarray(self._shown, np.int64)] = np.arange(len(self._shown))
        self._row_of_position = rows

    def member_starts(self) -> np.ndarray:
        """Index of each group's first member in `groups()` order, then the member count."""
        return self._arrays.starts

    def shown_positions(self) -> np.ndarray:
        """The position (in `groups()`) of each row, as an array."""
        return np.asarray(self._shown, np.int64)

    def member_arrays(self) -> MemberArrays:
        return self._arrays

    # Rule chain
    def columns(self) -> ReviewColumns:
        """The members as flat arrays, built once per grouping."""
        if self._columns is None:
            self._columns = ReviewColumns.of(self._groups)
        return self._columns

    def columns_source(self) -> ReviewColumns | list[DuplicateGroup]:
        """For a job that needs the columns: them when built, else the groups to build from."""
        return self._columns if self._columns is not None else self._groups

    def apply_chain_marks(self, chosen: ChainMarks, columns: ReviewColumns) -> MarkChange | None:
        """Take the marks a job chose with `apply_chain` (None: the groups changed since)."""
        if columns.groups is not self._groups:
            return None
        if self._columns is None:
            self._columns = columns  # the same groups: its flat order is the arrays'
        return self._bulk(lambda: self._take(chosen))

    def apply_rule_chain(
        self, rules: Sequence[ChainRule], rows: Sequence[int] | None = None
    ) -> MarkChange:
        """Keep the copy `rules` choose in these rows (every group when None) and mark the
        others for the trash; copies in protected folders stay kept. Marks in other groups
        are untouched."""
        positions = None if rows is None else [self._shown[row] for row in rows]
        return self._bulk(lambda: self._apply(rules, positions))

    def _apply(self, rules: Sequence[ChainRule], positions: list[int] | None) -> np.ndarray:
        return self._take(apply_chain(self.columns(), rules, positions))

    def _take(self, chosen: ChainMarks) -> np.ndarray:
        return self._current.assign(chosen.members, chosen.keep)

    def _effective_keeps(self, _columns: ReviewColumns | None = None) -> np.ndarray:
        """Every member's mark as `is_kept` says, as an array (a copy)."""
        return self._current.keeps.copy()

    def describe(self, row: int) -> str:
        group = self.group(row)
        marked = [m for m in group.members if not self.is_kept(m)]
        return (
            f"{format_count(len(group.members), 'image')}, "
            f"{len(marked)} to trash, {format_bytes(sum(m.record.size for m in marked))}"
        )

    # Keep / trash
    def is_kept(self, member: GroupMember) -> bool:
        return self.marks.is_kept(member)

    def set_kept(self, row: int, member_index: int, keep: bool) -> bool:
        """Returns False (and changes nothing) for a file in a reference folder marked trash."""
        return self.set_kept_at(self._shown[row], member_index, keep)

    def set_kept_at(self, position: int, member_index: int, keep: bool) -> bool:
        """`set_kept` for the group at `position` in `groups()` (shown or not)."""
        member = self._groups[position].members[member_index]
        if member.is_reference and not keep:
            return False
        flat = int(self._arrays.starts[position]) + member_index
        if len(self._current.assign(np.array([flat]), np.array([keep]))):
            # As ReviewMarks keeps it: a mark equal to the suggestion is no override.
            self.marks_edited.emit([(member.record, None if keep == member.keep else keep)])
        self._mark_reviewed_at(position)
        row = self.row_of_position(position)
        if row is not None:
            changed = self.index(row)
            self.dataChanged.emit(changed, changed)
        self.keep_changed.emit()
        return True

    def toggle_kept(self, row: int, member_index: int) -> bool:
        member = self.group(row).members[member_index]
        return self.set_kept(row, member_index, not self.is_kept(member))

    def mark_folder(self, folder: str, *, keep: bool) -> tuple[int, int]:
        """Keep, or mark for the trash, every copy directly in `folder`, in every group
        (`ReviewMarks.mark_folder`). Returns (copies changed, groups where one was left
        kept)."""
        change = self._bulk(lambda: self._through_marks(
            lambda: self.marks.mark_folder(self._groups, folder, keep=keep)))
        return change.changed, change.spared

    def reset_marks(self, rows: list[int] | None = None) -> MarkChange:
        """Back to the suggestions, in these rows or everywhere."""
        return self._bulk(lambda: self._current.reset(self._positions(rows)))

    def trash_all_but_keepers(self, rows: list[int] | None = None) -> MarkChange:
        return self._bulk(lambda: self._current.trash_all_but_keeper(self._positions(rows)))

    def invert_marks(self, row: int) -> MarkChange:
        flat = self._arrays.flat_of([self._shown[row]])
        change = self._bulk(lambda: self._through_marks(
            lambda: self.marks.invert(self.group(row)), flat))
        self.mark_reviewed(row)
        return change

    def load_marks(self, marks: dict[str, bool]) -> None:
        """Saved marks (path -> keep) from an earlier session, for the groups shown."""
        self._bulk(lambda: self._load(marks), edited=False)

    # Reviewed groups
    def add_reviewed_keys(self, keys: set[bytes] | frozenset[bytes]) -> None:
        """Groups reviewed in an earlier session (`saved_marks.group_key`)."""
        self._reviewed |= keys
        if self._shown:
            self.dataChanged.emit(self.index(0), self.index(len(self._shown) - 1))

    def is_reviewed(self, row: int) -> bool:
        return 0 <= row < len(self._shown) and self._key(self._shown[row]) in self._reviewed

    def mark_reviewed(self, row: int) -> None:
        if 0 <= row < len(self._shown):
            self._mark_reviewed_at(self._shown[row])

    def reviewed_rows(self) -> set[int]:
        """Positions (in `groups()`) of the groups the user has reviewed."""
        if not self._reviewed:
            return set()
        return {p for p in range(len(self._groups)) if self._key(p) in self._reviewed}

    def _mark_reviewed_at(self, position: int) -> None:
        if not 0 <= position < len(self._groups) or self._key(position) in self._reviewed:
            return
        self._reviewed.add(self._key(position))
        row = self.row_of_position(position)
        if row is not None:
            self.dataChanged.emit(self.index(row), self.index(row))
        self.reviewed_added.emit(self._groups[position])

    def _key(self, position: int) -> bytes:
        key = self._group_keys.get(position)
        if key is None:
            key = self._group_keys[position] = group_key(self._groups[position])
        return key

    def next_row_losing_every_copy(self, after: int = -1) -> int | None:
        """The next row shown (after `after`, wrapping around) whose every copy is marked."""
        if not self._shown:
            return None
        losing_rows = np.flatnonzero(self._current.kept_per_group()[self.shown_positions()] == 0)
        if not len(losing_rows):
            return None
        later = losing_rows[losing_rows > after]
        return int(later[0] if len(later) else losing_rows[0])

    def _load(self, marks: dict[str, bool]) -> tuple[np.ndarray, int]:
        self.marks.load(marks, self._groups)
        return self._current.resync(), 0

    def _through_marks(
        self, change: Callable[[], MarkChange], flat: np.ndarray | None = None
    ) -> tuple[np.ndarray, int]:
        """A helper of ReviewMarks (per group, per path), then the arrays read back."""
        done = change()
        return self._current.resync(flat), done.spared

    def _positions(self, rows: list[int] | None) -> list[int] | None:
        """The positions of these rows; None: every group, shown or not."""
        return None if rows is None else [self._shown[row] for row in rows]

    def _bulk(
        self, change: Callable[[], np.ndarray | tuple[np.ndarray, int]], *, edited: bool = True
    ) -> MarkChange:
        """Run a change that returns the flat indices it changed (and groups spared), then
        tell the views and the saver once."""
        done = change()
        changed, spared = done if isinstance(done, tuple) else (done, 0)
        if len(changed):
            if edited:
                arrays = self._arrays
                self.marks_edited.emit(MarkEdits(
                    arrays.members, changed, self._current.keeps[changed],
                    arrays.suggested[changed],
                ))
            if self._shown:
                self.dataChanged.emit(self.index(0), self.index(len(self._shown) - 1))
            self.keep_changed.emit()
        return MarkChange(len(changed), spared)

    def keep_decisions(self) -> dict[str, bool]:
        """Every member's effective mark, path -> keep."""
        return {
            member.record.path: self.is_kept(member)
            for group in self._groups
            for member in group.members
        }

    def marked_totals(self) -> tuple[int, int]:
        """(files, bytes) marked for the trash, from the marks' arrays."""
        return self._current.marked_totals()

    def trash_selection(self, rows: list[int] | None = None) -> TrashSelection:
        """What is marked in these rows; None: in every group, shown or not."""
        chosen = range(len(self._groups)) if rows is None else [self._shown[r] for r in rows]
        members: list[GroupMember] = []
        emptied: list[DuplicateGroup] = []
        for position in chosen:
            group = self._groups[position]
            marked = [m for m in group.members if not self.is_kept(m)]
            members.extend(marked)
            if marked and len(marked) == len(group.members):
                emptied.append(group)
        return TrashSelection(tuple(members), tuple(emptied))

    def _member_by_path(self, path: str) -> GroupMember | None:
        position = self.position_of_path(path)
        if position is None:
            return None
        return next(m for m in self._groups[position].members if m.record.path == path)
