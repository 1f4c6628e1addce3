"""The main window: folders on the left, groups and the compare view on the right."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from PySide6.QtCore import QObject, QPoint, QSize, Qt, QThread, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QSlider,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from dedup_gui import APP_NAME
from dedup_gui.app import desktop, dialogs
from dedup_gui.app.compare import CompareView
from dedup_gui.app.decisions_ui import DecisionsUi
from dedup_gui.app.deep_option import DeepOption
from dedup_gui.app.empty_state import DROP_TITLE, EmptyState
from dedup_gui.app.errors_view import ErrorsView
from dedup_gui.app.file_jobs import ExportJob, MoveJob, TrashJob
from dedup_gui.app.folders import ROLE_NAMES, FolderPanel
from dedup_gui.app.formatting import format_bytes, format_count
from dedup_gui.app.group_model import COLUMNS_IN_BACKGROUND, GroupListModel
from dedup_gui.app.group_view import ROW_HEIGHT, THUMB_SIDE, GroupListView
from dedup_gui.app.job_threads import start_in_thread
from dedup_gui.app.keeper_choice import KeeperChoice
from dedup_gui.app.library_tools import LibraryTools
from dedup_gui.app.menus import install_menus
from dedup_gui.app.move_flow import TITLE as MOVE_TITLE
from dedup_gui.app.move_flow import (
    confirmed_move_plan,
    move_details,
    move_summary,
    target_problem,
)
from dedup_gui.app.paths import display_path, local_path
from dedup_gui.app.progress_panel import ProgressPanel
from dedup_gui.app.raw_pair_choice import RawPairChoice
from dedup_gui.app.review_jobs import ApartJob, ApplyRulesJob
from dedup_gui.app.review_pane import ReviewPane
from dedup_gui.app.rule_chain_dialog import RuleChainDialog
from dedup_gui.app.scan_jobs import RegroupJob, ScanJob
from dedup_gui.app.selection_menu import SelectionActions
from dedup_gui.app.settings import AppSettings
from dedup_gui.app.thumbnails import ThumbnailProvider
from dedup_gui.app.trash_flow import (
    confirmed_removal_plan,
    show_trash_report,
)
from dedup_gui.core.decisions.review_data import ReviewData
from dedup_gui.core.files.folder_roles import FolderRole, newly_scanned
from dedup_gui.core.files.imagetypes import has_image_extension
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.similarity import DEFAULT_SIMILARITY, MIN_SIMILARITY
from dedup_gui.core.models import DuplicateGroup, ScanProgress, ScanResult
from dedup_gui.core.scanning.scanner import ScanOptions
from dedup_gui.core.trash.actions import TrashProgress, TrashReport
from dedup_gui.core.trash.move_to_folder import MoveReport

REJECTED_NAMES_SHOWN = 10
"""Refused paths listed by name after a drop; the rest are counted, so dropping hundreds of
non-images never makes a message taller than the screen."""
REGROUP_DELAY_MS = 150
"""Slider debounce: regroup once the handle rests, not on every pixel it moves."""

EMPTY_PAGE, RESULTS_PAGE = 0, 1


def not_added_text(rejected: list[str]) -> str:
    lines = rejected[:REJECTED_NAMES_SHOWN]
    if len(rejected) > len(lines):
        lines.append(f"and {len(rejected) - len(lines):,} more")
    return "Only folders and image files can be added. Not added:\n" + "\n".join(lines)


class MainWindow(QMainWindow):
    """Every signal from a worker is connected to a method of this window (never a lambda),
    so Qt queues the call to the GUI thread."""

    def __init__(self, settings: AppSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self.settings = settings or AppSettings()
        self.scan_on_add = True

        self._result: ScanResult | None = None
        self._index: SimilarityIndex | None = None
        self._job: QObject | None = None
        self._checking_snapshot = False
        """The groups shown are a snapshot's and the running scan checks them."""
        self._thread: QThread | None = None
        self._running_jobs: dict[QThread, QObject] = {}
        # At most one regroup job: it alone uses the index (whose caches are not
        # thread-safe) until it reports; requests made meanwhile run after it.
        self._regroup_job: RegroupJob | None = None
        self._regroup_requests = 0
        self._regroup_again = False
        # Reports queued before the window closed still arrive afterwards; they must not
        # start new work, whose thread would die with the window.
        self._closed = False

        screen = QGuiApplication.primaryScreen()
        self.thumbnails = ThumbnailProvider(
            self, max_side=THUMB_SIDE, pixel_ratio=screen.devicePixelRatio() if screen else 1.0
        )
        self.group_model = GroupListModel(self)
        self._build_widgets()
        self._build_actions()
        self.menu_actions = install_menus(self, self.library_tools)
        self.decisions_ui = DecisionsUi(self)  # adds to the Edit menu install_menus made
        self.selection_actions = SelectionActions(self)  # the Select menu, before View
        desktop.problems.reported.connect(self._show_desktop_problem)
        self._regroup_timer = QTimer(self)
        self._regroup_timer.setSingleShot(True)
        self._regroup_timer.setInterval(REGROUP_DELAY_MS)
        self._regroup_timer.timeout.connect(self.regroup)
        self._restore_settings()
        self._update_state()

    # Layout
    def _build_widgets(self) -> None:
        self.folder_panel = FolderPanel(self)
        self.folder_panel.add_requested.connect(self.add_folder_from_dialog)
        self.folder_panel.folders_changed.connect(self._on_folders_changed)
        self.folder_panel.add_subfolder_requested.connect(self.add_subfolder_from_dialog)
        self.folder_panel.scope_widened.connect(self._scan_what_is_new)

        self.follow_links_box = QCheckBox("Follow links that lead outside the chosen folders", self)
        self.follow_links_box.setToolTip(
            "Off: a folder or file link pointing outside the folders above is not scanned and "
            "is listed on the Not scanned tab instead"
        )
        self.follow_links_box.toggled.connect(self.settings.set_follow_links)

        self.scan_button = QPushButton("Scan for Duplicates", self)
        self.scan_button.setMinimumHeight(36)
        self.scan_button.setStyleSheet("font-weight: bold;")
        self.scan_button.clicked.connect(self.start_scan)

        self.similarity_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.similarity_slider.setRange(round(MIN_SIMILARITY), 100)
        self.similarity_slider.setValue(round(DEFAULT_SIMILARITY))
        self.similarity_slider.setPageStep(2)
        self.similarity_slider.setAccessibleName("Similarity threshold")
        self.similarity_label = QLabel(self)
        self.similarity_slider.valueChanged.connect(self._on_slider_moved)
        ends = QLabel("<small>looser ◀ ─────── ▶ stricter</small>", self)
        ends.setAlignment(Qt.AlignmentFlag.AlignCenter)
        similarity_box = QGroupBox("Similarity", self)
        similarity_layout = QVBoxLayout(similarity_box)
        similarity_layout.addWidget(self.similarity_label)
        similarity_layout.addWidget(self.similarity_slider)
        similarity_layout.addWidget(ends)
        self.transforms_box = QCheckBox("Also match rotated and mirrored copies", self)
        self.transforms_box.setToolTip(
            "Compare every image in all 8 orientations too (slower to group)"
        )
        self.transforms_box.toggled.connect(self._on_transforms_toggled)
        similarity_layout.addWidget(self.transforms_box)
        self.deep_option = DeepOption(self, self.settings.store)
        self.deep_option.toggled.connect(self._on_deep_toggled)
        self.deep_option.model_changed.connect(self._on_deep_model_changed)
        similarity_layout.addWidget(self.deep_option)

        sidebar = QWidget(self)
        sidebar_layout = QVBoxLayout(sidebar)
        sidebar_layout.setContentsMargins(8, 8, 4, 8)
        sidebar_layout.addWidget(self.folder_panel, 1)
        sidebar_layout.addWidget(self.follow_links_box)
        sidebar_layout.addWidget(self.scan_button)
        sidebar_layout.addWidget(similarity_box)
        self.keeper_choice = KeeperChoice(self)
        self.keeper_choice.changed.connect(self._on_keeper_choice_changed)
        self.keeper_choice.chain_requested.connect(self.open_rule_chain)
        self.rule_chain_dialog: RuleChainDialog | None = None
        self._apply_job: ApplyRulesJob | None = None
        self._apply_where = ""
        self._apply_suggestion: tuple[tuple, bool] = ((), False)
        sidebar_layout.addWidget(self.keeper_choice)
        self.raw_pair_choice = RawPairChoice(self.settings, self.keeper_choice)
        self.raw_pair_choice.changed.connect(self.regroup)
        self.keeper_choice.layout().addWidget(self.raw_pair_choice)
        self.library_tools = LibraryTools(self)
        sidebar_layout.addWidget(self.library_tools.find_target)

        self.empty_state = EmptyState(self)
        self.group_view = GroupListView(self.thumbnails, self)
        self.group_view.setModel(self.group_model)
        self.keeper_choice.return_focus_to(self.group_view)
        self.group_view.current_changed.connect(self._on_current_changed)
        self.group_view.toggle_requested.connect(self.toggle_keep)
        self.group_view.trash_requested.connect(self.move_to_trash)
        self.group_view.context_menu_requested.connect(self._show_image_menu)
        self.group_model.keep_changed.connect(self._update_status)

        self.compare_view = CompareView(self.thumbnails, self)
        self.compare_view.toggle_requested.connect(self.toggle_keep)
        self.compare_view.navigate_requested.connect(self._navigate_members)

        self.review_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.review_pane = ReviewPane(self.group_view, self.group_model, self)
        self.review_pane.toggle_requested.connect(self.toggle_keep)
        self.review_splitter.addWidget(self.review_pane)
        self.review_splitter.addWidget(self.compare_view)
        self.review_splitter.setSizes([ROW_HEIGHT * 3 // 2, 600])

        self.errors_view = ErrorsView(self)
        self.tabs = QTabWidget(self)
        self.no_groups = EmptyState(self)
        self.duplicates_page = QStackedWidget(self)
        self.duplicates_page.addWidget(self.review_splitter)
        self.duplicates_page.addWidget(self.no_groups)
        self.tabs.addTab(self.duplicates_page, "Duplicates")
        self.tabs.addTab(self.errors_view, "Not scanned")

        self.pages = QStackedWidget(self)
        self.pages.addWidget(self.empty_state)
        self.pages.addWidget(self.tabs)

        self.main_splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.main_splitter.addWidget(sidebar)
        self.main_splitter.addWidget(self.pages)
        self.main_splitter.setStretchFactor(1, 1)
        self.main_splitter.setSizes([320, 1080])

        self.progress_panel = ProgressPanel(self)
        self.progress_panel.cancel_requested.connect(self.cancel_job)
        self.progress_panel.hide()

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.main_splitter, 1)
        layout.addWidget(self.progress_panel)
        self.setCentralWidget(central)

        self.status_label = QLabel(self)
        self.statusBar().addWidget(self.status_label, 1)

    def _build_actions(self) -> None:
        toolbar = QToolBar("Main", self)
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.setIconSize(QSize(16, 16))
        self.addToolBar(toolbar)

        def action(text: str, slot: object, shortcut: QKeySequence | str | None = None,
                   tip: str = "") -> QAction:
            act = QAction(text, self)
            act.triggered.connect(slot)
            if shortcut is not None:
                act.setShortcut(shortcut)
            act.setToolTip(tip or text)
            toolbar.addAction(act)
            return act

        self.add_action = action("Add Folder…", self.add_folder_from_dialog,
                                 QKeySequence.StandardKey.Open, "Add a folder to scan (Ctrl+O)")
        self.scan_action = action("Scan", self.start_scan, "F5", "Scan the folders (F5)")
        toolbar.addSeparator()
        self.trash_action = action("Move to Trash…", self.move_to_trash,
                                   QKeySequence.StandardKey.Delete,
                                   "Move every file marked TRASH to the system trash (Delete)")
        # Wherever the focus is in this window, not only in the group list. The app has no
        # text field; the folder list takes Delete first to remove the selected folders.
        self.trash_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.move_to_folder_action = action(
            "Move Marked Copies to Folder…", self.move_to_folder, None,
            "Move every file marked TRASH into a folder you choose, instead of the trash",
        )
        self.open_action = action("Open File", self.open_current_file, None,
                                  "Open the current image in its default viewer")
        self.show_folder_action = action("Show in Folder", self.show_current_in_folder, None,
                                         "Open the folder that contains the current image")
        toolbar.addSeparator()
        self.export_action = action("Export Results…", self.export_results, None,
                                    "Save the groups as CSV or JSON (same format as dedup-cli)")
        cancel = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        cancel.activated.connect(self.cancel_job)

    # Folders
    def add_folder_from_dialog(self) -> None:
        folder = dialogs.choose_folder(self)
        if folder:
            self.add_paths([folder])

    def add_subfolder_from_dialog(self, folder: str) -> None:
        """A subfolder of the listed `folder`, picked in a dialog that opens inside it, is
        listed under it; the keyboard goes to its role box."""
        subfolder = dialogs.choose_folder(self, "Add a subfolder with its own role", folder)
        if subfolder:
            self.add_paths([subfolder])
            self.folder_panel.focus_role(os.path.abspath(subfolder))  # noqa: PTH100

    def add_paths(self, paths: list[str]) -> None:
        """Folders and image files are added; anything else is refused with a message.
        What the last scan did not look at yet is scanned (with `scan_on_add`)."""
        accepted, rejected = [], []
        for path in paths:
            candidate = Path(path)
            if candidate.is_dir() or (candidate.is_file() and has_image_extension(candidate.name)):
                accepted.append(path)
            else:
                rejected.append(path)
        before = self.folder_panel.roles()
        added = self.folder_panel.add_folders(accepted)
        if rejected:
            # Every path stays available behind "Show Details…", which scrolls.
            details = "\n".join(rejected) if len(rejected) > REJECTED_NAMES_SHOWN else ""
            dialogs.warn(self, "Not added", not_added_text(rejected), details)
        if added and newly_scanned(before, self.folder_panel.roles()):
            self._scan_what_is_new()
        elif added:
            role = self.folder_panel.role_of(added[-1]) or FolderRole.NORMAL
            self.statusBar().showMessage(
                f"“{display_path(Path(added[-1]).name)}” is inside a listed folder: it is listed"
                f" under it, {ROLE_NAMES[role]} as there. Choose its own role beside it.", 10000
            )

    def _scan_what_is_new(self) -> None:
        """Folders were added, or an exclusion lifted: scan to include their photos."""
        if not self.scan_on_add:
            return
        if self._job is not None:
            self.statusBar().showMessage("Added. Scan again to include it.", 8000)
        else:
            self.start_scan()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
            self.empty_state.set_highlighted(True)
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.empty_state.set_highlighted(False)
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self.empty_state.set_highlighted(False)
        paths = [local_path(url) for url in event.mimeData().urls() if url.isLocalFile()]
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        # After the drop returns, so the file manager is not kept waiting on a message box.
        QTimer.singleShot(0, lambda: self.add_paths(paths))

    def _on_folders_changed(self) -> None:
        self.settings.set_folders(self.folder_panel.entries())
        if not self._drop_records_outside_folders():
            self._regroup_timer.start()  # a reference mark changed: only the keepers move
        self._update_state()

    def _drop_records_outside_folders(self) -> bool:
        """After a folder is removed, its images leave the results (regrouped in the
        background). Returns False when nothing had to go."""
        if self._result is None or self._job is not None:
            return False
        within = self._within_folders(self._result)
        if within is None:
            return False
        self._result = within
        self._regroup_records_in_background(within, shrink_from=self._index)
        return True

    def _within_folders(self, result: ScanResult) -> ScanResult | None:
        """`result` without the images and errors of folders no longer in the list, or None
        when it has none."""
        # An excluded subfolder is out of the list too; the deepest listed folder decides.
        roles = self.folder_panel.roles()
        records = [record for record in result.records if roles.is_scanned(record.path)]
        errors = [error for error in result.errors if roles.is_scanned(error.path)]
        if len(records) == len(result.records) and len(errors) == len(result.errors):
            return None
        return dataclasses.replace(result, records=records, errors=errors)

    # Scanning
    @property
    def scan_result(self) -> ScanResult | None:
        """The last scan (minus files trashed since), or None before the first one."""
        return self._result

    def is_busy(self) -> bool:
        """A scan, removal or export runs, or the groups are being recomputed."""
        return self._job is not None or self._regroup_job is not None

    def start_scan(self) -> None:
        roles = self.folder_panel.roles()
        roots = roles.scan_roots()
        if self._job is not None or not roots:
            self._update_state()
            return
        job = ScanJob(
            roots,
            options=ScanOptions(
                follow_links=self.follow_links_box.isChecked(),
                excluded_folders=tuple(roles.excluded_folders()),
            ),
            match_transforms=self.transforms_box.isChecked(),
            decisions=self.decisions_ui.decisions,
            deep=self.deep_option.enabled(),
            deep_model=self.deep_option.model_file(),
            use_snapshot=self._result is None,  # opening: the last grouping shows first
        )
        job.saved_loaded.connect(self.decisions_ui.on_saved_loaded)
        job.scan_progress.connect(self._on_scan_progress)
        job.grouping_started.connect(self._on_grouping_started)
        job.grouping_progress.connect(self._on_grouping_progress)
        job.finished.connect(self._on_scan_finished)
        job.failed.connect(self._on_job_failed)
        job.snapshot_loaded.connect(self._on_snapshot_loaded)
        job.checked_unchanged.connect(self._on_checked_unchanged)
        job.changed_since_snapshot.connect(
            lambda paths: self.group_model.marks.put_many((), paths)  # back to suggestions
        )
        self.progress_panel.start("Looking for images…")
        self._start_job(job, [job.finished, job.failed, job.checked_unchanged])

    def cancel_job(self) -> None:
        if self._job is not None:
            self._job.cancel()  # type: ignore[attr-defined]

    def _regroup_records_in_background(
        self, result: ScanResult, shrink_from: SimilarityIndex | None = None
    ) -> None:
        """Group `result`'s records again; those that are a subset of `shrink_from`'s (files
        trashed, a folder removed) reuse its verified pairs."""
        job = ScanJob(
            records=result.records,
            match_transforms=self.transforms_box.isChecked(),
            shrink_from=shrink_from,
            decisions=self.decisions_ui.decisions,
            deep=self.deep_option.enabled() and result.descriptors is not None,
            descriptors=result.descriptors,
        )
        job.grouping_started.connect(self._on_grouping_started)
        job.grouping_progress.connect(self._on_grouping_progress)
        job.finished.connect(self._on_regrouped)
        job.failed.connect(self._on_job_failed)
        self.progress_panel.start("Updating groups…")
        self._start_job(job, [job.finished, job.failed])

    def _start_job(self, job: QObject, done_signals: list) -> None:
        if self._closed:
            return
        self._job = job
        self._thread = self._start_thread(job, done_signals)
        self._update_state()

    def _start_thread(self, job: QObject, done_signals: list) -> QThread:
        thread = start_in_thread(job, self, done_signals)
        # The job's Python reference lives until its thread has stopped: dropping it when
        # the job reports (while run() may still be returning) would delete a QObject that
        # another thread is using.
        self._running_jobs[thread] = job
        thread.finished.connect(self._on_thread_finished)
        return thread

    def _on_thread_finished(self) -> None:
        thread = self.sender()
        if isinstance(thread, QThread):
            job = self._running_jobs.pop(thread, None)
            if job is not None:
                job.deleteLater()
            thread.deleteLater()

    def _end_job(self) -> None:
        self._job = None
        self._checking_snapshot = False
        self._thread = None
        self.progress_panel.hide()
        self._update_state()

    def _on_scan_progress(self, progress: ScanProgress) -> None:
        self.progress_panel.show_scan_progress(progress)
        if self._checking_snapshot:
            self.progress_panel.label.setText(
                f"Checking for changes…  {self.progress_panel.label.text()}"
            )
        if self._result is None:
            self.empty_state.show_hint("Scanning…", f"{progress.done:,} images so far")

    def _on_grouping_started(self, count: int) -> None:
        # start() re-enables Cancel: after a cancelled scan it must work for this step too.
        self.progress_panel.start(f"Comparing {format_count(count, 'image')}…")

    def _on_grouping_progress(self, done: int, total: int) -> None:
        self.progress_panel.show_count(done, total, "Comparing images…")

    def _on_scan_finished(self, result: ScanResult, index: SimilarityIndex | None) -> None:
        # An edited file has a new size or mtime, so a new cache key; one that could not be
        # shown before is tried again.
        self.thumbnails.retry_failed()
        within = self._within_folders(result)
        if within is not None:
            # A folder was removed during the scan: its images must not be offered for review.
            self._end_job()
            self._result = within
            self._regroup_records_in_background(within, shrink_from=index)
            return
        self._show_scan_result(result, index)

    def _on_snapshot_loaded(self, result: ScanResult, index: SimilarityIndex) -> None:
        """The last grouping of these folders, shown while the scan checks for changes."""
        self._result, self._index = result, index
        self._checking_snapshot = True
        self.errors_view.show_scan(result)
        self.tabs.setTabText(1, self.errors_view.tab_title())
        self.regroup()
        self.progress_panel.start("Checking for changes…")
        self.group_view.setFocus()

    def _on_checked_unchanged(self, result: ScanResult, index: SimilarityIndex) -> None:
        """Nothing changed since the grouping shown: it stands (with this scan's notes)."""
        self._end_job()
        self._result, self._index = result, index
        self.errors_view.show_scan(result)
        self.tabs.setTabText(1, self.errors_view.tab_title())
        if result.warnings:
            self.statusBar().showMessage("  ".join(result.warnings), 15000)

    def _show_scan_result(self, result: ScanResult, index: SimilarityIndex | None) -> None:
        self._end_job()
        self._result = result
        self._index = index
        self.errors_view.show_scan(result)
        self.tabs.setTabText(1, self.errors_view.tab_title())
        self.regroup()
        notes = list(result.warnings)
        if result.cancelled:
            notes.append(
                f"Scan cancelled: showing the {len(result.records):,} images hashed so far."
            )
        if index is None:
            notes.append("Comparing was cancelled. Scan again to see the groups.")
        if notes:
            self.statusBar().showMessage("  ".join(notes), 15000)
        self.group_view.setFocus()

    def _on_regrouped(self, _records_only: ScanResult, index: SimilarityIndex | None) -> None:
        # The job only saw the records; keep the scan's errors and counts.
        assert self._result is not None
        self._show_scan_result(self._result, index)

    def _on_job_failed(self, message: str) -> None:
        self._end_job()
        dialogs.warn(self, "Something went wrong", message)

    # Grouping
    def similarity(self) -> int:
        return self.similarity_slider.value()

    def _on_slider_moved(self, value: int) -> None:
        self.similarity_label.setText(f"Group images at least <b>{value}%</b> similar")
        self.settings.set_similarity(value)
        self._regroup_timer.start()

    def _on_transforms_toggled(self, checked: bool) -> None:
        self.settings.set_match_transforms(checked)
        if self._result is not None and self._job is None:
            self._regroup_records_in_background(self._result)

    def _on_deep_toggled(self, checked: bool) -> None:
        """Deep matches need descriptors from a scan: scan again (the hashes are cached)."""
        if self._result is not None and self._job is None:
            if checked and self._result.descriptors is None:
                self.start_scan()
            else:
                self._regroup_records_in_background(self._result)

    def _on_deep_model_changed(self) -> None:
        """Another model's descriptors: scan again (the hashes, and its own, are cached)."""
        if self.deep_option.enabled() and self._result is not None and self._job is None:
            self.start_scan()

    def _on_keeper_choice_changed(self) -> None:
        self.settings.set_preferred_keeper(self.keeper_choice.preferred())
        self.settings.set_use_keeper_chain(self.keeper_choice.uses_chain())
        self.regroup()

    # Rule chain
    def open_rule_chain(self) -> None:
        if self.rule_chain_dialog is None:
            self.rule_chain_dialog = RuleChainDialog(self)
            self.rule_chain_dialog.apply_requested.connect(self._on_rule_chain_apply)
        dialog = self.rule_chain_dialog
        dialog.set_chain(self.keeper_choice.chain())
        dialog.use_as_suggestion.setChecked(self.keeper_choice.uses_chain())
        dialog.show()
        dialog.raise_()

    def _on_rule_chain_apply(self, all_groups: bool) -> None:
        """Keep what the dialog's chain chooses in all or the selected groups; the chain is
        remembered, and becomes the suggested keeper when the user asked for that."""
        assert self.rule_chain_dialog is not None
        chain = self.rule_chain_dialog.chain()
        use = self.rule_chain_dialog.use_as_suggestion.isChecked()
        self.settings.set_keeper_chain(chain)
        self.settings.set_use_keeper_chain(use)
        rows = None if all_groups else self.review_pane.selected_rows()
        if rows == []:
            self.statusBar().showMessage("Select the groups to apply the rules to first.", 5000)
            return
        if self._apply_job is None:
            positions = None if rows is None else [self.group_model.position(r) for r in rows]
            job = ApplyRulesJob(self.group_model.columns_source(), chain, positions)
            job.finished.connect(self._on_rules_applied)
            job.failed.connect(self._on_apply_failed)
            self._apply_job = job
            self._apply_where = "every group" if rows is None else format_count(len(rows), "group")
            self.statusBar().showMessage("Applying the rules…")
            self._start_thread(job, [job.finished, job.failed])
            self._apply_suggestion = (chain, use)

    def regroup(self) -> None:
        """Show the groups at the slider's similarity with the current reference folders.
        A new reference set needs a keeper ranking (a second at 100k images, with disk
        access), made by a RegroupJob; a cached one is cut here at once."""
        self._regroup_timer.stop()
        if self._closed:
            return
        if self._regroup_job is not None:
            self._regroup_again = True
            return
        if self._index is None:
            self._show_groups([])
            return
        references = tuple(self.folder_panel.reference_folders())
        rules = self.keeper_choice.rules()
        pairs = self.raw_pair_choice.policy()
        if self._index.has_keeper_context(references, rules, pairs) and not (
            self.group_model.order_needs_columns()
            and len(self._index.records) > COLUMNS_IN_BACKGROUND
        ):  # cut here at once; a sorted view of many files waits for the job's columns
            self._show_groups(
                self._index.groups(
                    self.similarity(), reference_folders=references, keeper_rules=rules,
                    raw_jpeg_policy=pairs,
                )
            )
            return
        self._regroup_requests += 1
        job = RegroupJob(
            self._regroup_requests, self._index, self.similarity(), references, rules, pairs,
            needs_columns=self.group_model.order_needs_columns(),
        )
        job.finished.connect(self._on_regroup_finished)
        job.failed.connect(self._on_regroup_failed)
        self._regroup_job = job
        self._start_thread(job, [job.finished, job.failed])
        self._update_state()

    def _on_regroup_finished(self, request: int, groups: ReviewData) -> None:
        if self._end_regroup(request):
            self._show_groups(groups)

    def _on_regroup_failed(self, request: int, message: str) -> None:
        if self._end_regroup(request):
            self._update_state()
            dialogs.warn(self, "Something went wrong", message)

    def _end_regroup(self, request: int) -> bool:
        """Whether the job's result is still wanted; if a newer request came meanwhile,
        it runs now instead."""
        if self._regroup_job is None or request != self._regroup_job.request:
            return False  # the window was closed meanwhile
        self._regroup_job = None
        if self._regroup_again:
            self._regroup_again = False
            self.regroup()
            return False
        return True

    def _show_groups(self, groups: list[DuplicateGroup] | ReviewData) -> None:
        """Replace the groups, keeping the current group (found by its keeper) selected."""
        current = self.group_view.current_row()
        keeper = self.group_model.group(current).keeper.record.path if current >= 0 else None
        self.group_model.set_groups(groups)
        self.decisions_ui.groups_shown()
        row = self.group_model.row_of_keeper(keeper) if keeper else None
        if row is not None:
            self.group_view.set_current(row)
        if self.group_model.rowCount() and self.group_view.current_row() < 0:
            self.group_view.set_current(0)
        self._update_state()
        if self._checking_snapshot and self._job is not None:  # once painted, check them
            job = self._job  # called here: the job's own thread is busy waiting for this
            QTimer.singleShot(100, lambda: job.resume_check())  # type: ignore[attr-defined]

    # Review
    def toggle_keep(self, row: int, member_index: int) -> None:
        if not self.group_model.toggle_kept(row, member_index):
            self.statusBar().showMessage(
                "This file is in a protected (reference) folder and is always kept.", 5000
            )
        self.compare_view.refresh_marks()

    def _show_image_menu(self, row: int, member_index: int, position: QPoint) -> None:
        member = self.group_model.group(row).members[member_index]
        menu = QMenu(self)
        kept = self.group_model.is_kept(member)
        toggle = menu.addAction("Mark for the Trash" if kept else "Keep")
        toggle.setShortcut(QKeySequence(Qt.Key.Key_Space))
        toggle.triggered.connect(lambda: self.toggle_keep(row, member_index))
        folder = os.path.dirname(member.record.path)  # noqa: PTH120
        name = display_path(os.path.basename(folder) or folder)  # noqa: PTH119
        menu.addAction(f"Mark Every Copy in “{name}” for the Trash").triggered.connect(
            lambda: self.mark_folder(folder, keep=False)
        )
        menu.addAction(f"Keep Every Copy in “{name}”").triggered.connect(
            lambda: self.mark_folder(folder, keep=True)
        )
        menu.addSeparator()
        menu.addAction("Open File").triggered.connect(self.open_current_file)
        menu.addAction("Show in Folder").triggered.connect(self.show_current_in_folder)
        self.decisions_ui.add_image_actions(menu, row, member_index)
        menu.popup(position)

    def mark_folder(self, folder: str, *, keep: bool) -> None:
        """Selection helper: keep, or mark for the trash, every copy in `folder` (never the
        last kept copy of a group, never a protected file)."""
        changed, spared = self.group_model.mark_folder(folder, keep=keep)
        self.compare_view.refresh_marks()
        name = display_path(folder)
        if keep:
            message = f"Every copy in {name} is kept ({format_count(changed, 'mark')} changed)."
        else:
            message = f"Marked {format_count(changed, 'copy', 'copies')} in {name} for the trash."
            if spared:
                message += (
                    f" {format_count(spared, 'group has', 'groups have')} every copy there:"
                    " one of each stays kept."
                )
        self.statusBar().showMessage(message, 10000)

    def _navigate_members(self, step: int) -> None:
        row = self.group_view.current_row()
        if row >= 0:
            current = max(1, self.group_view.current_member())
            self.group_view.set_current(row, current + step)

    def _on_current_changed(self, row: int, member_index: int) -> None:
        if row < 0:
            self.compare_view.clear()
        else:
            self.compare_view.show_group(self.group_model, row, member_index)
        self._update_actions()

    def current_path(self) -> str | None:
        row = self.group_view.current_row()
        if row < 0:
            return None
        group = self.group_model.group(row)
        return group.members[self.group_view.current_member()].record.path

    def open_current_file(self) -> None:
        path = self.current_path()
        if path:
            desktop.open_file(path)

    def show_current_in_folder(self) -> None:
        path = self.current_path()
        if path:
            desktop.show_in_folder(path)

    def _show_desktop_problem(self, message: str) -> None:
        self.statusBar().showMessage(message, 10000)

    def add_info_bar(self, bar: QWidget) -> None:
        """A message with its own buttons above the folders and groups (e.g. an offer)."""
        layout = self.centralWidget().layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(0, bar)

    # Acting
    def move_to_trash(self) -> None:
        if self.is_busy():
            return
        if self._result is None:
            return
        plan = confirmed_removal_plan(
            self, self.group_model.groups(), self.group_model.trash_selection(),
            roots=self._result.roots,  # the scan these groups came from
        )
        if plan is None:
            return
        job = TrashJob(plan, decisions=self.decisions_ui.decisions)
        job.logged.connect(self.decisions_ui.on_trash_logged)
        job.progress.connect(self._on_trash_progress)
        job.finished.connect(self._on_trash_finished)
        job.failed.connect(self._on_job_failed)
        self.progress_panel.start("Moving to the trash…")
        self._start_job(job, [job.finished, job.failed])

    def _on_trash_progress(self, progress: TrashProgress) -> None:
        self.progress_panel.show_count(
            progress.done, progress.total,
            f"Moving to the trash: {progress.done:,} / {progress.total:,}",
        )

    def _on_trash_finished(self, report: TrashReport) -> None:
        self._end_job()
        self.forget_trashed({outcome.path for outcome in report.trashed})
        if show_trash_report(self, report, can_undo=self.decisions_ui.can_undo()):
            self.decisions_ui.undo_last_trash()

    # Decisions (app/decisions_ui.py runs these jobs)
    @property
    def similarity_index(self) -> SimilarityIndex | None:
        return self._index

    def run_decision_job(self, job: QObject, message: str) -> None:
        """Start a job of decisions_ui's; one that makes a new index (finished(None, index))
        shows its groups."""
        job.finished.connect(self._end_job)  # type: ignore[attr-defined]
        if isinstance(job, ApartJob):
            job.finished.connect(self._on_regrouped)
        job.failed.connect(self._on_job_failed)  # type: ignore[attr-defined]
        self.progress_panel.start(message)
        self._start_job(job, [job.finished, job.failed])  # type: ignore[attr-defined]

    def rebuild_groups(self) -> None:
        """Compare the scanned images again (the "not duplicates" list lost entries)."""
        if self._result is not None and self._job is None:
            self._regroup_records_in_background(self._result)

    def forget_trashed(self, trashed: set[str]) -> None:
        """Files moved to the trash (here or from the Find window) leave the groups at once
        and the results; the groups are recomputed when no other job runs."""
        self.thumbnails.forget(trashed)
        self.group_model.remove_paths(trashed)
        if self._result is None or not trashed:
            return
        remaining = [r for r in self._result.records if r.path not in trashed]
        if len(remaining) == len(self._result.records):
            return
        self._result = dataclasses.replace(self._result, records=remaining)
        if self._job is None:
            self._regroup_records_in_background(self._result, shrink_from=self._index)

    def _on_rules_applied(self, chosen: object, columns: object) -> None:
        self._apply_job = None
        change = self.group_model.apply_chain_marks(chosen, columns)  # type: ignore[arg-type]
        if change is None:
            self.statusBar().showMessage("The groups changed meanwhile: apply the rules again.")
            return
        self.compare_view.refresh_marks()
        self.statusBar().showMessage(
            f"Rules applied to {self._apply_where}: "
            f"{format_count(change.changed, 'mark')} changed.", 8000
        )
        # After the marks: a regroup would make them stale.
        chain, use = self._apply_suggestion
        if use != self.keeper_choice.uses_chain() or (use and chain != self.keeper_choice.chain()):
            self.keeper_choice.set_chain(chain, use=use)
            if not use:
                self.keeper_choice.set_preferred(self.keeper_choice.preferred())
            self.regroup()

    def _on_apply_failed(self, message: str) -> None:
        self._apply_job = None
        dialogs.warn(self, "Something went wrong", message)

    def move_to_folder(self) -> None:
        """The marked copies into a folder the user picks, with the trash's checks."""
        if self.is_busy() or self._result is None:
            return
        target = dialogs.choose_folder(self, "Move the marked copies into")
        if not target:
            return
        problem = target_problem(target, self._result.roots)
        if problem:
            dialogs.warn(self, MOVE_TITLE, problem)
            return
        plan = confirmed_move_plan(
            self, self.group_model.groups(), self.group_model.trash_selection(),
            roots=self._result.roots, target=target,
        )
        if plan is None:
            return
        job = MoveJob(plan, target)
        job.progress.connect(self._on_trash_progress)
        job.finished.connect(self._on_move_finished)
        job.failed.connect(self._on_job_failed)
        self.progress_panel.start(f"Moving to {display_path(target)}…")
        self._start_job(job, [job.finished, job.failed])

    def _on_move_finished(self, report: MoveReport, target: str) -> None:
        self._end_job()
        moved = {outcome.path for outcome in report.moved}
        self.thumbnails.forget(moved)
        self.group_model.remove_paths(moved)
        if self._result is not None and moved:
            remaining = [r for r in self._result.records if r.path not in moved]
            self._result = dataclasses.replace(self._result, records=remaining)
            self._regroup_records_in_background(self._result, shrink_from=self._index)
        show = dialogs.warn if report.not_moved else dialogs.inform
        show(self, MOVE_TITLE, move_summary(report, target), move_details(report))

    def export_results(self) -> None:
        path = dialogs.choose_export_path(self)
        if not path:
            return
        if self.is_busy():
            return
        errors = self._result.errors if self._result is not None else []
        job = ExportJob(path, self.groups_with_marks(), errors, self.similarity())
        job.finished.connect(self._on_export_finished)
        job.failed.connect(self._on_job_failed)
        self.progress_panel.start(f"Exporting to {path}…")
        self._start_job(job, [job.finished, job.failed])

    def _on_export_finished(self, path: str, group_count: int) -> None:
        self._end_job()
        self.statusBar().showMessage(
            f"Exported {format_count(group_count, 'group')} to {path}", 8000
        )

    def groups_with_marks(self) -> list[DuplicateGroup]:
        """The groups as shown, with the user's keep/trash choices."""
        return [
            DuplicateGroup(tuple(
                dataclasses.replace(member, keep=self.group_model.is_kept(member))
                for member in group.members
            ))
            for group in self.group_model.groups()
        ]

    # State
    def _update_state(self) -> None:
        has_groups = self.group_model.rowCount() > 0
        self.pages.setCurrentIndex(EMPTY_PAGE if self._result is None else RESULTS_PAGE)
        self.duplicates_page.setCurrentWidget(
            self.review_splitter if has_groups else self.no_groups
        )
        if not has_groups:
            self._update_empty_hint()
        self.scan_button.setEnabled(self._job is None and self.folder_panel.has_folders_to_scan())
        self.scan_action.setEnabled(self.scan_button.isEnabled())
        self._update_actions()
        self._update_status()

    def _update_empty_hint(self) -> None:
        if self._regroup_job is not None:
            self.no_groups.show_hint("Regrouping…", "")
            return
        if self.is_busy():
            return
        if not self.folder_panel.paths():
            self.empty_state.show_hint(DROP_TITLE, "")
        elif self._result is None:
            self.empty_state.show_hint(
                "Ready to scan",
                "Click Scan for Duplicates, or drop more folders here.",
            )
        else:
            self.no_groups.show_hint(
                "No duplicates found",
                f"{len(self._result.records):,} images compared at {self.similarity()}% "
                "similarity. Move the slider to the left to find looser matches.",
            )

    def _update_actions(self) -> None:
        has_current = self.group_view.current_row() >= 0
        idle = not self.is_busy()
        self.trash_action.setEnabled(idle and self.group_model.rowCount() > 0)
        self.move_to_folder_action.setEnabled(idle and self.group_model.group_count() > 0)
        self.open_action.setEnabled(has_current)
        self.show_folder_action.setEnabled(has_current)
        self.export_action.setEnabled(self._result is not None)

    def _update_status(self) -> None:
        if self._regroup_job is not None:
            self.status_label.setText("Regrouping…")
            return
        if self._result is None:
            if self.is_busy():
                text = "Scanning…"
            elif self.folder_panel.paths():
                text = "Ready: click Scan for Duplicates (F5)."
            else:
                text = "Add folders, then scan."
            self.status_label.setText(text)
            return
        marked_files, marked_bytes = self.group_model.marked_totals()
        shown, total = self.group_model.rowCount(), self.group_model.group_count()
        parts = [
            format_count(total, "group") if shown == total
            else f"{shown:,} of {total:,} groups shown",
            f"{format_count(marked_files, 'file')} marked for the trash "
            f"({format_bytes(marked_bytes)} to free)",
            f"{format_count(len(self._result.records), 'image')} scanned",
        ]
        if self._result.errors:
            parts.append(f"{len(self._result.errors):,} not scanned")
        self.status_label.setText("  ·  ".join(parts))

    # Settings
    def _restore_settings(self) -> None:
        self.folder_panel.set_entries(self.settings.folders())
        self.transforms_box.setChecked(self.settings.match_transforms())
        self.follow_links_box.setChecked(self.settings.follow_links())
        self.keeper_choice.set_preferred(
            self.settings.preferred_keeper(self.keeper_choice.preferred())
        )
        chain = self.settings.keeper_chain()
        if chain is not None:
            self.keeper_choice.set_chain(chain, use=self.settings.use_keeper_chain())
        value = self.settings.similarity(round(DEFAULT_SIMILARITY))
        self.similarity_slider.setValue(value)
        self._on_slider_moved(value)
        self._regroup_timer.stop()
        geometry = self.settings.geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1400, 900)
        for name, splitter in self._splitters().items():
            state = self.settings.splitter_state(name)
            if state is not None:
                splitter.restoreState(state)

    def _splitters(self) -> dict[str, QSplitter]:
        return {
            "main_splitter": self.main_splitter,
            "review_splitter": self.review_splitter,
            "compare_splitter": self.compare_view.splitter,
        }

    def save_settings(self) -> None:
        self.settings.set_folders(self.folder_panel.entries())
        self.settings.set_similarity(self.similarity())
        self.settings.set_geometry(self.saveGeometry())
        for name, splitter in self._splitters().items():
            self.settings.set_splitter_state(name, splitter.saveState())
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        self._closed = True
        self._regroup_timer.stop()
        # Results still queued behind the close are dropped: the window is no longer busy.
        self._job = None
        self._regroup_job = None
        self._regroup_again = False
        for job in self._running_jobs.values():
            if isinstance(job, ScanJob):
                job.stop()
            else:
                job.cancel()  # type: ignore[attr-defined]
        for thread in list(self._running_jobs):
            thread.wait(5000)
        self.library_tools.shut_down()
        self.decisions_ui.close()
        self.thumbnails.shut_down(2000)
        super().closeEvent(event)
