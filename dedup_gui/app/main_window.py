"""The main window: folders on the left, groups and the compare view on the right."""

from __future__ import annotations

from PySide6.QtCore import QObject, QSize, Qt, QTimer
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
from dedup_gui.app import desktop
from dedup_gui.app.compare import CompareView
from dedup_gui.app.current_image import CurrentImage
from dedup_gui.app.decisions_ui import DecisionsUi
from dedup_gui.app.deep_option import DeepOption
from dedup_gui.app.empty_state import EmptyState
from dedup_gui.app.errors_view import ErrorsView
from dedup_gui.app.file_actions import FileActions
from dedup_gui.app.folder_intake import FolderIntake
from dedup_gui.app.folders import FolderPanel
from dedup_gui.app.group_model import GroupListModel
from dedup_gui.app.group_view import ROW_HEIGHT, THUMB_SIDE, GroupListView
from dedup_gui.app.keeper_choice import KeeperChoice
from dedup_gui.app.library_tools import LibraryTools
from dedup_gui.app.menus import install_menus
from dedup_gui.app.progress_panel import ProgressPanel
from dedup_gui.app.raw_pair_choice import RawPairChoice
from dedup_gui.app.regrouping import Regrouping
from dedup_gui.app.review_pane import ReviewPane
from dedup_gui.app.rule_chain_dialog import RuleChainDialog
from dedup_gui.app.rule_chain_flow import RuleChainFlow
from dedup_gui.app.scan_flow import ScanFlow
from dedup_gui.app.scan_jobs import ScanJob
from dedup_gui.app.selection_menu import SelectionActions
from dedup_gui.app.settings import AppSettings
from dedup_gui.app.thumbnails import ThumbnailProvider
from dedup_gui.app.window_jobs import WindowJobs
from dedup_gui.app.window_status import WindowStatus
from dedup_gui.core.decisions.review_data import ReviewData
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.similarity import DEFAULT_SIMILARITY, MIN_SIMILARITY
from dedup_gui.core.models import DuplicateGroup, ScanResult


class MainWindow(QMainWindow):
    """Builds and wires the widgets; the work behind them is done by its helpers (QObjects
    on the GUI thread): jobs (window_jobs), scan_flow, regrouping, intake (folder_intake),
    file_actions, rule_chain (rule_chain_flow), current_image, status (window_status),
    decisions_ui, library_tools, selection_actions. Every signal from a worker is connected
    to a method of the window or of a helper (never a lambda), so Qt queues the call to the
    GUI thread."""

    def __init__(self, settings: AppSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self.settings = settings or AppSettings()
        self.scan_on_add = True

        self.jobs = WindowJobs(self)
        self.scan_flow = ScanFlow(self)
        self.regrouping = Regrouping(self)
        self.intake = FolderIntake(self)
        self.file_actions = FileActions(self)
        self.rule_chain = RuleChainFlow(self)
        self.current_image = CurrentImage(self)
        self.status = WindowStatus(self)

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
        self._restore_settings()
        self.status.update_state()

    # Layout
    def _build_widgets(self) -> None:
        self.folder_panel = FolderPanel(self)
        self.folder_panel.add_requested.connect(self.intake.add_folder_from_dialog)
        self.folder_panel.folders_changed.connect(self.intake.on_folders_changed)
        self.folder_panel.add_subfolder_requested.connect(self.intake.add_subfolder_from_dialog)
        self.folder_panel.scope_widened.connect(self.intake.scan_what_is_new)

        self.follow_links_box = QCheckBox("Follow links that lead outside the chosen folders", self)
        self.follow_links_box.setToolTip(
            "Off: a folder or file link pointing outside the folders above is not scanned and "
            "is listed on the Not scanned tab instead"
        )
        self.follow_links_box.toggled.connect(self.settings.set_follow_links)

        self.scan_button = QPushButton("Scan for Duplicates", self)
        self.scan_button.setMinimumHeight(36)
        self.scan_button.setStyleSheet("font-weight: bold;")
        self.scan_button.clicked.connect(self.scan_flow.start_scan)

        self.similarity_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.similarity_slider.setRange(round(MIN_SIMILARITY), 100)
        self.similarity_slider.setValue(round(DEFAULT_SIMILARITY))
        self.similarity_slider.setPageStep(2)
        self.similarity_slider.setAccessibleName("Similarity threshold")
        self.similarity_label = QLabel(self)
        self.similarity_slider.valueChanged.connect(self.regrouping.on_slider_moved)
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
        self.transforms_box.toggled.connect(self.scan_flow.on_transforms_toggled)
        similarity_layout.addWidget(self.transforms_box)
        self.deep_option = DeepOption(self, self.settings.store)
        self.deep_option.toggled.connect(self.scan_flow.on_deep_toggled)
        self.deep_option.model_changed.connect(self.scan_flow.on_deep_model_changed)
        similarity_layout.addWidget(self.deep_option)

        sidebar = QWidget(self)
        sidebar_layout = QVBoxLayout(sidebar)
        sidebar_layout.setContentsMargins(8, 8, 4, 8)
        sidebar_layout.addWidget(self.folder_panel, 1)
        sidebar_layout.addWidget(self.follow_links_box)
        sidebar_layout.addWidget(self.scan_button)
        sidebar_layout.addWidget(similarity_box)
        self.keeper_choice = KeeperChoice(self)
        self.keeper_choice.changed.connect(self.regrouping.on_keeper_choice_changed)
        self.keeper_choice.chain_requested.connect(self.rule_chain.open)
        sidebar_layout.addWidget(self.keeper_choice)
        self.raw_pair_choice = RawPairChoice(self.settings, self.keeper_choice)
        self.raw_pair_choice.changed.connect(self.regrouping.regroup)
        self.keeper_choice.layout().addWidget(self.raw_pair_choice)
        self.library_tools = LibraryTools(self)
        sidebar_layout.addWidget(self.library_tools.find_target)

        self.empty_state = EmptyState(self)
        self.group_view = GroupListView(self.thumbnails, self)
        self.group_view.setModel(self.group_model)
        self.keeper_choice.return_focus_to(self.group_view)
        self.group_view.current_changed.connect(self.current_image.on_current_changed)
        self.group_view.toggle_requested.connect(self.current_image.toggle_keep)
        self.group_view.trash_requested.connect(self.file_actions.move_to_trash)
        self.group_view.context_menu_requested.connect(self.current_image.show_menu)
        self.group_model.keep_changed.connect(self.status.update_status)

        self.compare_view = CompareView(self.thumbnails, self)
        self.compare_view.toggle_requested.connect(self.current_image.toggle_keep)
        self.compare_view.navigate_requested.connect(self.current_image.navigate_members)

        self.review_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.review_pane = ReviewPane(self.group_view, self.group_model, self)
        self.review_pane.toggle_requested.connect(self.current_image.toggle_keep)
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
        self.progress_panel.cancel_requested.connect(self.jobs.cancel)
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

        self.add_action = action("Add Folder…", self.intake.add_folder_from_dialog,
                                 QKeySequence.StandardKey.Open, "Add a folder to scan (Ctrl+O)")
        self.scan_action = action("Scan", self.scan_flow.start_scan, "F5", "Scan the folders (F5)")
        toolbar.addSeparator()
        self.trash_action = action("Move to Trash…", self.file_actions.move_to_trash,
                                   QKeySequence.StandardKey.Delete,
                                   "Move every file marked TRASH to the system trash (Delete)")
        # Wherever the focus is in this window, not only in the group list. The app has no
        # text field; the folder list takes Delete first to remove the selected folders.
        self.trash_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.move_to_folder_action = action(
            "Move Marked Copies to Folder…", self.file_actions.move_to_folder, None,
            "Move every file marked TRASH into a folder you choose, instead of the trash",
        )
        self.open_action = action("Open File", self.current_image.open_current_file, None,
                                  "Open the current image in its default viewer")
        self.show_folder_action = action(
            "Show in Folder", self.current_image.show_current_in_folder, None,
            "Open the folder that contains the current image",
        )
        toolbar.addSeparator()
        self.export_action = action("Export Results…", self.file_actions.export_results, None,
                                    "Save the groups as CSV or JSON (same format as dedup-cli)")
        cancel = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        cancel.activated.connect(self.jobs.cancel)

    # Folders (app/folder_intake.py)
    def add_paths(self, paths: list[str]) -> None:
        self.intake.add_paths(paths)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self.intake.drag_entered(event)

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.intake.drag_left()
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self.intake.dropped(event)

    # Scanning (app/scan_flow.py, app/window_jobs.py)
    @property
    def scan_result(self) -> ScanResult | None:
        """The last scan (minus files trashed since), or None before the first one."""
        return self.scan_flow.result

    def is_busy(self) -> bool:
        """A scan, removal or export runs, or the groups are being recomputed."""
        return self.jobs.job is not None or self.regrouping.job is not None

    def start_scan(self) -> None:
        self.scan_flow.start_scan()

    def cancel_job(self) -> None:
        self.jobs.cancel()

    def forget_trashed(self, trashed: set[str]) -> None:
        self.scan_flow.forget_trashed(trashed)

    # Grouping (app/regrouping.py, app/rule_chain_flow.py)
    def similarity(self) -> int:
        return self.similarity_slider.value()

    def regroup(self) -> None:
        self.regrouping.regroup()

    def open_rule_chain(self) -> None:
        self.rule_chain.open()

    @property
    def rule_chain_dialog(self) -> RuleChainDialog | None:
        return self.rule_chain.dialog

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
        self.status.update_state()
        self.scan_flow.groups_shown()
        if self.jobs.checking_snapshot and self.jobs.job is not None:  # once painted, check them
            job = self.jobs.job  # called here: the job's own thread is busy waiting for this
            QTimer.singleShot(100, lambda: job.resume_check())  # type: ignore[attr-defined]

    # The image shown (app/current_image.py)
    def toggle_keep(self, row: int, member_index: int) -> None:
        self.current_image.toggle_keep(row, member_index)

    def mark_folder(self, folder: str, *, keep: bool) -> None:
        self.current_image.mark_folder(folder, keep=keep)

    def current_path(self) -> str | None:
        return self.current_image.current_path()

    def open_current_file(self) -> None:
        self.current_image.open_current_file()

    def show_current_in_folder(self) -> None:
        self.current_image.show_current_in_folder()

    def _show_desktop_problem(self, message: str) -> None:
        self.statusBar().showMessage(message, 10000)

    def add_info_bar(self, bar: QWidget) -> None:
        """A message with its own buttons above the folders and groups (e.g. an offer)."""
        layout = self.centralWidget().layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(0, bar)

    # Acting (app/file_actions.py)
    def move_to_trash(self) -> None:
        self.file_actions.move_to_trash()

    def export_results(self) -> None:
        self.file_actions.export_results()

    def groups_with_marks(self) -> list[DuplicateGroup]:
        return self.file_actions.groups_with_marks()

    # Decisions (app/decisions_ui.py runs these jobs)
    @property
    def similarity_index(self) -> SimilarityIndex | None:
        return self.scan_flow.index

    def run_decision_job(self, job: QObject, message: str) -> None:
        self.jobs.run_decision_job(job, message)

    def rebuild_groups(self) -> None:
        self.scan_flow.rebuild_groups()

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
        self.regrouping.on_slider_moved(value)
        self.regrouping.timer.stop()
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
        self.jobs.closed = True
        self.regrouping.timer.stop()
        # Results still queued behind the close are dropped: the window is no longer busy.
        self.jobs.job = None
        self.regrouping.job = None
        self.regrouping.again = False
        for job in self.jobs.running_jobs.values():
            if isinstance(job, ScanJob):
                job.stop()
            else:
                job.cancel()  # type: ignore[attr-defined]
        for thread in list(self.jobs.running_jobs):
            thread.wait(5000)
        self.library_tools.shut_down()
        self.decisions_ui.close()
        self.thumbnails.shut_down(2000)
        super().closeEvent(event)
