"""The window's decisions that outlive it: "not duplicates" (menus, compare view, the list
dialog), marks and reviewed groups saved as they are made and restored after a scan, and
Undo / Recently Trashed for every Move to Trash.

Everything that touches the disk runs on a worker (the window's jobs, or the decisions
thread); this object lives on the GUI thread and only routes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from dedup_gui.app import dialogs
from dedup_gui.app.decisions import Decisions, SavedDecisions
from dedup_gui.app.file_jobs import RestoreJob
from dedup_gui.app.group_model import MarkEdit
from dedup_gui.app.ignore_dialog import NotDuplicatesDialog
from dedup_gui.app.review_jobs import ApartJob
from dedup_gui.app.trash_history import RecentlyTrashedDialog, open_system_trash, restore_report
from dedup_gui.core.decisions.trash_log import RestoreOutcome, RestoreResult, TrashBatch
from dedup_gui.core.models import ImageRecord

if TYPE_CHECKING:
    from dedup_gui.app.main_window import MainWindow

SAVE_DELAY_MS = 300
"""Marks changed within this time are saved in one write (a burst of Space presses)."""
REVIEWED_AFTER_MS = 1000
"""A group shown this long counts as reviewed."""
IDLE_RETRY_MS = 200


class DecisionsUi(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._closed = False
        self.decisions = Decisions(self)
        self.decisions.problem.connect(self._on_problem)
        self._pending_marks: list[Iterable[MarkEdit]] = []
        """Batches of edits not saved yet, in the order made (iterated only when saved, on
        the decisions thread: 100,000 edits of a bulk helper cost the GUI nothing)."""
        self._saved_marks: dict[str, bool] = {}
        """Marks restored by the last scan, not applied yet (their files not in a group)."""
        self._last_batch: int | None = None
        self.ignore_dialog: NotDuplicatesDialog | None = None
        self.trash_dialog: RecentlyTrashedDialog | None = None

        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.flush_marks)
        self._review_timer = QTimer(self)
        self._review_timer.setSingleShot(True)
        self._review_timer.setInterval(REVIEWED_AFTER_MS)
        self._review_timer.timeout.connect(self._on_looked_long_enough)
        self._looked_at: object | None = None

        model = window.group_model
        model.marks_edited.connect(self._on_marks_edited)
        model.reviewed_added.connect(self._on_reviewed)
        window.group_view.current_changed.connect(self._on_current_changed)
        window.compare_view.not_duplicates_requested.connect(self._on_compare_not_duplicates)
        self._build_menu()

    # Menus
    def _build_menu(self) -> None:
        window = self._window
        menu = window.findChild(QMenu, "edit_menu")
        if menu is None:
            menu = window.menuBar().addMenu("&Edit")
            menu.setObjectName("edit_menu")
        else:
            menu.addSeparator()

        def action(text: str, slot: Callable[[], None], shortcut: object = None) -> QAction:
            act = QAction(text, window)
            act.triggered.connect(slot)
            if shortcut is not None:
                act.setShortcut(shortcut)  # type: ignore[arg-type]
            menu.addAction(act)
            return act

        self.undo_action = action("Undo Move to Trash", self.undo_last_trash,
                                  QKeySequence.StandardKey.Undo)
        self.recent_action = action("Recently Trashed…", self.show_recently_trashed)
        menu.addSeparator()
        self.ignore_list_action = action("Not Duplicates List…", self.show_ignore_list)
        menu.addSeparator()
        self.reset_action = action("Reset Marks", self.reset_all_marks)
        self.reset_group_action = action("Reset Marks in This Group", self.reset_group_marks)

    def add_image_actions(self, menu: QMenu, row: int, member_index: int) -> None:
        """The photo's right-click menu: not a duplicate of the keeper, or of each other."""
        menu.addSeparator()
        if member_index > 0:
            menu.addAction("Not a Duplicate of the Keeper").triggered.connect(
                lambda: self.not_duplicates(row, [0, member_index])
            )
        menu.addAction("Not Duplicates (whole group)").triggered.connect(
            lambda: self.not_duplicates(row, None)
        )
        menu.addAction("Reset Marks in This Group").triggered.connect(
            lambda: self._reset_rows([row])
        )

    # Not duplicates
    def not_duplicates(self, row: int, member_indexes: list[int] | None) -> None:
        """Keep these members of group `row` (None: all of them) apart from each other."""
        model = self._window.group_model
        if not 0 <= row < model.rowCount():
            return
        group = model.group(row)
        chosen = [
            group.members[i].record
            for i in (range(len(group.members)) if member_indexes is None else member_indexes)
        ]
        self.keep_apart(chosen)

    def keep_apart(self, records: list[ImageRecord]) -> None:
        def start() -> None:
            index = self._window.similarity_index
            if index is None:
                self._window.statusBar().showMessage("Scan first: there are no groups.", 8000)
                return
            job = ApartJob(self.decisions, index, records)
            job.noted.connect(self._on_noted)
            self._window.run_decision_job(job, "Keeping them apart…")

        self._when_idle(start)

    def _on_compare_not_duplicates(self, row: int, first: int, second: int) -> None:
        self.not_duplicates(row, [first, second])

    def _on_noted(self, message: str) -> None:
        self._window.statusBar().showMessage(message, 10000)

    def show_ignore_list(self) -> NotDuplicatesDialog:
        if self.ignore_dialog is None:
            self.ignore_dialog = NotDuplicatesDialog(self.decisions, self._window)
            self.ignore_dialog.changed.connect(self._on_ignore_list_changed)
            self.ignore_dialog.finished.connect(self._on_ignore_dialog_closed)
        self.ignore_dialog.show()
        self.ignore_dialog.raise_()
        return self.ignore_dialog

    def _on_ignore_dialog_closed(self) -> None:
        if self.ignore_dialog is not None:
            self.ignore_dialog.deleteLater()
            self.ignore_dialog = None

    def _on_ignore_list_changed(self) -> None:
        """Entries removed: the pairs they kept apart may group again (a new build)."""
        self._when_idle(self._window.rebuild_groups)

    # Marks and reviewed groups
    def _on_marks_edited(self, edits: Iterable[MarkEdit]) -> None:
        # Saved marks waiting are those of files in no group shown (groups_shown), and
        # only files in a group shown are edited: nothing to drop from them here.
        self._pending_marks.append(edits)
        self._save_timer.start()

    def flush_marks(self) -> None:
        self._save_timer.stop()
        if self._pending_marks:
            self.decisions.save_marks(itertools.chain.from_iterable(self._pending_marks))
            self._pending_marks = []

    def _on_reviewed(self, group: object) -> None:
        self.decisions.save_reviewed([group])  # type: ignore[list-item]

    def _on_current_changed(self, row: int, _member_index: int) -> None:
        model = self._window.group_model
        self._looked_at = model.group(row) if 0 <= row < model.rowCount() else None
        if self._looked_at is None:
            self._review_timer.stop()
        else:
            self._review_timer.start()

    def _on_looked_long_enough(self) -> None:
        row = self._window.group_view.current_row()
        model = self._window.group_model
        if 0 <= row < model.rowCount() and model.group(row) is self._looked_at:
            model.mark_reviewed(row)

    def on_saved_loaded(self, saved: SavedDecisions) -> None:
        """A scan read the saved marks of its files: applied once the groups show them."""
        self._saved_marks = dict(saved.marks)
        self._window.group_model.add_reviewed_keys(saved.reviewed)

    def groups_shown(self) -> None:
        """Saved marks of the files now in a group are applied; a mark the user changed
        this session wins over the saved one."""
        if not self._saved_marks:
            return
        model = self._window.group_model
        changed = model.marks.overrides
        # Every group, shown or filtered out: the marks cover them all.
        grouped = {path for path in self._saved_marks if model.position_of_path(path) is not None}
        shown = {
            path: keep for path, keep in self._saved_marks.items()
            if path in grouped and path not in changed
        }
        if shown:
            model.load_marks(shown)
            self._window.compare_view.refresh_marks()
        for path in grouped:
            del self._saved_marks[path]

    def reset_all_marks(self) -> None:
        """Every group back to the suggestions; saved marks of files not in a group at
        this similarity are forgotten too."""
        result = self._window.scan_result
        if self._saved_marks and result is not None:
            waiting = [r for r in result.records if r.path in self._saved_marks]
            self.decisions.save_marks([(record, None) for record in waiting])
        self._saved_marks = {}
        self._reset_rows(None)

    def reset_group_marks(self) -> None:
        row = self._window.group_view.current_row()
        if row >= 0:
            self._reset_rows([row])

    def _reset_rows(self, rows: list[int] | None) -> None:
        change = self._window.group_model.reset_marks(rows)
        self._window.compare_view.refresh_marks()
        where = "in this group" if rows is not None else "everywhere"
        self._window.statusBar().showMessage(
            f"Back to the suggested marks {where} ({change.changed:,} changed).", 8000
        )

    # Trash log
    def on_trash_logged(self, batch_id: object) -> None:
        self._last_batch = batch_id if isinstance(batch_id, int) else None

    def can_undo(self) -> bool:
        return self._last_batch is not None

    def undo_last_trash(self) -> None:
        """The batch just trashed, else the newest one with files still in the trash."""
        self.restore_batch(self._last_batch)

    def restore_batch(self, batch_id: int | None) -> None:
        def start() -> None:
            job = RestoreJob(self.decisions, batch_id)
            job.finished.connect(self._on_restored)
            self._window.run_decision_job(job, "Putting files back from the trash…")

        self._when_idle(start)

    def _on_restored(self, batch: TrashBatch | None, outcomes: list[RestoreOutcome]) -> None:
        if batch is not None and batch.batch_id == self._last_batch:
            self._last_batch = None
        if batch is None:
            self._window.statusBar().showMessage("There is no Move to Trash to undo.", 8000)
            return
        if any(o.restored_to for o in outcomes):
            self._when_idle(self._window.start_scan)  # shows what came back, grouped again
        text, details, warning = restore_report(outcomes)
        by_hand = [o for o in outcomes if o.result is RestoreResult.BY_HAND]
        if by_hand:
            open_system_trash(by_hand[0].original_path)
        (dialogs.warn if warning else dialogs.inform)(
            self._window, "Restore from the Trash", text, details
        )

    def show_recently_trashed(self) -> RecentlyTrashedDialog:
        if self.trash_dialog is None:
            self.trash_dialog = RecentlyTrashedDialog(self.decisions, self._window)
            self.trash_dialog.restore_requested.connect(self.restore_batch)
            self.trash_dialog.finished.connect(self._on_trash_dialog_closed)
        self.trash_dialog.show()
        self.trash_dialog.raise_()
        return self.trash_dialog

    def _on_trash_dialog_closed(self) -> None:
        if self.trash_dialog is not None:
            self.trash_dialog.deleteLater()
            self.trash_dialog = None

    # Plumbing
    def _when_idle(self, start: Callable[[], None]) -> None:
        """Start now, or once the window's current job (a scan, a regroup) is done."""
        if self._closed:
            return
        if self._window.is_busy():
            QTimer.singleShot(IDLE_RETRY_MS, lambda: self._when_idle(start))
            return
        start()

    def _on_problem(self, message: str) -> None:
        self._window.statusBar().showMessage(message, 20000)

    def close(self) -> None:
        """The window closes: save what is pending, finish the writes, close the store."""
        self._closed = True
        self._review_timer.stop()
        self.flush_marks()
        self.decisions.close()
