"""The "Not scanned" tab: files, folders and links the scan skipped (unreadable, not images,
links not followed), with the reason; below them the notes on files that were read with
something damaged in them (ScanResult.file_warnings, the CLI's `note:` lines). A row opens
on double-click; Open and Show in Folder act on the selected row."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QPoint, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from dedup_gui.app import desktop
from dedup_gui.app.formatting import format_count
from dedup_gui.app.paths import display_path
from dedup_gui.core.models import ScanError, ScanResult

AnyIndex = QModelIndex | QPersistentModelIndex
COLUMNS = ("Path", "Problem", "Details")
NOTE_COLUMNS = ("Path", "Note")
TAB_NAME = "Not scanned"


def _error_row(error: ScanError) -> tuple[str, ...]:
    return (display_path(error.path), error.kind.value.replace("-", " "), error.message)


def _note_row(note: ScanError) -> tuple[str, ...]:
    return (display_path(note.path), note.message)


class ErrorTableModel(QAbstractTableModel):
    def __init__(
        self,
        parent: QWidget | None = None,
        columns: tuple[str, ...] = COLUMNS,
        row: Callable[[ScanError], tuple[str, ...]] = _error_row,
    ) -> None:
        super().__init__(parent)
        self._errors: list[ScanError] = []
        self._columns = columns
        self._row = row

    def set_errors(self, errors: list[ScanError]) -> None:
        self.beginResetModel()
        self._errors = sorted(errors, key=lambda error: error.path)
        self.endResetModel()

    def errors(self) -> list[ScanError]:
        return list(self._errors)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._errors)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return None
        return self._row(self._errors[index.row()])[index.column()]

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._columns[section]
        return None


class ErrorTable(QTableView):
    """One table of paths with their reason; double-click or the menu opens a row."""

    def __init__(self, model: ErrorTableModel, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.verticalHeader().hide()
        header = self.horizontalHeader()
        last = model.columnCount() - 1
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, last):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(last, QHeaderView.ResizeMode.Stretch)
        self.setAccessibleName(name)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._show_menu)
        self.doubleClicked.connect(lambda index: desktop.open_file(self._path(index.row())))

    def selected_path(self) -> str | None:
        rows = self.selectionModel().selectedRows()
        return self._path(rows[0].row()) if rows else None

    def _path(self, row: int) -> str:
        model = self.model()
        assert isinstance(model, ErrorTableModel)
        return model.errors()[row].path

    def _show_menu(self, position: QPoint) -> None:
        index = self.indexAt(position)
        if not index.isValid():
            return
        self.selectRow(index.row())
        path = self._path(index.row())
        menu = QMenu(self)
        menu.addAction("Open", lambda: desktop.open_file(path))
        menu.addAction("Show in Folder", lambda: desktop.show_in_folder(path))
        menu.exec(self.viewport().mapToGlobal(position))


class ErrorsView(QWidget):
    """What was not scanned, and below it (when there are any) the files read with a note."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.error_model = ErrorTableModel(self)
        self.note_model = ErrorTableModel(self, NOTE_COLUMNS, _note_row)
        self.errors_label = QLabel(self)
        self.errors_table = ErrorTable(
            self.error_model, "Files, folders and links that were not scanned", self
        )
        self.notes_label = QLabel(self)
        self.notes_label.setWordWrap(True)
        self.notes_table = ErrorTable(self.note_model, "Files read with a note", self)
        self.open_button = QPushButton("Open", self)
        self.folder_button = QPushButton("Show in Folder", self)
        self.open_button.clicked.connect(lambda: self._act(desktop.open_file))
        self.folder_button.clicked.connect(lambda: self._act(desktop.show_in_folder))
        self._last_table: ErrorTable = self.errors_table
        for table in (self.errors_table, self.notes_table):
            table.selectionModel().selectionChanged.connect(
                lambda *_args, chosen=table: self._on_selected(chosen)
            )

        errors_page, notes_page = QWidget(self), QWidget(self)
        for page, label, table in ((errors_page, self.errors_label, self.errors_table),
                                   (notes_page, self.notes_label, self.notes_table)):
            page_layout = QVBoxLayout(page)
            page_layout.setContentsMargins(0, 4, 0, 0)
            page_layout.addWidget(label)
            page_layout.addWidget(table, 1)
        self.notes_page = notes_page
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(errors_page)
        self.splitter.addWidget(notes_page)
        self.splitter.setChildrenCollapsible(False)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.folder_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.splitter, 1)
        layout.addLayout(buttons)
        self.show_scan(ScanResult())

    def show_scan(self, result: ScanResult) -> None:
        """The scan's skips, and its notes on files still in it (a file trashed since, or
        in a folder removed from the list, has no record and loses its note)."""
        kept = {record.path for record in result.records}
        notes = [note for note in result.file_warnings if note.path in kept]
        self.error_model.set_errors(result.errors)
        self.note_model.set_errors(notes)
        skipped = len(result.errors)
        what = format_count(skipped, "file, folder or link", "files, folders or links")
        self.errors_label.setText(
            f"<b>Not scanned: {what}</b>" if skipped
            else "<b>Nothing was skipped.</b> Every file found was read."
        )
        self.errors_table.setVisible(bool(skipped))
        self.notes_label.setText(
            f"<b>Read, with a note: {format_count(len(notes), 'file')}</b> — in the groups as "
            "usual, but something in them is damaged; check them before you trust them"
        )
        self.notes_page.setVisible(bool(notes))
        self._update_buttons()

    def tab_title(self) -> str:
        """"Not scanned (3)", and " · Notes (1)" when files were read with a note."""
        title = f"{TAB_NAME} ({self.error_model.rowCount():,})"
        notes = self.note_model.rowCount()
        return f"{title} · Notes ({notes:,})" if notes else title

    def _on_selected(self, table: ErrorTable) -> None:
        if table.selected_path() is not None:
            self._last_table = table
            other = self.notes_table if table is self.errors_table else self.errors_table
            other.clearSelection()
        self._update_buttons()

    def _selected_path(self) -> str | None:
        return self._last_table.selected_path()

    def _act(self, action: Callable[[str], bool]) -> None:
        path = self._selected_path()
        if path is not None:
            action(path)

    def _update_buttons(self) -> None:
        chosen = self._selected_path() is not None
        self.open_button.setEnabled(chosen)
        self.folder_button.setEnabled(chosen)
