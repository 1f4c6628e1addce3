""""Is this photo already in my library?": a drop target in the sidebar and a window that
shows, per photo asked about, its library copies as a group in the usual compare view (the
photo first, marked as the query), or says plainly that the library has no copy."""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent, QFontMetrics
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from dedup_gui.app import desktop, dialogs
from dedup_gui.app.compare import CompareView
from dedup_gui.app.file_jobs import TrashJob
from dedup_gui.app.formatting import format_count, format_percent
from dedup_gui.app.group_model import GroupListModel
from dedup_gui.app.group_view import (
    ROW_HEIGHT,
    Caption,
    GroupDelegate,
    GroupListView,
    RowHeader,
    caption_lines,
)
from dedup_gui.app.job_threads import JobOwner
from dedup_gui.app.library_jobs import FindPhotosJob
from dedup_gui.app.library_scope import LibraryScope
from dedup_gui.app.paths import display_path, local_path
from dedup_gui.app.progress_panel import ProgressPanel, describe_progress
from dedup_gui.app.thumbnails import ThumbnailProvider
from dedup_gui.app.trash_flow import confirmed_removal_plan, report_details, report_summary
from dedup_gui.core.files.folder_roles import FolderRoles
from dedup_gui.core.files.imagetypes import IMAGE_EXTENSIONS, has_image_extension
from dedup_gui.core.library import QueryResult
from dedup_gui.core.models import DuplicateGroup, GroupMember, MatchKind, ScanProgress
from dedup_gui.core.trash.actions import TrashReport

QUERY_NOTE = "Your photo"
FIND_TITLE = "Find a Photo in My Library"


def image_paths(paths: Sequence[str]) -> list[str]:
    return [path for path in paths if Path(path).is_file() and has_image_extension(path)]


def query_group(result: QueryResult) -> DuplicateGroup | None:
    """The photo asked about first, then its library copies (closest first); None without
    a copy. Nothing is suggested for the trash. The library copies are the answer and are
    never offered (held as reference copies); the photo may be marked by hand only when it
    lies inside the scanned folders (`FindPhotosWindow.can_mark`)."""
    if result.image is None or not result.matches:
        return None
    query = GroupMember(
        result.image, keep=True, is_reference=False, distance=0, similarity=100.0,
        match=MatchKind.EXACT, keep_reason="the photo you asked about",
    )
    copies = tuple(
        GroupMember(
            match.record, keep=True, is_reference=True, distance=match.distance,
            similarity=match.similarity,
            match=MatchKind.EXACT if match.exact else MatchKind.VISUAL,
        )
        for match in result.matches
    )
    return DuplicateGroup((query, *copies))


def not_found_text(result: QueryResult, scope: LibraryScope) -> str:
    """What to say about a photo that is not a group: no copy, or it could not be read."""
    path = result.image.path if result.image else result.image_error.path if \
        result.image_error else ""
    name = html.escape(display_path(os.path.basename(path)))  # noqa: PTH119
    if result.image is None:
        reason = result.image_error.message if result.image_error else "It could not be read."
        return f"<b>{name}</b> could not be read: {html.escape(reason)}"
    searched = format_count(len(result.library.records), "image")
    where = "the Protected folders" if scope.protected_only else "the listed folders"
    return f"No copy of <b>{name}</b> in your library ({searched} in {where} compared)."


class QueryDelegate(GroupDelegate):
    """The group row, with the first photo captioned as the one asked about."""

    def header(self, group: DuplicateGroup, model: GroupListModel, row: int) -> RowHeader:
        """How many library copies: no keep/trash totals, no review tag."""
        copies = len(group.members) - 1
        exact = sum(member.match is MatchKind.EXACT for member in group.members[1:])
        name = display_path(os.path.basename(group.keeper.record.path))  # noqa: PTH119
        kind = (f"{exact} exact" if exact else "none exact") + f", {copies - exact} look alike"
        return RowHeader(f"{name}: {format_count(copies, 'copy', 'copies')} in your library",
                         kind)

    def caption(
        self,
        member: GroupMember,
        member_index: int,
        metrics: QFontMetrics,
        width: int,
        companion: tuple[int, GroupMember] | None = None,
    ) -> Caption:
        """The query and its library copies; a query result has no RAW+JPEG companions."""
        name, folder, details, _note = caption_lines(member, member_index, metrics, width)
        if member_index == 0:
            note = QUERY_NOTE
        elif member.match is MatchKind.EXACT:
            note = "Library copy: exact"
        else:
            note = f"Library copy: {format_percent(member.similarity)}"
        note = metrics.elidedText(note, Qt.TextElideMode.ElideRight, width)
        return Caption((name, folder, details, note), highlight_note=member_index == 0)


class QueryCompareView(CompareView):
    """The compare view with the left photo titled as the query, the right as a library copy;
    a Keep/Trash button only where `can_mark(row, member index)` allows one."""

    def __init__(
        self, thumbnails: ThumbnailProvider, can_mark: Callable[[int, int], bool],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(thumbnails, parent)
        self._can_mark = can_mark

    def _refresh_panes(self, group: DuplicateGroup, *, images: bool = True) -> None:
        super()._refresh_panes(group, images=images)
        for pane, member_index in zip(self.panes, self._members, strict=True):
            pane.mark_button.setVisible(self._can_mark(self._row, member_index))
            member = group.members[member_index]
            name = html.escape(Path(member.record.path).name)
            if member_index == 0:
                role = "<span style='color:#0969da'>your photo (the query)</span>"
            elif member.match is MatchKind.EXACT:
                role = "library copy, exact"
            else:
                role = f"library copy, {format_percent(member.similarity)} similar"
            pane.title.setText(f"<b>{member_index + 1}. {name}</b> — {role}")

    def _fill_table(self, group: DuplicateGroup) -> None:
        super()._fill_table(group)
        header = self.table.horizontalHeaderItem(0)
        if header is not None:
            kept = self._model is None or self._model.is_kept(group.keeper)
            header.setText("1. your photo" + ("" if kept else " (trash)"))
        for column in range(1, len(group.members)):
            item = self.table.horizontalHeaderItem(column)
            if item is not None:
                item.setText(f"{column + 1}. library copy")


class FindTarget(QFrame):
    """The sidebar's drop area: drop photos on it, or click to pick them."""

    photos_chosen = Signal(list)
    """list[str]: the image files dropped or picked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("findTarget")
        self.setAcceptDrops(True)
        self.button = QPushButton(f"{FIND_TITLE}…", self)
        self.button.setToolTip("Is this photo already in my library? Drop photos here, or click")
        self.button.clicked.connect(self.choose_photos)
        self.hint = QLabel("or drop photos here", self)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setStyleSheet("color: palette(placeholder-text);")
        self.scope_label = QLabel(self)
        self.scope_label.setWordWrap(True)
        self.scope_label.setStyleSheet("color: palette(placeholder-text); font-size: 11px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.button)
        layout.addWidget(self.hint)
        layout.addWidget(self.scope_label)
        self._set_highlighted(False)

    def set_scope(self, scope: LibraryScope) -> None:
        self.scope_label.setText(scope.describe())

    def choose_photos(self) -> None:
        patterns = " ".join(f"*{ext}" for ext in sorted(IMAGE_EXTENSIONS))
        paths, _filter = QFileDialog.getOpenFileNames(
            self, "Choose photos to look for in your library", "", f"Images ({patterns})"
        )
        if paths:
            self.photos_chosen.emit(paths)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if image_paths(self._paths(event)):
            event.acceptProposedAction()
            self._set_highlighted(True)
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._set_highlighted(False)
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self._set_highlighted(False)
        photos = image_paths(self._paths(event))
        if not photos:
            event.ignore()
            return
        event.acceptProposedAction()
        self.photos_chosen.emit(photos)

    @staticmethod
    def _paths(event: QDragEnterEvent | QDropEvent) -> list[str]:
        data = event.mimeData()
        if not data.hasUrls():
            return []
        return [local_path(url) for url in data.urls() if url.isLocalFile()]

    def _set_highlighted(self, highlighted: bool) -> None:
        colour = "palette(highlight)" if highlighted else "palette(mid)"
        self.setStyleSheet(
            f"#findTarget {{ border: 2px dashed {colour}; border-radius: 8px; }}"
        )


class FindPhotosWindow(QDialog):
    """Searches the library for the photos dropped or picked; one result group each."""

    files_trashed = Signal(object)
    """set[str]: photos asked about that were moved to the trash from here."""

    def __init__(
        self,
        thumbnails: ThumbnailProvider,
        scope: Callable[[], tuple[LibraryScope, FolderRoles]],
        search_settings: Callable[[], tuple[float, bool, bool]],
        parent: QWidget | None = None,
    ) -> None:
        """`scope`: the library and the scanned folders now; `search_settings`: (similarity,
        match transforms, follow links) as the main window has them."""
        super().__init__(parent)
        self.setWindowTitle(FIND_TITLE)
        self.setAcceptDrops(True)
        self.setModal(False)
        self.resize(1180, 900)
        self._scope = scope
        self._search_settings = search_settings
        self._jobs = JobOwner(self)
        self._asked: list[str] = []
        self._scanned = FolderRoles(())

        self.scope_label = QLabel(self)
        self.scope_label.setWordWrap(True)
        self.choose_button = QPushButton("Choose Photos…", self)
        self.choose_button.clicked.connect(self._choose)
        self.trash_button = QPushButton("Move Marked to Trash…", self)
        self.trash_button.setToolTip(
            "Move your photos marked TRASH (only ones inside the scanned folders) to the trash"
        )
        self.trash_button.clicked.connect(self.move_to_trash)
        self.trash_button.hide()
        top = QHBoxLayout()
        top.addWidget(QLabel("Drop photos onto this window, or", self))
        top.addWidget(self.choose_button)
        top.addStretch(1)
        top.addWidget(self.trash_button)
        self.progress_panel = ProgressPanel(self)
        self.progress_panel.cancel_requested.connect(self._jobs.cancel)
        self.progress_panel.hide()
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setStyleSheet("font-size: 14px; padding: 6px;")

        self.model = GroupListModel(self, freezes_heap=False)
        self.group_view = GroupListView(thumbnails, self)
        self.group_view.setItemDelegate(QueryDelegate(self.group_view, thumbnails))
        self.group_view.setModel(self.model)
        self.group_view.setAccessibleName("Photos found in your library")
        self.compare_view = QueryCompareView(thumbnails, self.can_mark, self)
        self.group_view.current_changed.connect(self._on_current_changed)
        self.group_view.toggle_requested.connect(self.toggle_mark)
        self.group_view.trash_requested.connect(self.move_to_trash)
        self.compare_view.toggle_requested.connect(self.toggle_mark)
        self.compare_view.navigate_requested.connect(self._navigate)
        self.model.keep_changed.connect(self._update_trash_button)
        self.results = QSplitter(Qt.Orientation.Vertical, self)
        self.results.addWidget(self.group_view)
        self.results.addWidget(self.compare_view)
        self.group_view.setMinimumHeight(ROW_HEIGHT + 8)
        self.results.setSizes([ROW_HEIGHT + 8, 640])
        self.results.setCollapsible(0, False)
        self.compare_view.splitter.setSizes([460, 180])
        self.results.hide()
        desktop.problems.reported.connect(self._on_desktop_problem)

        layout = QVBoxLayout(self)
        layout.addWidget(self.scope_label)
        layout.addLayout(top)
        layout.addWidget(self.progress_panel)
        layout.addWidget(self.summary)
        layout.addWidget(self.results, 1)
        self._refresh_scope()

    # Asking
    def find(self, photos: Sequence[str]) -> None:
        """Search the library for `photos` (image files); one search at a time."""
        self.show()
        self.raise_()
        self.activateWindow()
        photos = image_paths(photos)
        if not photos or self._jobs.busy():
            if self._jobs.busy():
                self.summary.setText("A search is running: wait for it, or cancel it first.")
            return
        scope, self._scanned = self._scope()
        self._refresh_scope(scope)
        if not scope.roots:
            self.summary.setText(
                "Add your library's folders to the main window's list first, then ask again."
            )
            return
        similarity, transforms, follow_links = self._search_settings()
        self._asked = [os.path.abspath(photo) for photo in photos]  # noqa: PTH100
        job = FindPhotosJob(
            self._asked, scope.roots, similarity=similarity, match_transforms=transforms,
            options=scope.options(follow_links),
        )
        job.progress.connect(self._on_progress)
        job.finished.connect(self._on_finished)
        job.failed.connect(self._on_failed)
        self.summary.setText("")
        self.model.set_groups([])
        self.results.hide()
        self.choose_button.setEnabled(False)
        self.progress_panel.start(f"Looking for {self._photo_names()} in your library…")
        self._jobs.start(job, [job.finished, job.failed])

    def cancel(self) -> None:
        self._jobs.cancel()

    def is_busy(self) -> bool:
        return self._jobs.busy()

    def shut_down(self) -> None:
        self._jobs.shut_down()

    def keyPressEvent(self, event: object) -> None:  # type: ignore[override]
        # Esc cancels a running search instead of closing the window under it.
        if self._jobs.busy() and getattr(event, "key", lambda: None)() == Qt.Key.Key_Escape:
            self.progress_panel.cancel_button.click()
            return
        super().keyPressEvent(event)  # type: ignore[arg-type]

    def closeEvent(self, event: object) -> None:  # type: ignore[override]
        self._jobs.cancel()
        super().closeEvent(event)  # type: ignore[arg-type]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        data = event.mimeData()
        if data.hasUrls() and image_paths([local_path(u) for u in data.urls() if u.isLocalFile()]):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        photos = image_paths(
            [local_path(url) for url in event.mimeData().urls() if url.isLocalFile()]
        )
        if photos:
            event.acceptProposedAction()
            self.find(photos)

    # Reports
    def _on_progress(self, number: int, total: int, progress: ScanProgress) -> None:
        prefix = f"Photo {number + 1} of {total}: " if total > 1 else ""
        self.progress_panel.show_scan_progress(progress)
        self.progress_panel.label.setText(
            prefix + "scanning your library · " + describe_progress(progress)
        )

    def _on_finished(self, results: list[QueryResult]) -> None:
        self._jobs.done()
        self.progress_panel.hide()
        self.choose_button.setEnabled(True)
        scope, _roles = self._scope()
        groups, lines = [], []
        for result in results:
            group = query_group(result)
            if group is None:
                lines.append(not_found_text(result, scope))
            else:
                groups.append(group)
        if len(results) < len(self._asked):
            lines.append(
                f"Search cancelled: {format_count(len(self._asked) - len(results), 'photo')}"
                " not looked for."
            )
        if groups:
            found = format_count(len(groups), "photo")
            lines.insert(0, f"<b>{found} already in your library</b>: each is shown first in "
                            "its group, with its library copies after it.")
        self.summary.setText("<br>".join(lines))
        # The model keeps the core's order when it is already sorted by reclaimable bytes
        # (0 for every query group): the order asked in.
        # Shown first: the compare view fits the photos to the size it has when they arrive.
        self.results.setVisible(bool(groups))
        self.model.set_groups(groups)
        if groups:
            self.group_view.set_current(0)
            self.group_view.setFocus()

    def _on_failed(self, message: str) -> None:
        self._jobs.done()
        self.progress_panel.hide()
        self.choose_button.setEnabled(True)
        self.summary.setText(f"Something went wrong: {html.escape(message)}")
        self._update_trash_button()

    # Review
    def _on_current_changed(self, row: int, member_index: int) -> None:
        if row < 0:
            self.compare_view.clear()
        else:
            self.compare_view.show_group(self.model, row, member_index)

    def _navigate(self, step: int) -> None:
        row = self.group_view.current_row()
        if row >= 0:
            current = max(1, self.group_view.current_member())
            self.group_view.set_current(row, current + step)

    # Marks
    def can_mark(self, row: int, member_index: int) -> bool:
        """Only your photo, and only inside the scanned folders: the library's copies are
        never offered for the trash from here (they are the copy that stays)."""
        if member_index != 0 or not 0 <= row < self.model.rowCount():
            return False
        return self._scanned.is_scanned(self.model.group(row).keeper.record.path)

    def toggle_mark(self, row: int, member_index: int) -> None:
        if self.can_mark(row, member_index):
            self.model.toggle_kept(row, member_index)
            self.compare_view.refresh_marks()
            return
        if member_index == 0:
            text = ("Your photo is outside the folders in the list, so it is not offered for "
                    "the trash. To review it as a duplicate, add its folder and scan.")
        else:
            text = "This is your library's copy: it is not offered for the trash here."
        self.summary.setText(text)

    def _update_trash_button(self) -> None:
        offered = any(self.can_mark(row, 0) for row in range(self.model.rowCount()))
        self.trash_button.setVisible(offered)
        self.trash_button.setEnabled(self.model.marked_totals()[0] > 0 and not self.is_busy())

    def move_to_trash(self) -> None:
        if self._jobs.busy():
            return
        _scope, self._scanned = self._scope()  # the folders listed now
        groups = self.model.groups()
        selection = self.model.trash_selection()
        plan = confirmed_removal_plan(self, groups, selection, roots=self._scanned.scan_roots())
        if plan is None:
            return
        job = TrashJob(plan)
        job.finished.connect(self._on_trash_finished)
        job.failed.connect(self._on_failed)
        self.progress_panel.start("Moving to the trash…")
        self._jobs.start(job, [job.finished, job.failed])
        self._update_trash_button()

    def _on_trash_finished(self, report: TrashReport) -> None:
        self._jobs.done()
        self.progress_panel.hide()
        trashed = {outcome.path for outcome in report.trashed}
        self.model.remove_paths(trashed)
        self.results.setVisible(self.model.rowCount() > 0)
        self.summary.setText(html.escape(report_summary(report)))
        self._update_trash_button()
        if trashed:
            self.files_trashed.emit(trashed)
        show = dialogs.warn if report.not_trashed else dialogs.inform
        show(self, "Move to Trash", report_summary(report), report_details(report))

    def _on_desktop_problem(self, message: str) -> None:
        if self.isVisible():
            self.summary.setText(html.escape(message))

    def _refresh_scope(self, scope: LibraryScope | None = None) -> None:
        if scope is None:
            scope, _roles = self._scope()
        self.scope_label.setText(scope.describe())

    def _choose(self) -> None:
        patterns = " ".join(f"*{ext}" for ext in sorted(IMAGE_EXTENSIONS))
        paths, _filter = QFileDialog.getOpenFileNames(
            self, "Choose photos to look for in your library", "", f"Images ({patterns})"
        )
        if paths:
            self.find(paths)

    def _photo_names(self) -> str:
        if len(self._asked) == 1:
            return f"“{display_path(os.path.basename(self._asked[0]))}”"  # noqa: PTH119
        return format_count(len(self._asked), "photo")

