"""The scan's lifecycle in the window: start a scan (or a regroup of the scanned records),
its progress, the snapshot shown while the scan checks it, and the result it leaves."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from dedup_gui.app.formatting import format_count
from dedup_gui.app.scan_jobs import ScanJob
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.models import ScanProgress, ScanResult
from dedup_gui.core.scanning.scanner import ScanOptions

if TYPE_CHECKING:
    from dedup_gui.app.main_window import MainWindow

_COUNTING_IMAGES = frozenset({"discovering", "hashing"})
"""Phases whose progress counts images; the passes after hashing count pairs or checks
(the progress bar says what), so the hint keeps the count of images."""


class ScanFlow(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.result: ScanResult | None = None
        """The last scan (minus files trashed since), or None before the first one."""
        self.index: SimilarityIndex | None = None
        self._scan_job: ScanJob | None = None
        """The last scan of folders started."""
        self._unsaved: ScanJob | None = None
        """The scan whose grouping's snapshot waits for its groups to be painted."""

    def start_scan(self) -> None:
        window = self._window
        roles = window.folder_panel.roles()
        roots = roles.scan_roots()
        if window.jobs.job is not None or not roots:
            window.status.update_state()
            return
        job = ScanJob(
            roots,
            options=ScanOptions(
                follow_links=window.follow_links_box.isChecked(),
                excluded_folders=tuple(roles.excluded_folders()),
            ),
            match_transforms=window.transforms_box.isChecked(),
            decisions=window.decisions_ui.decisions,
            deep=window.deep_option.enabled(),
            deep_model=window.deep_option.model_file(),
            use_snapshot=self.result is None,  # opening: the last grouping shows first
            save_when_shown=True,
        )
        job.saved_loaded.connect(window.decisions_ui.on_saved_loaded)
        job.scan_progress.connect(self._on_scan_progress)
        job.grouping_started.connect(self._on_grouping_started)
        job.grouping_progress.connect(self._on_grouping_progress)
        job.finished.connect(self._on_scan_finished)
        job.failed.connect(window.jobs.on_failed)
        job.snapshot_loaded.connect(self._on_snapshot_loaded)
        job.checked_unchanged.connect(self._on_checked_unchanged)
        job.changed_since_snapshot.connect(
            lambda paths: window.group_model.marks.put_many((), paths)  # back to suggestions
        )
        window.progress_panel.start("Looking for images…")
        self._scan_job = job
        window.jobs.start(job, [job.finished, job.failed, job.checked_unchanged])
        if self.result is None:  # not "Ready to scan" while a snapshot or the cache is read
            window.empty_state.show_hint("Scanning…", "Looking for images…")

    def regroup_records_in_background(
        self, result: ScanResult, shrink_from: SimilarityIndex | None = None
    ) -> None:
        """Group `result`'s records again; those that are a subset of `shrink_from`'s (files
        trashed, a folder removed) reuse its verified pairs."""
        window = self._window
        job = ScanJob(
            records=result.records,
            match_transforms=window.transforms_box.isChecked(),
            shrink_from=shrink_from,
            decisions=window.decisions_ui.decisions,
            deep=window.deep_option.enabled() and result.descriptors is not None,
            descriptors=result.descriptors,
        )
        job.grouping_started.connect(self._on_grouping_started)
        job.grouping_progress.connect(self._on_grouping_progress)
        job.finished.connect(self.on_regrouped)
        job.failed.connect(window.jobs.on_failed)
        window.progress_panel.start("Updating groups…")
        window.jobs.start(job, [job.finished, job.failed])

    def groups_shown(self) -> None:
        """The window is showing a grouping: a scan's snapshot waiting for it is written
        once it is painted."""
        if self._unsaved is not None:
            QTimer.singleShot(100, self._release_snapshot)

    def _release_snapshot(self) -> None:
        job, self._unsaved = self._unsaved, None
        if job is not None:
            job.groups_shown()

    def _on_scan_progress(self, progress: ScanProgress) -> None:
        window = self._window
        window.progress_panel.show_scan_progress(progress)
        if window.jobs.checking_snapshot:
            window.progress_panel.label.setText(
                f"Checking for changes…  {window.progress_panel.label.text()}"
            )
        if self.result is None and progress.phase in _COUNTING_IMAGES:
            window.empty_state.show_hint("Scanning…", f"{progress.done:,} images so far")

    def _on_grouping_started(self, count: int) -> None:
        # start() re-enables Cancel: after a cancelled scan it must work for this step too.
        self._window.progress_panel.start(f"Comparing {format_count(count, 'image')}…")

    def _on_grouping_progress(self, done: int, total: int) -> None:
        self._window.progress_panel.show_count(done, total, "Comparing images…")

    def _on_scan_finished(self, result: ScanResult, index: SimilarityIndex | None) -> None:
        window = self._window
        self._release_snapshot()  # an earlier scan's, if its groups never showed
        self._unsaved = self._scan_job  # its snapshot is written once its groups show
        # An edited file has a new size or mtime, so a new cache key; one that could not be
        # shown before is tried again.
        window.thumbnails.retry_failed()
        within = window.intake.within_folders(result)
        if within is not None:
            # A folder was removed during the scan: its images must not be offered for review.
            window.jobs.end()
            self.result = within
            self.regroup_records_in_background(within, shrink_from=index)
            return
        self._show_scan_result(result, index)

    def _on_snapshot_loaded(self, result: ScanResult, index: SimilarityIndex) -> None:
        """The last grouping of these folders, shown while the scan checks for changes."""
        window = self._window
        self.result, self.index = result, index
        window.jobs.checking_snapshot = True
        window.errors_view.show_scan(result)
        window.tabs.setTabText(1, window.errors_view.tab_title())
        window.regrouping.regroup()
        window.progress_panel.start("Checking for changes…")
        window.group_view.setFocus()

    def _on_checked_unchanged(self, result: ScanResult, index: SimilarityIndex) -> None:
        """Nothing changed since the grouping shown: it stands (with this scan's notes)."""
        window = self._window
        window.jobs.end()
        self.result, self.index = result, index
        window.errors_view.show_scan(result)
        window.tabs.setTabText(1, window.errors_view.tab_title())
        if result.warnings:
            window.statusBar().showMessage("  ".join(result.warnings), 15000)

    def _show_scan_result(self, result: ScanResult, index: SimilarityIndex | None) -> None:
        window = self._window
        window.jobs.end()
        self.result = result
        self.index = index
        window.errors_view.show_scan(result)
        window.tabs.setTabText(1, window.errors_view.tab_title())
        window.regrouping.regroup()
        notes = list(result.warnings)
        if result.cancelled:
            notes.append(
                f"Scan cancelled: showing the {len(result.records):,} images hashed so far."
            )
        if index is None:
            notes.append("Comparing was cancelled. Scan again to see the groups.")
        if notes:
            window.statusBar().showMessage("  ".join(notes), 15000)
        window.group_view.setFocus()

    def on_regrouped(self, _records_only: ScanResult, index: SimilarityIndex | None) -> None:
        # The job only saw the records; keep the scan's errors and counts.
        assert self.result is not None
        self._show_scan_result(self.result, index)

    def on_transforms_toggled(self, checked: bool) -> None:
        window = self._window
        window.settings.set_match_transforms(checked)
        if self.result is not None and window.jobs.job is None:
            self.regroup_records_in_background(self.result)

    def on_deep_toggled(self, checked: bool) -> None:
        """Deep matches need descriptors from a scan: scan again (the hashes are cached)."""
        if self.result is not None and self._window.jobs.job is None:
            if checked and self.result.descriptors is None:
                self.start_scan()
            else:
                self.regroup_records_in_background(self.result)

    def on_deep_model_changed(self) -> None:
        """Another model's descriptors: scan again (the hashes, and its own, are cached)."""
        window = self._window
        if window.deep_option.enabled() and self.result is not None and window.jobs.job is None:
            self.start_scan()

    def rebuild_groups(self) -> None:
        """Compare the scanned images again (the "not duplicates" list lost entries)."""
        if self.result is not None and self._window.jobs.job is None:
            self.regroup_records_in_background(self.result)

    def forget_trashed(self, trashed: set[str]) -> None:
        """Files moved to the trash (here or from the Find window) leave the groups at once
        and the results; the groups are recomputed when no other job runs."""
        window = self._window
        window.thumbnails.forget(trashed)
        window.group_model.remove_paths(trashed)
        if self.result is None or not trashed:
            return
        remaining = [r for r in self.result.records if r.path not in trashed]
        if len(remaining) == len(self.result.records):
            return
        self.result = dataclasses.replace(self.result, records=remaining)
        if window.jobs.job is None:
            self.regroup_records_in_background(self.result, shrink_from=self.index)

