"""Edit → Not Duplicates List…: the pairs the user said are different photos, with small
thumbnails of both; remove some or clear them all (the window then groups again)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dedup_gui.app import dialogs
from dedup_gui.app.decisions import Decisions
from dedup_gui.app.formatting import format_count
from dedup_gui.app.images import pil_to_qimage
from dedup_gui.app.paths import display_path
from dedup_gui.core.decisions.ignore_list import ContentId, IgnoredPair
from dedup_gui.core.images.thumbnails import load_thumbnail

ICON_SIDE = 64
NOT_FOUND = "not found"


@dataclass(frozen=True, slots=True)
class EntryView:
    entry: IgnoredPair
    found: tuple[bool, bool]
    """Whether a file of the recorded size is still at each stored path."""


def entry_views(entries: Sequence[IgnoredPair]) -> list[EntryView]:
    """Looks at the disk: call it on a worker."""
    return [
        EntryView(e, (_found(e.first_path, e.first), _found(e.second_path, e.second)))
        for e in entries
    ]


def _found(path: str, content: ContentId) -> bool:
    try:
        return Path(path).stat().st_size == content[0]
    except OSError:
        return False


class _Relay(QObject):
    thumbnail = Signal(object, QImage)


class _ThumbnailTask(QRunnable):
    def __init__(self, paths: Sequence[str], side: int, relay: _Relay) -> None:
        super().__init__()
        self._paths = list(paths)
        self._side = side
        self._relay = relay

    def run(self) -> None:
        for path in self._paths:
            try:
                image = pil_to_qimage(load_thumbnail(path, max_side=self._side))
            except Exception:  # unreadable: the row keeps its text only
                continue
            self._relay.thumbnail.emit(path, image)


class NotDuplicatesDialog(QDialog):
    changed = Signal()
    """Entries were removed: the groups should be made again."""

    def __init__(self, decisions: Decisions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Not Duplicates")
        self.resize(900, 480)
        self._decisions = decisions
        self._views: list[EntryView] = []
        self._relays: list[_Relay] = []
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        ratio = self.devicePixelRatioF()
        self._pixel_ratio = max(1.0, ratio)
        intro = QLabel(
            "Pairs you marked as different photos. They are never put in one group, even "
            "after they are moved or renamed. Remove a pair to let it be grouped again.",
            self,
        )
        intro.setWordWrap(True)
        self.table = QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(["Photo", "Not a duplicate of", "Marked"])
        self.table.setIconSize(QSize(ICON_SIDE, ICON_SIDE))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(ICON_SIDE + 10)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setAccessibleName("Pairs marked as not duplicates")
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.status = QLabel("Loading…", self)
        self.remove_button = QPushButton("Remove Selected", self)
        self.remove_button.setToolTip("These pairs may be grouped again")
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button = QPushButton("Clear All…", self)
        self.clear_button.clicked.connect(self.clear_all)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        buttons.addButton(self.remove_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.clear_button, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self._update_buttons()
        self.reload()

    # Loading
    def reload(self) -> None:
        self._run(lambda: entry_views(self._decisions.entries()), self._show)

    def _run(self, task: Callable[[], object], then: Callable[[object], None]) -> None:
        self._decisions.ask(task, then)

    def _show(self, views: object) -> None:
        assert isinstance(views, list)
        self._views = views
        self.table.setRowCount(len(views))
        wanted: list[str] = []
        for row, view in enumerate(views):
            entry = view.entry
            for column, (path, found) in enumerate(
                ((entry.first_path, view.found[0]), (entry.second_path, view.found[1]))
            ):
                self.table.setItem(row, column, self._file_item(path, found))
                if found:
                    wanted.append(path)
            marked = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.added_at))
            self.table.setItem(row, 2, QTableWidgetItem(marked))
        count = len(views)
        self.status.setText(
            format_count(count, "pair") if count else "No photos are marked as not duplicates."
        )
        self._update_buttons()
        self._load_thumbnails(list(dict.fromkeys(wanted)))

    def _file_item(self, path: str, found: bool) -> QTableWidgetItem:
        name = display_path(Path(path).name)
        folder = display_path(str(Path(path).parent))
        text = f"{name}\n{folder}" if found else f"{name} — {NOT_FOUND}\n{folder}"
        item = QTableWidgetItem(text)
        item.setToolTip(display_path(path))
        item.setData(Qt.ItemDataRole.UserRole, path)
        if not found:
            item.setForeground(self.palette().placeholderText())
        return item

    def _load_thumbnails(self, paths: list[str]) -> None:
        self._pool.clear()
        if not paths:
            return
        relay = _Relay()
        relay.thumbnail.connect(self._on_thumbnail)
        self._relays.append(relay)
        side = round(ICON_SIDE * self._pixel_ratio)
        self._pool.start(_ThumbnailTask(paths, side, relay))

    def _on_thumbnail(self, path: object, image: QImage) -> None:
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(self._pixel_ratio)
        icon = QIcon(pixmap)
        for row in range(self.table.rowCount()):
            for column in (0, 1):
                item = self.table.item(row, column)
                if item is not None and item.data(Qt.ItemDataRole.UserRole) == path:
                    item.setIcon(icon)

    def has_thumbnail(self, row: int, column: int) -> bool:
        item = self.table.item(row, column)
        return item is not None and not item.icon().isNull()

    def wait_idle(self, msecs: int = 5000) -> bool:
        return self._pool.waitForDone(msecs)

    # Changes
    def selected_rows(self) -> list[int]:
        return sorted({index.row() for index in self.table.selectionModel().selectedRows()})

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(bool(self.selected_rows()))
        self.clear_button.setEnabled(bool(self._views))

    def remove_selected(self) -> None:
        pairs = [
            (self._views[row].entry.first, self._views[row].entry.second)
            for row in self.selected_rows()
        ]
        if pairs:
            self._change(lambda: self._decisions.remove_pairs(pairs))

    def clear_all(self) -> None:
        if not self._views or not dialogs.confirm(
            self, "Clear the list?",
            f"Forget all {format_count(len(self._views), 'pair')} marked as not duplicates?"
            "\n\nThey may be grouped again the next time the groups are made.",
            accept_label="Clear All",
        ):
            return
        self._change(self._decisions.clear_ignored)

    def _change(self, change: Callable[[], object]) -> None:
        self.remove_button.setEnabled(False)
        self.clear_button.setEnabled(False)

        def task() -> list[EntryView]:
            change()
            return entry_views(self._decisions.entries())

        self._run(task, self._after_change)

    def _after_change(self, views: object) -> None:
        self._show(views)
        self.changed.emit()

    def done(self, result: int) -> None:
        self._pool.clear()
        self._pool.waitForDone(2000)
        super().done(result)
