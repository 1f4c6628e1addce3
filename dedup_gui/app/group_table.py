"""The compact table: one row per file of the groups shown, over the same marks as the
thumbnail rows. Nothing is built for rows never painted: a row's cells (texts, alignment,
shading) are made once, the first time it is painted, and served from then on without
formatting anything; the row -> (group, copy) map is arrays, so 100,000 rows scroll like
100. Every other group is shaded by the view under the cells, a band per run of rows: as a
cell's background role, Qt would fill each cell on its own (a third of a frame's time)."""

from __future__ import annotations

import os

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QModelRoleDataSpan,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QGuiApplication, QKeyEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from dedup_gui.app.formatting import (
    format_bytes,
    format_capture_time,
    format_dimensions,
    format_mtime,
    format_percent,
)
from dedup_gui.app.group_model import GroupListModel
from dedup_gui.app.group_view import KEEP_COLOUR, REFERENCE_COLOUR, TRASH_COLOUR
from dedup_gui.app.paths import display_path
from dedup_gui.core.models import GroupMember, MatchKind

AnyIndex = QModelIndex | QPersistentModelIndex

NAME, FOLDER, SIZE, DIMENSIONS, DATE, SIMILARITY, MARK = range(7)
HEADERS = ("Name", "Folder", "Size", "Dimensions", "Date", "Similarity", "Mark")
ROW_HEIGHT = 22
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_ROLES = frozenset({
    Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ForegroundRole,
    Qt.ItemDataRole.TextAlignmentRole, Qt.ItemDataRole.ToolTipRole,
    Qt.ItemDataRole.AccessibleTextRole,
})
_CACHED_ROWS = 4000
# Plain ints: what QModelRoleData.role() returns, and cheaper to look up than the enum.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole.value)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole.value)
_SOMETIMES_SET = frozenset({_FOREGROUND, _ALIGNMENT, _DISPLAY})
"""Roles some cells have and others not: the ones a painted cell must clear when it has
none (the other roles the delegate asks for are never set)."""
Cell = dict[int, object]


class GroupTableModel(QAbstractTableModel):
    """Rows follow the list model's groups shown (its sort and filter), members in keeper
    order; `sort()` reorders the files by a column instead."""

    def __init__(self, groups: GroupListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._groups = groups
        self._position = np.zeros(0, np.int64)
        self._member = np.zeros(0, np.int64)
        self._flat = np.zeros(0, np.int64)
        self._band = np.zeros(0, bool)
        """Every other group is shaded, so a group's files read as one block."""
        self.shade = QBrush(QGuiApplication.palette().alternateBase())
        self._mark_cells: dict[str, Cell] = {
            "reference": {_DISPLAY: "KEEP (protected)", _FOREGROUND: QBrush(REFERENCE_COLOUR)},
            "keep": {_DISPLAY: "KEEP", _FOREGROUND: QBrush(KEEP_COLOUR)},
            "trash": {_DISPLAY: "TRASH", _FOREGROUND: QBrush(TRASH_COLOUR)},
        }
        """The mark column's three cells, made once (a mark changes without a new cell)."""
        self._sorted: tuple[int, Qt.SortOrder] | None = None
        self._cells: dict[int, tuple[Cell, ...]] = {}
        """Row -> its cells but the mark (role -> value): only rows painted are made."""
        self._rows = 0
        self._span_layout: tuple[int, int, tuple[tuple[int, int], ...]] | None = None
        """(size, first role, (role, position) of each role a cell may set) of the first
        span painted: the delegate's."""
        groups.modelReset.connect(self.rebuild)
        groups.keep_changed.connect(self._on_marks_changed)
        self.rebuild()

    # Rows
    def rebuild(self) -> None:
        """Take the list model's groups shown again (after a regroup, a sort or a filter)."""
        self.beginResetModel()
        self._sorted = None
        self._cells.clear()
        model = self._groups
        positions = model.shown_positions()
        if len(positions):
            starts = model.member_starts()
            lengths = starts[positions + 1] - starts[positions]
            self._position = np.repeat(positions, lengths)
            first_of_row = np.repeat(np.r_[0, np.cumsum(lengths)[:-1]], lengths)
            self._member = np.arange(int(lengths.sum())) - first_of_row
            self._flat = starts[self._position] + self._member
            self._band = np.repeat(np.arange(len(positions)) % 2 == 1, lengths)
        else:
            self._position = self._member = self._flat = np.zeros(0, np.int64)
            self._band = np.zeros(0, bool)
        self._rows = len(self._position)
        self.endResetModel()

    def location(self, row: int) -> tuple[int, int]:
        """(position of the group in `groups()`, member index) of a table row."""
        return int(self._position[row]), int(self._member[row])

    def row_of(self, position: int, member_index: int) -> int | None:
        hits = np.flatnonzero((self._position == position) & (self._member == member_index))
        return int(hits[0]) if len(hits) else None

    def shaded(self, first: int, last: int) -> np.ndarray:
        """Whether each row from `first` to `last` (included) is in a shaded group."""
        return self._band[first : last + 1]

    def member(self, row: int) -> GroupMember:
        position, member_index = self.location(row)
        return self._groups.group_at(position).members[member_index]

    # Qt model interface
    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        # Qt asks for every cell it paints (QAbstractItemModel.index): no len() here.
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role not in _ROLES or not index.isValid():
            return None
        row, column = index.row(), index.column()
        if role == _ACCESSIBLE:
            return ", ".join(self._text(row, c) for c in range(len(HEADERS)))
        if role == _TOOLTIP:
            return display_path(self.member(row).record.path) if column in (NAME, FOLDER) \
                else None
        return self._cell(row, column).get(int(role))

    def multiData(self, index: AnyIndex, roleDataSpan: QModelRoleDataSpan) -> None:
        """Every role a cell is painted with in one call (Qt asks for seven): a call from
        Qt into Python costs more than computing the cell, so this does as few calls back
        into Qt as it can, with the cell made in advance.

        The delegate asks for the same roles in the same order on every call, in the same
        span: once learned, only the roles a cell may set are written (the others stay
        empty: nothing else fills this view's delegate's span). Any other span gets each of
        its roles looked at."""
        row = index.row()
        if row < 0:
            return
        cell = self._cell(row, index.column())
        size = roleDataSpan.size()
        layout = self._span_layout
        if layout is not None and layout[0] == size and size \
                and roleDataSpan[0].role() == layout[1]:
            for role, position in layout[2]:
                value = cell.get(role)
                if value is None:
                    roleDataSpan[position].clearData()
                else:
                    roleDataSpan[position].setData(value)
            return
        roles = []
        for position in range(size):  # no __iter__: it would end on an error
            role_data = roleDataSpan[position]
            role = role_data.role()
            roles.append(role)
            value = cell.get(role)
            if value is not None:
                role_data.setData(value)
            elif role in _SOMETIMES_SET:
                # A span is reused from cell to cell: a role left unset would keep the
                # last cell's value.
                role_data.clearData()
        if layout is None and roles:
            self._span_layout = (size, roles[0], tuple(
                (role, position) for position, role in enumerate(roles)
                if role in _SOMETIMES_SET))

    def _cell(self, row: int, column: int) -> Cell:
        if column == MARK:
            member = self.member(row)
            if member.is_reference:
                return self._mark_cells["reference"]
            return self._mark_cells["keep" if self._groups.is_kept(member) else "trash"]
        cells = self._cells.get(row)
        if cells is None:
            if len(self._cells) > _CACHED_ROWS:
                self._cells.clear()
            cells = self._cells[row] = self._make_cells(row)
        return cells[column]

    def _make_cells(self, row: int) -> tuple[Cell, ...]:
        cells = []
        for column in range(MARK):
            cell: Cell = {_DISPLAY: self._text(row, column)}
            if column in (SIZE, SIMILARITY):
                cell[_ALIGNMENT] = int(_RIGHT.value)
            cells.append(cell)
        return tuple(cells)

    def _text(self, row: int, column: int) -> str:
        member = self.member(row)
        record = member.record
        if column == NAME:
            return display_path(os.path.basename(record.path))  # noqa: PTH119
        if column == FOLDER:
            return display_path(os.path.dirname(record.path))  # noqa: PTH120
        if column == SIZE:
            return format_bytes(record.size)
        if column == DIMENSIONS:
            return format_dimensions(record.width, record.height)
        if column == DATE:
            if record.capture_time:
                return format_capture_time(record.capture_time)
            return format_mtime(record.mtime_ns)
        if column == SIMILARITY:
            if self._member[row] == 0:
                return "keeper"
            if member.match is MatchKind.EXACT:
                return "exact"
            return format_percent(member.similarity)
        if member.is_reference:
            return "KEEP (protected)"
        return "KEEP" if self._groups.is_kept(member) else "TRASH"

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if column < 0:  # Qt's "no sort column": the list's order again
            if self._sorted is not None:
                self.rebuild()
            return
        if not len(self._position):
            return
        self.layoutAboutToBeChanged.emit()
        permutation = self._order_by(column)
        if order == Qt.SortOrder.DescendingOrder:
            permutation = permutation[::-1]
        self._position = self._position[permutation]
        self._member = self._member[permutation]
        self._flat = self._flat[permutation]
        self._band = np.zeros(len(permutation), bool)  # files of a group are apart now
        self._sorted = (column, order)
        self._cells.clear()
        self.layoutChanged.emit()

    def _order_by(self, column: int) -> np.ndarray:
        """A stable ascending order of the rows by `column`."""
        columns = self._groups.columns()
        flat = self._flat
        if column == SIZE:
            return np.argsort(columns.size[flat], kind="stable")
        if column == DIMENSIONS:
            return np.argsort(columns.pixels[flat], kind="stable")
        if column == FOLDER:
            return np.argsort(columns.folder_code[flat], kind="stable")
        if column == MARK:
            kept = np.fromiter((self._groups.is_kept(self.member(r)) for r in range(len(flat))),
                               bool, len(flat))
            return np.argsort(~kept, kind="stable")
        keys: list[object] = [self._sort_key(r, column) for r in range(len(flat))]
        return np.array(sorted(range(len(flat)), key=keys.__getitem__), np.int64)

    def _sort_key(self, row: int, column: int) -> object:
        member = self.member(row)
        record = member.record
        if column == NAME:
            return os.path.basename(record.path)  # noqa: PTH119
        if column == DATE:
            return record.capture_time or format_mtime(record.mtime_ns).replace(" ", "T")
        return 101.0 if self._member[row] == 0 else member.similarity

    def _on_marks_changed(self) -> None:
        if len(self._position):
            self.dataChanged.emit(self.index(0, MARK), self.index(len(self._position) - 1, MARK))


class GroupTableView(QTableView):
    """Space toggles the current file's mark; the current file follows the compare view."""

    current_changed = Signal(int, int)
    """(position of the group, member index) of the current file."""
    toggle_requested = Signal(int, int)
    """(position of the group, member index)"""

    def __init__(self, model: GroupTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("groupTable")
        self.setAccessibleName("Duplicate files")
        self.setModel(model)
        # The list's order until a header is clicked: with the indicator on a column,
        # enabling sorting would sort by it at once (by name, the groups' files apart).
        self.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.setSortingEnabled(True)
        self.horizontalHeader().setSortIndicatorShown(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a folder's last names show
        self.setShowGrid(False)
        vertical = self.verticalHeader()
        vertical.hide()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(ROW_HEIGHT)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in ((NAME, 220), (FOLDER, 320), (SIZE, 80), (DIMENSIONS, 100),
                              (DATE, 150), (SIMILARITY, 80)):
            self.setColumnWidth(column, width)
        header.setStretchLastSection(True)
        self.selectionModel().currentRowChanged.connect(self._on_current_row)

    def table_model(self) -> GroupTableModel:
        model = self.model()
        assert isinstance(model, GroupTableModel)
        return model

    def selected_positions(self) -> list[int]:
        """The groups of the selected files (the current file's when none is selected)."""
        model = self.table_model()
        rows = {index.row() for index in self.selectionModel().selectedRows()}
        if not rows and self.currentIndex().isValid():
            rows = {self.currentIndex().row()}
        return sorted({model.location(row)[0] for row in rows})

    def show_member(self, position: int, member_index: int) -> None:
        row = self.table_model().row_of(position, member_index)
        if row is not None and row != self.currentIndex().row():
            self.setCurrentIndex(self.model().index(row, NAME))
            self.scrollTo(self.model().index(row, NAME))

    def paintEvent(self, event: QPaintEvent) -> None:
        """The shaded groups' bands first, one rectangle per run of shaded rows, then the
        cells over them (rows are all ROW_HEIGHT: the vertical header is fixed)."""
        model = self.table_model()
        viewport = self.viewport()
        first = self.rowAt(0)
        if first >= 0:
            last = self.rowAt(viewport.height() - 1)
            last = model.rowCount() - 1 if last < 0 else last
            shaded = model.shaded(first, last).astype(np.int8)
            edges = np.flatnonzero(np.diff(np.r_[0, shaded, 0]))
            if len(edges):
                top = self.rowViewportPosition(first)
                width = viewport.width()
                painter = QPainter(viewport)
                for start, end in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
                    painter.fillRect(0, top + start * ROW_HEIGHT, width,
                                     (end - start) * ROW_HEIGHT, model.shade)
                painter.end()
        super().paintEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        index = self.currentIndex()
        if event.key() == Qt.Key.Key_Space and index.isValid():
            self.toggle_requested.emit(*self.table_model().location(index.row()))
            return
        super().keyPressEvent(event)

    def _on_current_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.current_changed.emit(*self.table_model().location(current.row()))
