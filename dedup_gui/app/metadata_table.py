"""The compare view's metadata table: columns sized to the group shown, long paths wrapped.

Every column gets at least what its widest short value needs (dimensions, sizes, dates are
never cut); the room left is shared out. When even that does not fit (many copies), the
table scrolls sideways instead of cutting. Rows marked as wrapping (the full path) break at
path separators and grow to show the whole value.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QWidget

CELL_PADDING = 24
MAX_WRAPPED_LINES = 4
_BREAK_AFTER_SEPARATOR = "\N{ZERO WIDTH SPACE}"


def breakable_path(path: str) -> str:
    """The path with a line-break opportunity after each separator (shown, never used)."""
    separators = {os.sep, "/"} if os.altsep is None else {os.sep, os.altsep}
    return "".join(
        character + _BREAK_AFTER_SEPARATOR if character in separators else character
        for character in path
    )


class MetadataTable(QTableWidget):
    def __init__(self, row_labels: list[str], wrapped_rows: set[int], parent: QWidget) -> None:
        super().__init__(len(row_labels), 0, parent)
        self._wrapped_rows = wrapped_rows
        self.setVerticalHeaderLabels(row_labels)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setWordWrap(True)
        self.setTextElideMode(Qt.TextElideMode.ElideNone)
        line = self.fontMetrics().height()
        self.verticalHeader().setDefaultSectionSize(line + 8)
        rows = len(row_labels) + len(wrapped_rows) * (MAX_WRAPPED_LINES - 1)
        self.setMinimumHeight((line + 8) * (rows + 1) + 6)

    def fit_columns(self) -> None:
        """Size the columns to the values shown now, then the wrapped rows to their text."""
        columns = self.columnCount()
        if not columns:
            return
        metrics = self.fontMetrics()
        needs = []
        for column in range(columns):
            header = self.horizontalHeaderItem(column)
            need = metrics.horizontalAdvance(header.text()) if header is not None else 0
            for row in range(self.rowCount()):
                item = self.item(row, column)
                if item is not None and row not in self._wrapped_rows:
                    need = max(need, metrics.horizontalAdvance(item.text()))
            needs.append(need + CELL_PADDING)
        room = self.viewport().width()
        extra = max(0, room - sum(needs)) // columns
        for column, need in enumerate(needs):
            self.setColumnWidth(column, need + extra)
        for row in self._wrapped_rows:
            self.resizeRowToContents(row)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_columns()
