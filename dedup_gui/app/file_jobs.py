"""The jobs that act on files: move the marked copies to the trash or into a folder, put a
Move to Trash back, export the groups."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal, Slot

from dedup_gui.app.decisions import Decisions
from dedup_gui.app.job_threads import Throttle
from dedup_gui.core.decisions.trash_log import trashed_entries
from dedup_gui.core.models import CancelToken, DuplicateGroup, ScanError
from dedup_gui.core.output.export import write_export
from dedup_gui.core.output.output_file import OutputGuard, open_output
from dedup_gui.core.trash.actions import RemovalPlan, TrashFunction, TrashProgress, execute_removal
from dedup_gui.core.trash.move_to_folder import move_marked


class TrashJob(QObject):
    """Carry out a confirmed removal plan; every file is re-checked by the core first,
    against the plan's roots (those of the scan the groups came from)."""

    progress = Signal(object)
    """TrashProgress"""
    logged = Signal(object)
    """The trash log's batch id of the files that went (int), or None; before `finished`."""
    finished = Signal(object)
    """TrashReport"""
    failed = Signal(str)

    def __init__(
        self,
        plan: RemovalPlan,
        trash: TrashFunction | None = None,
        decisions: Decisions | None = None,
    ) -> None:
        super().__init__()
        self._plan = plan
        self._decisions = decisions
        self._trash = trash
        self._cancel = CancelToken()

    def cancel(self) -> None:
        self._cancel.cancel()

    @Slot()
    def run(self) -> None:
        throttle = Throttle(self.progress.emit)

        def report(progress: TrashProgress) -> None:
            throttle(progress, force=progress.done == progress.total)

        try:
            report_ = execute_removal(
                self._plan, trash=self._trash, progress=report, cancel=self._cancel
            )
        except Exception as error:  # shown to the user; the window stays usable
            self.failed.emit(f"{type(error).__name__}: {error}")
            return
        if self._decisions is not None:
            self.logged.emit(self._decisions.record_trash(trashed_entries(self._plan, report_)))
        self.finished.emit(report_)


class RestoreJob(QObject):
    """Put a logged Move to Trash back (`batch_id` None: the newest with files still in the
    trash); never over a file (the core restores beside it)."""

    finished = Signal(object, object)
    """(TrashBatch or None, list[RestoreOutcome])"""
    failed = Signal(str)

    def __init__(self, decisions: Decisions, batch_id: int | None) -> None:
        super().__init__()
        self._decisions = decisions
        self._batch_id = batch_id

    def cancel(self) -> None:
        """A restore runs to the end: stopping halfway would leave a batch split."""

    @Slot()
    def run(self) -> None:
        try:
            batch, outcomes = self._decisions.restore(self._batch_id)
        except Exception as error:  # shown to the user; the window stays usable
            self.failed.emit(f"{type(error).__name__}: {error}")
            return
        self.finished.emit(batch, outcomes)


class ExportJob(QObject):
    """Write the groups as CSV (or JSON, by the file's extension) with the core's exporter."""

    finished = Signal(str, int)
    """(path, number of groups written)"""
    failed = Signal(str)

    def __init__(
        self,
        path: str,
        groups: Sequence[DuplicateGroup],
        errors: Sequence[ScanError],
        similarity: float,
    ) -> None:
        super().__init__()
        self._path = path
        self._groups = list(groups)
        self._errors = list(errors)
        self._similarity = similarity

    def cancel(self) -> None:
        """Exports are short; they always run to the end."""

    @Slot()
    def run(self) -> None:
        export_format = "json" if self._path.lower().endswith(".json") else "csv"
        try:
            # Never over a photo, or over any file that is not an earlier export.
            records = [member.record for group in self._groups for member in group.members]
            guard = OutputGuard().with_scanned(records, self._errors)
            with open_output(self._path, guard) as stream:
                write_export(stream, export_format, self._groups, self._errors, self._similarity)
        except OSError as error:
            self.failed.emit(f"Could not write {self._path}: {error.strerror or error}")
            return
        self.finished.emit(self._path, len(self._groups))


class MoveJob(QObject):
    """Carry out a confirmed removal plan by moving the files into `target` (same re-checks
    as the trash)."""

    progress = Signal(object)
    """TrashProgress"""
    finished = Signal(object, str)
    """(MoveReport, target)"""
    failed = Signal(str)

    def __init__(self, plan: RemovalPlan, target: str) -> None:
        super().__init__()
        self._plan = plan
        self._target = target
        self._cancel = CancelToken()

    def cancel(self) -> None:
        self._cancel.cancel()

    @Slot()
    def run(self) -> None:
        throttle = Throttle(self.progress.emit)

        def report(progress: TrashProgress) -> None:
            throttle(progress, force=progress.done == progress.total)

        try:
            moved = move_marked(self._plan, self._target, progress=report, cancel=self._cancel)
        except Exception as error:  # shown to the user; the window stays usable
            self.failed.emit(f"{type(error).__name__}: {error}")
            return
        self.finished.emit(moved, self._target)
