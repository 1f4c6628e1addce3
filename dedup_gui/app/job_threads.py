"""The plumbing every long job shares: a job is a QObject moved to its own QThread that
reports back by signals (queued to the GUI thread); `start_in_thread` starts one,
`JobOwner` runs a dialog's one job, `Throttle` spaces its progress reports. Jobs only call
the core."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Qt, QThread, SignalInstance

PROGRESS_INTERVAL_SECONDS = 0.05
"""At most ~20 progress updates a second reach the GUI, however fast files are hashed."""


class Throttle:
    """Passes a progress value on at most every PROGRESS_INTERVAL_SECONDS (or when forced)."""

    def __init__(self, emit: Callable[[object], None]) -> None:
        self._emit = emit
        self._last = 0.0

    def __call__(self, value: object, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= PROGRESS_INTERVAL_SECONDS:
            self._last = now
            self._emit(value)


def start_in_thread(
    job: QObject,
    parent: QObject,
    done_signals: Sequence[SignalInstance],
    on_finished: Callable[[], None] | None = None,
) -> QThread:
    """Move `job` to a new QThread, start `job.run` there, and quit the thread when any of
    `done_signals` fires. The caller keeps the returned thread (and job) alive until
    `on_finished` (a slot of a QObject on the GUI thread) hears that the thread stopped."""
    thread = QThread(parent)
    job.moveToThread(thread)
    thread.started.connect(job.run)  # type: ignore[attr-defined]
    for signal in done_signals:
        # Direct: the thread must quit even while the GUI thread is blocked waiting for it.
        signal.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    if on_finished is not None:
        # Before start: a quick job's thread can stop before the next line of the caller.
        thread.finished.connect(on_finished)
    thread.start()
    return thread


def forget_finished(running: dict[QThread, QObject], thread: QObject | None) -> None:
    """Drop a stopped thread (the sender of its `finished`) and its job from `running`;
    both are deleted by Qt once no queued report refers to them."""
    if isinstance(thread, QThread):
        job = running.pop(thread, None)
        if job is not None:
            job.deleteLater()
        thread.deleteLater()


class JobOwner(QObject):
    """Runs one job at a time for a dialog and keeps it (and its thread) alive until the
    thread has stopped; `shut_down` cancels it and waits, for when the window closes."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._running: dict[QThread, QObject] = {}
        self.job: QObject | None = None

    def start(self, job: QObject, done_signals: Sequence[SignalInstance]) -> None:
        self.job = job
        thread = start_in_thread(job, self, done_signals, self._on_thread_finished)
        self._running[thread] = job

    def busy(self) -> bool:
        return self.job is not None

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()  # type: ignore[attr-defined]

    def shut_down(self, msecs: int = 5000) -> None:
        self.cancel()
        self.job = None
        for thread in list(self._running):
            thread.wait(msecs)

    def done(self) -> None:
        """The job reported (its handlers call this first); its thread ends on its own."""
        self.job = None

    def _on_thread_finished(self) -> None:
        forget_finished(self._running, self.sender())
