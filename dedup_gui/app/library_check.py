""""Which of these folders are already in my library?": pick import folders (an SD card, a
download, a backup), compare them with the Protected folders of the list, and see per
folder how many photos are already there and which are new."""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dedup_gui.app import desktop, dialogs
from dedup_gui.app.formatting import format_count
from dedup_gui.app.job_threads import JobOwner
from dedup_gui.app.library_jobs import LibraryCheckJob
from dedup_gui.app.library_scope import LibraryScope
from dedup_gui.app.paths import display_path, local_path
from dedup_gui.app.progress_panel import ProgressPanel, describe_progress
from dedup_gui.app.thumbnails import ThumbnailProvider
from dedup_gui.core.library import FolderReport, NewVsLibraryResult
from dedup_gui.core.models import ImageRecord, ScanProgress

CHECK_TITLE = "Check Folders Against My Library"
NO_LIBRARY_TEXT = (
    "First mark your library's folders Protected in the main window's folder list (the role "
    "box beside each folder): these folders are compared with them."
)
FOLDER_COLUMN, IMAGES_COLUMN, PRESENT_COLUMN, NEW_COLUMN = range(4)
PATH_ROLE = Qt.ItemDataRole.UserRole + 1
ICON_SIDE = 112


class NumberItem(QTableWidgetItem):
    """A count that sorts as a number."""

    def __init__(self, value: int) -> None:
        super().__init__(f"{value:,}")
        self.value = value
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        if isinstance(other, NumberItem):
            return self.value < other.value
        return super().__lt__(other)


def summary_text(result: NewVsLibraryResult) -> str:
    images = sum(report.image_count for report in result.folders)
    present = sum(len(report.present) for report in result.folders)
    new = images - present
    text = (
        f"{format_count(len(result.folders), 'folder')} with "
        f"{format_count(images, 'image')}: <b>{present:,} already in your library</b>, "
        f"<b>{new:,} new</b>."
    )
    errors = len(result.new_scan.errors)
    if errors:
        text += f" {format_count(errors, 'file')} could not be read."
    if result.cancelled:
        text = "Check cancelled: nothing to show. " + (text if result.folders else "")
    return text


class LibraryCheckDialog(QDialog):
    """Non-modal; one check at a time."""

    add_to_scan_requested = Signal(list)
    """list[str]: the picked folders, to add to the main window's list and scan."""

    def __init__(
        self,
        thumbnails: ThumbnailProvider,
        scope: Callable[[], LibraryScope],
        search_settings: Callable[[], tuple[float, bool, bool]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(CHECK_TITLE)
        self.setAcceptDrops(True)
        self.resize(1100, 760)
        self._thumbnails = thumbnails
        self._scope = scope
        self._search_settings = search_settings
        self._jobs = JobOwner(self)
        self._reports: dict[str, FolderReport] = {}
        thumbnails.ready.connect(self._on_thumbnail_ready)

        intro = QLabel(
            "Pick the folders you are about to import (a memory card, a download, a backup); "
            "each folder in them is compared with your library.", self,
        )
        intro.setWordWrap(True)
        self.scope_label = QLabel(self)
        self.scope_label.setWordWrap(True)

        self.folder_list = QListWidget(self)
        self.folder_list.setAccessibleName("Folders to check")
        self.folder_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.folder_list.setMaximumHeight(96)
        self.folder_list.itemSelectionChanged.connect(self._update_buttons)
        self.add_button = QPushButton("Add Folder…", self)
        self.add_button.clicked.connect(self._choose_folder)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.clicked.connect(self._remove_selected)
        self.check_button = QPushButton("Check Against My Library", self)
        self.check_button.setDefault(True)
        self.check_button.clicked.connect(self.start_check)
        folder_buttons = QVBoxLayout()
        folder_buttons.addWidget(self.add_button)
        folder_buttons.addWidget(self.remove_button)
        folder_buttons.addStretch(1)
        folder_buttons.addWidget(self.check_button)
        folders_row = QHBoxLayout()
        folders_row.addWidget(self.folder_list, 1)
        folders_row.addLayout(folder_buttons)

        self.progress_panel = ProgressPanel(self)
        self.progress_panel.cancel_requested.connect(self._jobs.cancel)
        self.progress_panel.hide()
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)

        self.table = QTableWidget(0, 4, self)
        self.table.setHorizontalHeaderLabels(
            ["Folder", "Images", "Already in the library", "New"]
        )
        self.table.setAccessibleName("Folders checked against your library")
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSortingEnabled(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(FOLDER_COLUMN, QHeaderView.ResizeMode.Stretch)
        for column in (IMAGES_COLUMN, PRESENT_COLUMN, NEW_COLUMN):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._show_selected_folder)

        self.new_title = QLabel("Select a folder to see its new photos.", self)
        self.new_title.setWordWrap(True)
        self.new_photos = QListWidget(self)
        self.new_photos.setAccessibleName("New photos of the selected folder")
        self.new_photos.setViewMode(QListView.ViewMode.IconMode)
        self.new_photos.setIconSize(QSize(ICON_SIDE, ICON_SIDE))
        self.new_photos.setGridSize(QSize(ICON_SIDE + 24, ICON_SIDE + 40))
        self.new_photos.setResizeMode(QListView.ResizeMode.Adjust)
        self.new_photos.setMovement(QListView.Movement.Static)
        self.new_photos.setWordWrap(True)
        self.new_photos.itemSelectionChanged.connect(self._update_buttons)
        self.new_photos.itemDoubleClicked.connect(lambda _item: self._open_photo())
        self.open_button = QPushButton("Open", self)
        self.open_button.clicked.connect(self._open_photo)
        self.show_button = QPushButton("Show in Folder", self)
        self.show_button.clicked.connect(self._show_photo)
        photo_buttons = QHBoxLayout()
        photo_buttons.addWidget(self.open_button)
        photo_buttons.addWidget(self.show_button)
        photo_buttons.addStretch(1)
        new_side = QWidget(self)
        new_layout = QVBoxLayout(new_side)
        new_layout.setContentsMargins(0, 0, 0, 0)
        new_layout.addWidget(self.new_title)
        new_layout.addWidget(self.new_photos, 1)
        new_layout.addLayout(photo_buttons)

        self.results = QSplitter(Qt.Orientation.Horizontal, self)
        self.results.addWidget(self.table)
        self.results.addWidget(new_side)
        self.results.setSizes([560, 520])

        self.scan_button = QPushButton("Add These Folders to the Scan", self)
        self.scan_button.setToolTip(
            "Add the picked folders to the main window's list and scan, to review their "
            "photos as duplicates"
        )
        self.scan_button.clicked.connect(self._add_to_scan)
        close_button = QPushButton("Close", self)
        close_button.clicked.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.scan_button)
        bottom.addWidget(close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.scope_label)
        layout.addLayout(folders_row)
        layout.addWidget(self.progress_panel)
        layout.addWidget(self.summary)
        layout.addWidget(self.results, 1)
        layout.addLayout(bottom)
        self.refresh_scope()

    # Folders to check
    def folders(self) -> list[str]:
        return [
            str(self.folder_list.item(row).data(PATH_ROLE))
            for row in range(self.folder_list.count())
        ]

    def add_folders(self, folders: list[str]) -> None:
        present = set(self.folders())
        for folder in folders:
            path = os.path.abspath(folder)  # noqa: PTH100 (the user's spelling)
            if path in present or not Path(path).is_dir():
                continue
            present.add(path)
            item = QListWidgetItem(display_path(path))
            item.setData(PATH_ROLE, path)
            item.setToolTip(display_path(path))
            self.folder_list.addItem(item)
        self._update_buttons()

    def refresh_scope(self) -> None:
        scope = self._scope()
        if scope.protected_only:
            self.scope_label.setText(scope.describe())
            self.scope_label.setStyleSheet("")
        else:
            self.scope_label.setText(NO_LIBRARY_TEXT)
            self.scope_label.setStyleSheet("color: #9a6700; font-weight: bold;")
        self._update_buttons()

    def _choose_folder(self) -> None:
        folder = dialogs.choose_folder(self, "Add a folder to check against your library")
        if folder:
            self.add_folders([folder])

    def _remove_selected(self) -> None:
        for item in self.folder_list.selectedItems():
            self.folder_list.takeItem(self.folder_list.row(item))
        self._update_buttons()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        folders = [
            local_path(url) for url in event.mimeData().urls()
            if url.isLocalFile() and Path(local_path(url)).is_dir()
        ]
        if folders:
            event.acceptProposedAction()
            self.add_folders(folders)

    # Checking
    def start_check(self) -> None:
        scope = self._scope()
        folders = self.folders()
        if self._jobs.busy() or not folders:
            return
        if not scope.protected_only:
            self.refresh_scope()
            return
        similarity, transforms, follow_links = self._search_settings()
        job = LibraryCheckJob(
            folders, scope.roots, similarity=similarity, match_transforms=transforms,
            options=scope.options(follow_links),
        )
        job.progress.connect(self._on_progress)
        job.finished.connect(self._on_finished)
        job.failed.connect(self._on_failed)
        self.summary.setText("")
        self.progress_panel.start("Scanning your library…")
        self._jobs.start(job, [job.finished, job.failed])
        self._update_buttons()

    def cancel(self) -> None:
        self._jobs.cancel()

    def is_busy(self) -> bool:
        return self._jobs.busy()

    def shut_down(self) -> None:
        self._jobs.shut_down()

    def closeEvent(self, event: object) -> None:  # type: ignore[override]
        self._jobs.cancel()
        super().closeEvent(event)  # type: ignore[arg-type]

    def keyPressEvent(self, event: object) -> None:  # type: ignore[override]
        # Esc cancels a running check instead of closing the dialog under it.
        if self._jobs.busy() and getattr(event, "key", lambda: None)() == Qt.Key.Key_Escape:
            self.progress_panel.cancel_button.click()
            return
        super().keyPressEvent(event)  # type: ignore[arg-type]

    def _on_progress(self, label: str, progress: ScanProgress) -> None:
        self.progress_panel.show_scan_progress(progress)
        what = "your library" if label == "library" else "the folders to check"
        self.progress_panel.label.setText(f"Scanning {what} · {describe_progress(progress)}")

    def _on_finished(self, result: NewVsLibraryResult) -> None:
        self._jobs.done()
        self.progress_panel.hide()
        self.summary.setText(summary_text(result))
        self.show_reports([] if result.cancelled else result.folders)
        self._update_buttons()

    def _on_failed(self, message: str) -> None:
        self._jobs.done()
        self.progress_panel.hide()
        self.summary.setText(f"The check failed: {html.escape(message)}")
        self._update_buttons()

    # Results
    def show_reports(self, reports: list[FolderReport]) -> None:
        self._reports = {report.folder: report for report in reports}
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(reports))
        for row, report in enumerate(reports):
            folder = QTableWidgetItem(self._short_name(report.folder))
            folder.setData(PATH_ROLE, report.folder)
            folder.setToolTip(display_path(report.folder))
            self.table.setItem(row, FOLDER_COLUMN, folder)
            self.table.setItem(row, IMAGES_COLUMN, NumberItem(report.image_count))
            self.table.setItem(row, PRESENT_COLUMN, NumberItem(len(report.present)))
            self.table.setItem(row, NEW_COLUMN, NumberItem(len(report.new)))
        self.table.setSortingEnabled(True)
        self.table.sortItems(FOLDER_COLUMN, Qt.SortOrder.AscendingOrder)
        self.new_photos.clear()
        self.new_title.setText("Select a folder to see its new photos." if reports else "")
        if reports:
            self.table.selectRow(0)

    def _short_name(self, folder: str) -> str:
        """The folder from the picked folder that holds it ("SD card/DCIM/100CANON"), so
        the part that tells folders apart is the part shown."""
        for picked in self.folders():
            parent = Path(picked).parent
            if Path(folder).is_relative_to(picked):
                return display_path(str(Path(folder).relative_to(parent)))
        return display_path(folder)

    def rows(self) -> list[tuple[str, int, int, int]]:
        """(folder, images, already in the library, new) as the table shows them."""
        shown = []
        for row in range(self.table.rowCount()):
            folder = self.table.item(row, FOLDER_COLUMN)
            counts = [self.table.item(row, column) for column in range(1, 4)]
            shown.append((
                str(folder.data(PATH_ROLE)),
                *(item.value for item in counts if isinstance(item, NumberItem)),
            ))
        return shown  # type: ignore[return-value]

    def select_folder(self, folder: str) -> None:
        for row in range(self.table.rowCount()):
            if self.table.item(row, FOLDER_COLUMN).data(PATH_ROLE) == folder:
                self.table.selectRow(row)
                return

    def _show_selected_folder(self) -> None:
        self.new_photos.clear()
        rows = {index.row() for index in self.table.selectedIndexes()}
        if not rows:
            return
        folder = str(self.table.item(min(rows), FOLDER_COLUMN).data(PATH_ROLE))
        report = self._reports.get(folder)
        if report is None:
            return
        name = html.escape(display_path(Path(folder).name or folder))
        if not report.new:
            self.new_title.setText(f"Every photo in <b>{name}</b> is already in your library.")
        else:
            self.new_title.setText(
                f"<b>{format_count(len(report.new), 'new photo')}</b> in <b>{name}</b>"
                " (not in your library):"
            )
        for record in report.new:
            item = QListWidgetItem(display_path(Path(record.path).name))
            item.setData(PATH_ROLE, record.path)
            item.setToolTip(display_path(record.path))
            self._set_icon(item, record)
            self.new_photos.addItem(item)
        if report.new:
            self.new_photos.setCurrentRow(0)
        self._update_buttons()

    def new_photo_paths(self) -> list[str]:
        return [
            str(self.new_photos.item(row).data(PATH_ROLE))
            for row in range(self.new_photos.count())
        ]

    def _records_shown(self) -> dict[str, ImageRecord]:
        rows = {index.row() for index in self.table.selectedIndexes()}
        if not rows:
            return {}
        report = self._reports.get(str(self.table.item(min(rows), FOLDER_COLUMN).data(PATH_ROLE)))
        return {record.path: record for record in report.new} if report else {}

    def _set_icon(self, item: QListWidgetItem, record: ImageRecord) -> None:
        pixmap = self._thumbnails.pixmap(record)  # asks for it when not loaded yet
        if pixmap is not None:
            item.setIcon(QIcon(pixmap))

    def _on_thumbnail_ready(self, path: str) -> None:
        records = self._records_shown()
        record = records.get(path)
        if record is None:
            return
        for row in range(self.new_photos.count()):
            item = self.new_photos.item(row)
            if item.data(PATH_ROLE) == path:
                self._set_icon(item, record)

    def _current_photo(self) -> str | None:
        item = self.new_photos.currentItem()
        return str(item.data(PATH_ROLE)) if item is not None else None

    def _open_photo(self) -> None:
        path = self._current_photo()
        if path and not desktop.open_file(path):
            self.new_title.setText(html.escape(desktop.no_viewer_text(path)))

    def _show_photo(self) -> None:
        path = self._current_photo()
        if path:
            desktop.show_in_folder(path)

    def _add_to_scan(self) -> None:
        folders = self.folders()
        if folders:
            self.add_to_scan_requested.emit(folders)

    def _update_buttons(self) -> None:
        busy = self._jobs.busy()
        self.remove_button.setEnabled(bool(self.folder_list.selectedItems()) and not busy)
        self.add_button.setEnabled(not busy)
        self.check_button.setEnabled(
            not busy and bool(self.folders()) and self._scope().protected_only
        )
        has_photo = self.new_photos.currentItem() is not None
        self.open_button.setEnabled(has_photo)
        self.show_button.setEnabled(has_photo)
        self.scan_button.setEnabled(bool(self.folders()) and not busy)
