"""The groups cut again at the slider's similarity, with the current reference folders and
keeper rules: at once when the index has their keeper ranking, else by a RegroupJob."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from dedup_gui.app import dialogs
from dedup_gui.app.group_model import COLUMNS_IN_BACKGROUND
from dedup_gui.app.scan_jobs import RegroupJob
from dedup_gui.core.decisions.review_data import ReviewData

if TYPE_CHECKING:
    from dedup_gui.app.main_window import MainWindow

REGROUP_DELAY_MS = 150
"""Slider debounce: regroup once the handle rests, not on every pixel it moves."""


class Regrouping(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        # At most one regroup job: it alone uses the index (whose caches are not
        # thread-safe) until it reports; requests made meanwhile run after it.
        self.job: RegroupJob | None = None
        self.requests = 0
        self.again = False
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(REGROUP_DELAY_MS)
        self.timer.timeout.connect(self.regroup)

    def on_slider_moved(self, value: int) -> None:
        window = self._window
        window.similarity_label.setText(f"Group images at least <b>{value}%</b> similar")
        window.settings.set_similarity(value)
        self.timer.start()

    def on_keeper_choice_changed(self) -> None:
        window = self._window
        window.settings.set_preferred_keeper(window.keeper_choice.preferred())
        window.settings.set_use_keeper_chain(window.keeper_choice.uses_chain())
        self.regroup()

    def regroup(self) -> None:
        """Show the groups at the slider's similarity with the current reference folders.
        A new reference set needs a keeper ranking (a second at 100k images, with disk
        access), made by a RegroupJob; a cached one is cut here at once."""
        window = self._window
        self.timer.stop()
        if window.jobs.closed:
            return
        if self.job is not None:
            self.again = True
            return
        if window.scan_flow.index is None:
            window._show_groups([])
            return
        references = tuple(window.folder_panel.reference_folders())
        rules = window.keeper_choice.rules()
        pairs = window.raw_pair_choice.policy()
        if window.scan_flow.index.has_keeper_context(references, rules, pairs) and not (
            window.group_model.order_needs_columns()
            and len(window.scan_flow.index.records) > COLUMNS_IN_BACKGROUND
        ):  # cut here at once; a sorted view of many files waits for the job's columns
            window._show_groups(
                window.scan_flow.index.groups(
                    window.similarity(), reference_folders=references, keeper_rules=rules,
                    raw_jpeg_policy=pairs,
                )
            )
            return
        self.requests += 1
        job = RegroupJob(
            self.requests, window.scan_flow.index, window.similarity(), references, rules, pairs,
            needs_columns=window.group_model.order_needs_columns(),
        )
        job.finished.connect(self._on_regroup_finished)
        job.failed.connect(self._on_regroup_failed)
        self.job = job
        window.jobs.start_thread(job, [job.finished, job.failed])
        window.status.update_state()

    def _on_regroup_finished(self, request: int, groups: ReviewData) -> None:
        if self._end_regroup(request):
            self._window._show_groups(groups)

    def _on_regroup_failed(self, request: int, message: str) -> None:
        window = self._window
        if self._end_regroup(request):
            window.status.update_state()
            dialogs.warn(window, "Something went wrong", message)

    def _end_regroup(self, request: int) -> bool:
        """Whether the job's result is still wanted; if a newer request came meanwhile,
        it runs now instead."""
        if self.job is None or request != self.job.request:
            return False  # the window was closed meanwhile
        self.job = None
        if self.again:
            self.again = False
            self.regroup()
            return False
        return True

