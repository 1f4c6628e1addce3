"""The window's jobs: one at a time (a scan, a removal, an export...) behind the progress
panel, plus the threads of jobs that run beside it (a regroup, a rule chain); each job
is kept alive until its thread has stopped."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread

from dedup_gui.app import dialogs
from dedup_gui.app.job_threads import forget_finished, start_in_thread
from dedup_gui.app.review_jobs import ApartJob

if TYPE_CHECKING:
    from dedup_gui.app.main_window import MainWindow


class WindowJobs(QObject):
    """Every job's signals go to a method of this object or of another window helper (all
    QObjects on the GUI thread, never a lambda), so Qt queues the call to the GUI thread."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.job: QObject | None = None
        self.checking_snapshot = False
        """The groups shown are a snapshot's and the running scan checks them."""
        self.job_thread: QThread | None = None
        self.running_jobs: dict[QThread, QObject] = {}
        # Reports queued before the window closed still arrive afterwards; they must not
        # start new work, whose thread would die with the window.
        self.closed = False

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()  # type: ignore[attr-defined]

    def start(self, job: QObject, done_signals: list) -> None:
        if self.closed:
            return
        self.job = job
        self.job_thread = self.start_thread(job, done_signals)
        self._window.status.update_state()

    def start_thread(self, job: QObject, done_signals: list) -> QThread:
        thread = start_in_thread(job, self._window, done_signals, self._on_thread_finished)
        # The job's Python reference lives until its thread has stopped: dropping it when
        # the job reports (while run() may still be returning) would delete a QObject that
        # another thread is using. (The finished report is queued to this thread, so it
        # comes after this line.)
        self.running_jobs[thread] = job
        return thread

    def _on_thread_finished(self) -> None:
        forget_finished(self.running_jobs, self.sender())

    def end(self) -> None:
        window = self._window
        self.job = None
        self.checking_snapshot = False
        self.job_thread = None
        window.progress_panel.hide()
        window.status.update_state()

    def on_failed(self, message: str) -> None:
        self.end()
        dialogs.warn(self._window, "Something went wrong", message)

    def run_decision_job(self, job: QObject, message: str) -> None:
        """Start a job of decisions_ui's; one that makes a new index (finished(None, index))
        shows its groups."""
        window = self._window
        job.finished.connect(self.end)  # type: ignore[attr-defined]
        if isinstance(job, ApartJob):
            job.finished.connect(window.scan_flow.on_regrouped)
        job.failed.connect(self.on_failed)  # type: ignore[attr-defined]
        window.progress_panel.start(message)
        self.start(job, [job.finished, job.failed])  # type: ignore[attr-defined]

