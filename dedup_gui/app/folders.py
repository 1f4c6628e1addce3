"""The folders to scan, each optionally marked as a reference (protected) folder."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dedup_gui.app.paths import display_path
from dedup_gui.app.settings import FolderEntry

PATH_COLUMN = 0
REFERENCE_COLUMN = 1
REFERENCE_COLOUR = QColor(9, 105, 218)


class FolderPanel(QWidget):
    """Add / remove folders (Delete removes the selected ones); the "Protected" checkbox marks
    a reference folder, whose files are never suggested for removal."""

    folders_changed = Signal()
    add_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tree = QTreeWidget(self)
        self._tree.setHeaderLabels(["Folders to scan", "Protected"])
        self._tree.setRootIsDecorated(False)
        self._tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self._tree.setAccessibleName("Folders to scan")
        header = self._tree.header()
        header.setSectionResizeMode(PATH_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(REFERENCE_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self._tree.itemChanged.connect(self._on_item_changed)
        self._tree.itemSelectionChanged.connect(self._update_buttons)
        self._tree.installEventFilter(self)

        self.add_button = QPushButton("Add Folder…", self)
        self.add_button.setToolTip("Add a folder to scan (Ctrl+O)")
        self.add_button.clicked.connect(self.add_requested)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)

        hint = QLabel(
            "Tick <b>Protected</b> for a reference folder: its photos are always kept.", self
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(placeholder-text);")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._tree, 1)
        layout.addWidget(hint)
        layout.addLayout(buttons)
        self._update_buttons()

    def entries(self) -> list[FolderEntry]:
        return [
            FolderEntry(_path_of(item), self._is_reference(item)) for item in self._items()
        ]

    def paths(self) -> list[str]:
        return [entry.path for entry in self.entries()]

    def reference_folders(self) -> list[str]:
        return [entry.path for entry in self.entries() if entry.reference]

    def set_entries(self, entries: list[FolderEntry]) -> None:
        self._tree.clear()
        for entry in entries:
            self._append(entry)
        self._update_buttons()
        self.folders_changed.emit()

    def add_folder(self, path: str, *, reference: bool = False) -> bool:
        """Adds `path` unless it (or a folder containing it) is already listed."""
        return bool(self.add_folders([path], reference=reference))

    def add_folders(self, paths: list[str], *, reference: bool = False) -> list[str]:
        """Adds each path unless it (or a folder containing it) is already listed, with one
        `folders_changed` for all: a drop of a thousand photos must not redo the work a
        thousand times. Returns the paths added."""
        listed = set(self.paths())
        added = []
        for path in paths:
            # abspath, not resolve(): the scanner reports paths as the user spelled them.
            resolved = os.path.abspath(Path(path).expanduser())  # noqa: PTH100
            if any(str(folder) in listed for folder in (Path(resolved), *Path(resolved).parents)):
                continue
            self._append(FolderEntry(resolved, reference))
            listed.add(resolved)
            added.append(resolved)
        if added:
            self._update_buttons()
            self.folders_changed.emit()
        return added

    def set_reference(self, path: str, reference: bool) -> None:
        for item in self._items():
            if _path_of(item) == path:
                item.setCheckState(
                    REFERENCE_COLUMN,
                    Qt.CheckState.Checked if reference else Qt.CheckState.Unchecked,
                )

    def remove_folder(self, path: str) -> None:
        for item in self._items():
            if _path_of(item) == path:
                self._tree.takeTopLevelItem(self._tree.indexOfTopLevelItem(item))
                self._update_buttons()
                self.folders_changed.emit()

    def remove_selected(self) -> None:
        selected = self._tree.selectedItems()
        for item in selected:
            self._tree.takeTopLevelItem(self._tree.indexOfTopLevelItem(item))
        if selected:
            self._update_buttons()
            self.folders_changed.emit()

    def _append(self, entry: FolderEntry) -> None:
        shown = display_path(entry.path)
        item = QTreeWidgetItem([shown, ""])
        # As bytes: a Qt string would lose the name of a folder that is not UTF-8.
        item.setData(PATH_COLUMN, Qt.ItemDataRole.UserRole, QByteArray(os.fsencode(entry.path)))
        item.setToolTip(PATH_COLUMN, shown)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        self._tree.blockSignals(True)
        item.setCheckState(
            REFERENCE_COLUMN, Qt.CheckState.Checked if entry.reference else Qt.CheckState.Unchecked
        )
        self._tree.addTopLevelItem(item)
        self._style(item)
        self._tree.blockSignals(False)

    def _style(self, item: QTreeWidgetItem) -> None:
        reference = self._is_reference(item)
        font = QFont(self._tree.font())
        font.setBold(reference)
        item.setFont(PATH_COLUMN, font)
        item.setText(REFERENCE_COLUMN, "Protected" if reference else "")
        item.setForeground(
            PATH_COLUMN, REFERENCE_COLOUR if reference else self.palette().text().color()
        )
        item.setForeground(REFERENCE_COLUMN, REFERENCE_COLOUR)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Delete in the folder list removes the selected folders: claimed before the
        window's Delete shortcut (Move to Trash) can see it."""
        if (
            watched is self._tree
            and event.type() in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress)
            and isinstance(event, QKeyEvent)
            and event.matches(QKeySequence.StandardKey.Delete)
        ):
            if event.type() == QEvent.Type.KeyPress:
                self.remove_selected()
            event.accept()
            return True
        return super().eventFilter(watched, event)

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if column != REFERENCE_COLUMN:
            return
        self._tree.blockSignals(True)
        self._style(item)
        self._tree.blockSignals(False)
        self.folders_changed.emit()

    def _is_reference(self, item: QTreeWidgetItem) -> bool:
        return item.checkState(REFERENCE_COLUMN) == Qt.CheckState.Checked

    def _items(self) -> list[QTreeWidgetItem]:
        return [self._tree.topLevelItem(i) for i in range(self._tree.topLevelItemCount())]

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(bool(self._tree.selectedItems()))


def _path_of(item: QTreeWidgetItem) -> str:
    return os.fsdecode(bytes(item.data(PATH_COLUMN, Qt.ItemDataRole.UserRole)))
