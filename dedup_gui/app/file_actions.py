"""The window's actions on the marked files and the groups: Move to Trash, Move Marked
Copies to Folder, Export Results (confirmed by trash_flow / move_flow, run as file_jobs)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from dedup_gui.app import dialogs
from dedup_gui.app.file_jobs import ExportJob, MoveJob, TrashJob
from dedup_gui.app.formatting import format_count
from dedup_gui.app.move_flow import TITLE as MOVE_TITLE
from dedup_gui.app.move_flow import (
    confirmed_move_plan,
    move_details,
    move_summary,
    target_problem,
)
from dedup_gui.app.paths import display_path
from dedup_gui.app.trash_flow import confirmed_removal_plan, show_trash_report
from dedup_gui.core.models import DuplicateGroup
from dedup_gui.core.trash.actions import TrashProgress, TrashReport
from dedup_gui.core.trash.move_to_folder import MoveReport

if TYPE_CHECKING:
    from dedup_gui.app.main_window import MainWindow


class FileActions(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window

    def move_to_trash(self) -> None:
        window = self._window
        if window.is_busy():
            return
        if window.scan_flow.result is None:
            return
        plan = confirmed_removal_plan(
            window, window.group_model.groups(), window.group_model.trash_selection(),
            roots=window.scan_flow.result.roots,  # the scan these groups came from
        )
        if plan is None:
            return
        job = TrashJob(plan, decisions=window.decisions_ui.decisions)
        job.logged.connect(window.decisions_ui.on_trash_logged)
        job.progress.connect(self._on_trash_progress)
        job.finished.connect(self._on_trash_finished)
        job.failed.connect(window.jobs.on_failed)
        window.progress_panel.start("Moving to the trash…")
        window.jobs.start(job, [job.finished, job.failed])

    def _on_trash_progress(self, progress: TrashProgress) -> None:
        self._window.progress_panel.show_count(
            progress.done, progress.total,
            f"Moving to the trash: {progress.done:,} / {progress.total:,}",
        )

    def _on_trash_finished(self, report: TrashReport) -> None:
        window = self._window
        window.jobs.end()
        window.scan_flow.forget_trashed({outcome.path for outcome in report.trashed})
        if show_trash_report(window, report, can_undo=window.decisions_ui.can_undo()):
            window.decisions_ui.undo_last_trash()

    def move_to_folder(self) -> None:
        """The marked copies into a folder the user picks, with the trash's checks."""
        window = self._window
        if window.is_busy() or window.scan_flow.result is None:
            return
        target = dialogs.choose_folder(window, "Move the marked copies into")
        if not target:
            return
        problem = target_problem(target, window.scan_flow.result.roots)
        if problem:
            dialogs.warn(window, MOVE_TITLE, problem)
            return
        plan = confirmed_move_plan(
            window, window.group_model.groups(), window.group_model.trash_selection(),
            roots=window.scan_flow.result.roots, target=target,
        )
        if plan is None:
            return
        job = MoveJob(plan, target)
        job.progress.connect(self._on_trash_progress)
        job.finished.connect(self._on_move_finished)
        job.failed.connect(window.jobs.on_failed)
        window.progress_panel.start(f"Moving to {display_path(target)}…")
        window.jobs.start(job, [job.finished, job.failed])

    def _on_move_finished(self, report: MoveReport, target: str) -> None:
        window, scan = self._window, self._window.scan_flow
        window.jobs.end()
        moved = {outcome.path for outcome in report.moved}
        window.thumbnails.forget(moved)
        window.group_model.remove_paths(moved)
        if scan.result is not None and moved:
            remaining = [r for r in scan.result.records if r.path not in moved]
            scan.result = dataclasses.replace(scan.result, records=remaining)
            scan.regroup_records_in_background(scan.result, shrink_from=scan.index)
        show = dialogs.warn if report.not_moved else dialogs.inform
        show(window, MOVE_TITLE, move_summary(report, target), move_details(report))

    def export_results(self) -> None:
        window = self._window
        path = dialogs.choose_export_path(window)
        if not path:
            return
        if window.is_busy():
            return
        errors = window.scan_flow.result.errors if window.scan_flow.result is not None else []
        job = ExportJob(path, self.groups_with_marks(), errors, window.similarity())
        job.finished.connect(self._on_export_finished)
        job.failed.connect(window.jobs.on_failed)
        window.progress_panel.start(f"Exporting to {path}…")
        window.jobs.start(job, [job.finished, job.failed])

    def _on_export_finished(self, path: str, group_count: int) -> None:
        window = self._window
        window.jobs.end()
        window.statusBar().showMessage(
            f"Exported {format_count(group_count, 'group')} to {path}", 8000
        )

    def groups_with_marks(self) -> list[DuplicateGroup]:
        """The groups as shown, with the user's keep/trash choices."""
        window = self._window
        return [
            DuplicateGroup(tuple(
                dataclasses.replace(member, keep=window.group_model.is_kept(member))
                for member in group.members
            ))
            for group in window.group_model.groups()
        ]

