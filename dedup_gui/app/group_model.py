"""One row per duplicate group, with the user's keep/trash choices layered over the suggestions."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from dedup_gui.app.formatting import format_bytes, format_count
from dedup_gui.core.decisions.apply_rules import ChainMarks, ReviewColumns, apply_chain
from dedup_gui.core.decisions.column_order import ordered_positions
from dedup_gui.core.decisions.group_order import GroupFilter, GroupSort
from dedup_gui.core.decisions.marks import MarkChange, ReviewMarks
from dedup_gui.core.decisions.saved_marks import group_key
from dedup_gui.core.grouping.keeper import ChainRule
from dedup_gui.core.models import DuplicateGroup, GroupMember, ImageRecord

MarkEdit = tuple[ImageRecord, "bool | None"]
"""A file whose mark the user changed: keep (True), trash (False), or the suggestion
again (None)."""

GROUP_ROLE = Qt.ItemDataRole.UserRole + 1

AnyIndex = QModelIndex | QPersistentModelIndex


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
    """list[MarkEdit]: the user changed these marks (not emitted for saved marks loaded)."""
    reviewed_added = Signal(object)
    """DuplicateGroup the user has now reviewed (looked at for a while, or changed)."""

    def __init__(self, parent: object | None = None) -> None:
        super().__init__(parent)
        self._groups: list[DuplicateGroup] = []
        self._row_of_path: dict[str, int] | None = None
        """Built on first use after each regroup: 300k paths take longer than the regroup."""
        self.marks = ReviewMarks()
        self._marked_count = 0
        self._marked_bytes = 0
        self._shown: list[int] = []
        """Position (in `_groups`) of each row."""
        self._row_of_position: np.ndarray = np.zeros(0, np.int64)
        self._sort = GroupSort.SPACE_SAVED
        self._filter = GroupFilter()
        self._columns: ReviewColumns | None = None
        self._members: list[GroupMember] | None = None
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
    def set_groups(self, groups: list[DuplicateGroup]) -> None:
        self.beginResetModel()
        reclaimable = [group.reclaimable_bytes for group in groups]
        if all(a >= b for a, b in itertools.pairwise(reclaimable)):
            self._groups = list(groups)  # the core's order already (the usual case)
        else:
            order = sorted(range(len(groups)), key=reclaimable.__getitem__, reverse=True)
            self._groups = [groups[i] for i in order]
        self._row_of_path = None
        self._columns = None
        self._members = None
        self._group_keys = {}
        self._shown = self._ordered()
        self._index_rows()
        # Without overrides the marks are the suggestions: the totals are the reclaimable sums.
        # Overrides of files not shown now are kept, for when a regroup shows them again.
        self._marked_bytes = sum(reclaimable)
        self._marked_count = sum(not m.keep for g in self._groups for m in g.members)
        for path, keep in self.marks.overrides.items():
            member = self._member_by_path(path)
            if member is not None and member.keep != self.is_kept(member):
                step = -1 if keep else 1
                self._marked_count += step
                self._marked_bytes += step * member.record.size
        self.endResetModel()
        self.keep_changed.emit()

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

    def reviewed_positions(self) -> set[int]:
        """Positions (in `groups()`) of the groups the user has reviewed."""
        return self.reviewed_rows()

    def _ordered(self) -> list[int]:
        if self._sort is GroupSort.SPACE_SAVED and self._filter.is_everything:
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
        if self._columns is not None:
            return self._columns.starts
        lengths = np.fromiter((len(g.members) for g in self._groups), np.int64, len(self._groups))
        return np.r_[0, np.cumsum(lengths)].astype(np.int64)

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
            self._columns = columns
        elif self._columns is not columns:
            return None
        return self._bulk(lambda: self._take(chosen))

    def apply_rule_chain(
        self, rules: Sequence[ChainRule], rows: Sequence[int] | None = None
    ) -> MarkChange:
        """Keep the copy `rules` choose in these rows (every group when None) and mark the
        others for the trash; copies in protected folders stay kept. Marks in other groups
        are untouched."""
        positions = None if rows is None else [self._shown[row] for row in rows]
        return self._bulk(lambda: self._apply(rules, positions))

    def _apply(self, rules: Sequence[ChainRule], positions: list[int] | None) -> MarkChange:
        return self._take(apply_chain(self.columns(), rules, positions))

    def _take(self, chosen: ChainMarks) -> MarkChange:
        columns = self.columns()
        current = self._effective_keeps(columns)[chosen.members]
        differs = np.flatnonzero(chosen.keep != current)  # only these marks are touched
        members = self._flat_members()
        set_mark = self.marks.set
        changed = 0
        for flat, keep in zip(chosen.members[differs].tolist(), chosen.keep[differs].tolist(),
                              strict=True):
            changed += set_mark(members[flat], keep)
        return MarkChange(changed)

    def _flat_members(self) -> list[GroupMember]:
        if self._members is None:
            self._members = [m for g in self._groups for m in g.members]
        return self._members

    def _effective_keeps(self, columns: ReviewColumns) -> np.ndarray:
        """Every member's mark as `is_kept` says, as an array."""
        keeps = columns.suggested.copy()
        for path, keep in self.marks.overrides.items():
            flat = columns.flat_index(path)
            if flat is not None:
                keeps[flat] = keep
        keeps[columns.is_reference] = True
        return keeps

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
        if self._set_mark(member, keep):
            # As ReviewMarks keeps it: a mark equal to the suggestion is no override.
            self.marks_edited.emit([(member.record, None if keep == member.keep else keep)])
        self._mark_reviewed_at(position)
        row = self.row_of_position(position)
        if row is not None:
            changed = self.index(row)
            self.dataChanged.emit(changed, changed)
        self.keep_changed.emit()
        return True

    def _set_mark(self, member: GroupMember, keep: bool) -> bool:
        if not self.marks.set(member, keep):
            return False
        step = 1 if not keep else -1
        self._marked_count += step
        self._marked_bytes += step * member.record.size
        return True

    def toggle_kept(self, row: int, member_index: int) -> bool:
        member = self.group(row).members[member_index]
        return self.set_kept(row, member_index, not self.is_kept(member))

    def mark_folder(self, folder: str, *, keep: bool) -> tuple[int, int]:
        """Keep, or mark for the trash, every copy directly in `folder`, in every group
        (`ReviewMarks.mark_folder`). Returns (copies changed, groups where one was left
        kept)."""
        change = self._bulk(lambda: self.marks.mark_folder(self._groups, folder, keep=keep))
        return change.changed, change.spared

    def reset_marks(self, rows: list[int] | None = None) -> MarkChange:
        """Back to the suggestions, in these rows or everywhere."""
        return self._bulk(lambda: self.marks.reset(self._rows(rows)))

    def trash_all_but_keepers(self, rows: list[int] | None = None) -> MarkChange:
        return self._bulk(lambda: self.marks.trash_all_but_keeper(self._rows(rows)))

    def invert_marks(self, row: int) -> MarkChange:
        change = self._bulk(lambda: self.marks.invert(self.group(row)))
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
        return self.marks.next_losing_every_copy([self.group(r) for r in range(len(self._shown))],
                                                 after)

    def _load(self, marks: dict[str, bool]) -> MarkChange:
        self.marks.load(marks, self._groups)
        return MarkChange(1)

    def _rows(self, rows: list[int] | None) -> list[DuplicateGroup]:
        """The groups in these rows; None: every group, shown or not."""
        return list(self._groups) if rows is None else [self.group(row) for row in rows]

    def _bulk(self, change: Callable[[], MarkChange], *, edited: bool = True) -> MarkChange:
        before = self.marks.overrides
        done = change()
        if done.changed and edited:
            self._emit_edits(before, self.marks.overrides)
        if done.changed:
            self._recount()
            if self._shown:
                self.dataChanged.emit(self.index(0), self.index(len(self._shown) - 1))
            self.keep_changed.emit()
        return done

    def _emit_edits(self, before: dict[str, bool], after: dict[str, bool]) -> None:
        edits: list[MarkEdit] = []
        for path in before.keys() | after.keys():
            if before.get(path) != after.get(path):
                member = self._member_by_path(path)
                if member is not None:
                    edits.append((member.record, after.get(path)))
        if edits:
            self.marks_edited.emit(edits)

    def _recount(self) -> None:
        if self._columns is not None:  # built for a rule chain: count with its arrays
            marked_flags = ~self._effective_keeps(self._columns)
            self._marked_count = int(marked_flags.sum())
            self._marked_bytes = int(self._columns.size[marked_flags].sum())
            return
        marked = [m for g in self._groups for m in g.members if not self.is_kept(m)]
        self._marked_count = len(marked)
        self._marked_bytes = sum(m.record.size for m in marked)

    def keep_decisions(self) -> dict[str, bool]:
        """Every member's effective mark, path -> keep."""
        return {
            member.record.path: self.is_kept(member)
            for group in self._groups
            for member in group.members
        }

    def marked_totals(self) -> tuple[int, int]:
        """(files, bytes) marked for the trash; kept up to date without a rescan of the groups."""
        return self._marked_count, self._marked_bytes

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
