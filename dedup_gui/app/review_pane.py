"""The review list pane: the sort and filter bar above the groups, shown as thumbnail rows
or as the per-file table (View → Table / Thumbnails)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QStackedWidget, QVBoxLayout, QWidget

from dedup_gui.app.group_filter_bar import GroupFilterBar
from dedup_gui.app.group_model import GroupListModel
from dedup_gui.app.group_table import GroupTableModel, GroupTableView
from dedup_gui.app.group_view import GroupListView


class ReviewPane(QWidget):
    toggle_requested = Signal(int, int)
    """(row, member index) in the group list: the table's Space, for the window's toggle."""

    def __init__(
        self, group_view: GroupListView, model: GroupListModel, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.group_view = group_view
        self.model = model
        self.filter_bar = GroupFilterBar(self)
        self.table_model = GroupTableModel(model, self)
        self.table_view = GroupTableView(self.table_model, self)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(group_view)
        self.stack.addWidget(self.table_view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.stack, 1)

        if not hasattr(model, "reviewed_rows"):  # no reviewed state kept (yet)
            self.filter_bar.unreviewed_box.setEnabled(False)
            self.filter_bar.unreviewed_box.setToolTip("Groups are not marked as reviewed yet")
        self.filter_bar.changed.connect(self.apply_order)
        model.modelReset.connect(self._show_counts)
        self.table_view.current_changed.connect(self._on_table_current)
        self.table_view.toggle_requested.connect(self._on_table_toggle)
        group_view.current_changed.connect(self._on_list_current)

    # Views
    def show_table(self, table: bool) -> None:
        self.stack.setCurrentWidget(self.table_view if table else self.group_view)
        row = self.group_view.current_row()
        if table and row >= 0:
            self.table_view.show_member(self.model.position(row), self.group_view.current_member())
        (self.table_view if table else self.group_view).setFocus()

    def is_table_shown(self) -> bool:
        return self.stack.currentWidget() is self.table_view

    def selected_rows(self) -> list[int]:
        """Rows of the groups selected: the table's selected files, else the current group."""
        if self.is_table_shown():
            rows = [self.model.row_of_position(p) for p in self.table_view.selected_positions()]
            return [row for row in rows if row is not None]
        row = self.group_view.current_row()
        return [row] if row >= 0 else []

    # Order
    def apply_order(self) -> None:
        """Sort and filter as the bar says, keeping the current group when still shown."""
        row = self.group_view.current_row()
        position = self.model.position(row) if row >= 0 else None
        self.model.set_order(self.filter_bar.sort(), self.filter_bar.group_filter())
        again = self.model.row_of_position(position) if position is not None else None
        if self.model.rowCount():
            self.group_view.set_current(again if again is not None else 0)
        self._show_counts()

    def _show_counts(self) -> None:
        self.filter_bar.show_counts(self.model.rowCount(), self.model.group_count())

    # The table follows the list and the other way round
    def _on_table_current(self, position: int, member_index: int) -> None:
        row = self.model.row_of_position(position)
        if row is not None and (row, member_index) != (
            self.group_view.current_row(), self.group_view.current_member()
        ):
            self.group_view.set_current(row, member_index)

    def _on_list_current(self, row: int, member_index: int) -> None:
        if row >= 0 and self.is_table_shown():
            self.table_view.show_member(self.model.position(row), member_index)

    def _on_table_toggle(self, position: int, member_index: int) -> None:
        row = self.model.row_of_position(position)
        if row is not None:
            self.toggle_requested.emit(row, member_index)
