"""One row per duplicate group, with the user's keep/trash choices layered over the suggestions."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from dedup_gui.app.formatting import format_bytes, format_count
from dedup_gui.core.decisions.marks import MarkChange, ReviewMarks
from dedup_gui.core.decisions.saved_marks import group_key
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
    """Groups sorted by reclaimable space, largest first.

    The suggested keep marks come from the core (`GroupMember.keep`); what the user toggles
    is kept per path, so it survives regrouping when the similarity slider moves.
    """

    keep_changed = Signal()
    marks_edited = Signal(object)
    """list[MarkEdit]: the user changed these marks (not emitted for saved marks loaded)."""
    reviewed_added = Signal(object)
    """DuplicateGroup the user has now reviewed (looked at for a while, or changed)."""

    def __init__(self, parent: object | None = None) -> None:
        super().__init__(parent)
        self._groups: list[DuplicateGroup] = []
        self._reviewed: set[bytes] = set()
        self._group_keys: dict[int, bytes] = {}
        """Row -> group_key, made when a row is first asked about (painting is lazy)."""
        self._row_of_path: dict[str, int] | None = None
        """Built on first use after each regroup: 300k paths take longer than the regroup."""
        self.marks = ReviewMarks()
        self._marked_count = 0
        self._marked_bytes = 0

    # Qt model interface
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._groups)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._groups):
            return None
        group = self._groups[index.row()]
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
        self._group_keys = {}
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
        return list(self._groups)

    def group(self, row: int) -> DuplicateGroup:
        return self._groups[row]

    def row_of_path(self, path: str) -> int | None:
        if self._row_of_path is None:
            self._row_of_path = {
                member.record.path: row
                for row, group in enumerate(self._groups)
                for member in group.members
            }
        return self._row_of_path.get(path)

    def row_of_keeper(self, path: str) -> int | None:
        """The row whose keeper is `path`: a linear scan, cheaper than building the map."""
        return next(
            (row for row, group in enumerate(self._groups) if group.keeper.record.path == path),
            None,
        )

    def describe(self, row: int) -> str:
        group = self._groups[row]
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
        member = self._groups[row].members[member_index]
        if member.is_reference and not keep:
            return False
        if self._set_mark(member, keep):
            # As ReviewMarks keeps it: a mark equal to the suggestion is no override.
            self.marks_edited.emit([(member.record, None if keep == member.keep else keep)])
        self.mark_reviewed(row)
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
        member = self._groups[row].members[member_index]
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
        change = self._bulk(lambda: self.marks.invert(self._groups[row]))
        self.mark_reviewed(row)
        return change

    def load_marks(self, marks: dict[str, bool]) -> None:
        """Saved marks (path -> keep) from an earlier session, for the groups shown."""
        self._bulk(lambda: self._load(marks), edited=False)

    # Reviewed groups
    def add_reviewed_keys(self, keys: set[bytes] | frozenset[bytes]) -> None:
        """Groups reviewed in an earlier session (`saved_marks.group_key`)."""
        self._reviewed |= keys
        if self._groups:
            self.dataChanged.emit(self.index(0), self.index(len(self._groups) - 1))

    def is_reviewed(self, row: int) -> bool:
        return self._key(row) in self._reviewed

    def mark_reviewed(self, row: int) -> None:
        if not 0 <= row < len(self._groups) or self.is_reviewed(row):
            return
        self._reviewed.add(self._key(row))
        self.dataChanged.emit(self.index(row), self.index(row))
        self.reviewed_added.emit(self._groups[row])

    def _key(self, row: int) -> bytes:
        key = self._group_keys.get(row)
        if key is None:
            key = self._group_keys[row] = group_key(self._groups[row])
        return key

    def next_row_losing_every_copy(self, after: int = -1) -> int | None:
        return self.marks.next_losing_every_copy(self._groups, after)

    def _load(self, marks: dict[str, bool]) -> MarkChange:
        self.marks.load(marks, self._groups)
        return MarkChange(1)

    def _rows(self, rows: list[int] | None) -> list[DuplicateGroup]:
        return list(self._groups) if rows is None else [self._groups[row] for row in rows]

    def _bulk(self, change: Callable[[], MarkChange], *, edited: bool = True) -> MarkChange:
        before = self.marks.overrides
        done = change()
        if done.changed and edited:
            self._emit_edits(before, self.marks.overrides)
        if done.changed:
            self._recount()
            if self._groups:
                self.dataChanged.emit(self.index(0), self.index(len(self._groups) - 1))
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
        chosen = range(len(self._groups)) if rows is None else rows
        members: list[GroupMember] = []
        emptied: list[DuplicateGroup] = []
        for row in chosen:
            group = self._groups[row]
            marked = [m for m in group.members if not self.is_kept(m)]
            members.extend(marked)
            if marked and len(marked) == len(group.members):
                emptied.append(group)
        return TrashSelection(tuple(members), tuple(emptied))

    def _member_by_path(self, path: str) -> GroupMember | None:
        row = self.row_of_path(path)
        if row is None:
            return None
        return next(m for m in self._groups[row].members if m.record.path == path)
