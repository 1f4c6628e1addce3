"""The keyboard-shortcut sheet (F1): made from the window's actions and shortcuts, so it
lists what the keys really do, plus the keys the group list and compare view handle."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMainWindow,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

REVIEW_KEYS: tuple[tuple[str, str], ...] = (
    ("↑ / ↓", "Previous / next group"),
    ("← / →", "Previous / next photo of the group"),
    ("Space", "Keep the current photo, or mark it for the trash"),
    ("Delete", "Move every photo marked TRASH to the trash"),
    ("Esc", "Cancel the scan, search or removal that is running"),
    ("F2", "Choose the role of the selected folder (in the folder list)"),
)


def action_text(action: QAction) -> str:
    """The menu text without its mnemonic ampersands and trailing ellipsis."""
    return action.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…")


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    """(keys, what they do) for every action and shortcut of `window` that has a key, in
    menu order where the action is in a menu, then the review keys."""
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for action in _actions_in_menu_order(window):
        # The first key only: the others are alternatives such as the Help key of old keyboards.
        text = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        if not text or not action.text():
            continue
        if text not in seen:
            seen.add(text)
            rows.append((text, action_text(action)))
    review_keys = {keys for keys, _what in REVIEW_KEYS}
    for shortcut in window.findChildren(QShortcut):
        text = shortcut.key().toString(QKeySequence.SequenceFormat.NativeText)
        if text and text not in seen and text not in review_keys and shortcut.whatsThis():
            seen.add(text)
            rows.append((text, shortcut.whatsThis()))
    rows.extend(row for row in REVIEW_KEYS if _native(row[0]) not in seen)
    return rows


def _native(keys: str) -> str:
    """How the menus spell a key ("Delete" is "Del" on Linux); other texts as they are."""
    sequence = QKeySequence(keys)
    if sequence.isEmpty() or sequence.count() != 1:
        return keys
    return sequence.toString(QKeySequence.SequenceFormat.NativeText)


def _actions_in_menu_order(window: QWidget) -> list[QAction]:
    ordered: list[QAction] = []
    if isinstance(window, QMainWindow):
        for top in window.menuBar().actions():
            submenu = top.menu()
            if isinstance(submenu, QMenu):
                ordered.extend(a for a in submenu.actions() if not a.isSeparator())
    known = set(ordered)
    ordered.extend(a for a in window.findChildren(QAction) if a not in known)
    return ordered


class ShortcutsDialog(QDialog):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard Shortcuts")
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setHorizontalHeaderLabels(["Keys", "What they do"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        for row, (keys, what) in enumerate(rows):
            key_item = QTableWidgetItem(keys)
            font = key_item.font()
            font.setBold(True)
            key_item.setFont(font)
            self.table.setItem(row, 0, key_item)
            self.table.setItem(row, 1, QTableWidgetItem(what))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(560, min(720, 90 + 30 * len(rows)))

    def rows(self) -> list[tuple[str, str]]:
        return [
            (self.table.item(row, 0).text(), self.table.item(row, 1).text())
            for row in range(self.table.rowCount())
        ]
