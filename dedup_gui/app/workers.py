"""Long jobs run off the GUI thread: each is a QObject moved to its own QThread and reports
back by signals (queued to the GUI thread). They only call the core."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from PySide6.QtCore import QObject, Qt, QThread, Signal, SignalInstance, Slot

from dedup_gui.core.grouping.candidates import Cancelled
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.keeper import DEFAULT_KEEPER_RULES, KeeperRule
from dedup_gui.core.models import (
    CancelToken,
    DuplicateGroup,
    ImageRecord,
    ScanError,
    ScanProgress,
    ScanResult,
)
from dedup_gui.core.output.export import write_export
from dedup_gui.core.output.output_file import OutputGuard, open_output
from dedup_gui.core.scanning.cache import HashCache
from dedup_gui.core.scanning.scanner import ScanOptions, scan
from dedup_gui.core.trash.actions import RemovalPlan, TrashFunction, TrashProgress, execute_removal

PROGRESS_INTERVAL_SECONDS = 0.05
"""At most ~20 progress updates a second reach the GUI, however fast files are hashed."""


class _Throttle:
    def __init__(self, emit: Callable[[object], None]) -> None:
        self._emit = emit
        self._last = 0.0

    def __call__(self, value: object, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= PROGRESS_INTERVAL_SECONDS:
            self._last = now
            self._emit(value)


class ScanJob(QObject):
    """Scan the folders (or take already-scanned records), then build the similarity index.
    Records that are all in `shrink_from` (after a trash or a folder removal) take that
    index minus the others instead of a new one: a fraction of a second at 100k images,
    not several.

    Cancelling during the scan keeps every hashed file and still groups them; cancelling
    during grouping ends the job without groups.
    """

    scan_progress = Signal(object)
    """ScanProgress"""
    grouping_started = Signal(int)
    """Number of images being compared."""
    grouping_progress = Signal(int, int)
    """(done, total) steps of the comparison."""
    finished = Signal(object, object)
    """(ScanResult, SimilarityIndex or None when grouping was cancelled)"""
    failed = Signal(str)

    def __init__(
        self,
        roots: Sequence[str] = (),
        *,
        records: Sequence[ImageRecord] | None = None,
        options: ScanOptions | None = None,
        match_transforms: bool = False,
        shrink_from: SimilarityIndex | None = None,
        deep: bool = False,
        descriptors: object = None,
    ) -> None:
        super().__init__()
        self._deep = deep
        """Also deep matches (core/deep): descriptors in the scan, deep links in the index."""
        self._descriptors = descriptors
        """With `records`: the scan's ScanResult.descriptors."""
        self._roots = list(roots)
        self._records = None if records is None else list(records)
        self._shrink_from = shrink_from
        self._options = options
        self._match_transforms = match_transforms
        self._scan_cancel = CancelToken()
        self._group_cancel = CancelToken()
        self._grouping = False

    def cancel(self) -> None:
        """Thread-safe; stops whichever phase is running."""
        self._scan_cancel.cancel()
        if self._grouping:
            self._group_cancel.cancel()

    def stop(self) -> None:
        """Thread-safe; stops the scan and skips the grouping too (the window is closing)."""
        self._scan_cancel.cancel()
        self._group_cancel.cancel()

    @Slot()
    def run(self) -> None:
        try:
            result = self._scan()
            self._grouping = True
            self.grouping_started.emit(len(result.records))
            index = self._shrunk_index(result.records)
            if index is None:
                throttle = _Throttle(lambda step: self.grouping_progress.emit(*step))
                try:
                    index = SimilarityIndex.build(
                        result.records,
                        match_transforms=self._match_transforms,
                        progress=lambda done, total: throttle((done, total), force=done == total),
                        cancel=self._group_cancel,
                        deep=_deep_search(result) if self._deep else None,
                    )
                except Cancelled:
                    index = None
            self.finished.emit(result, index)
        except Exception as error:  # shown to the user; the window stays usable
            self.failed.emit(f"{type(error).__name__}: {error}")

    def _shrunk_index(self, records: Sequence[ImageRecord]) -> SimilarityIndex | None:
        """`shrink_from` without the records not in `records`, or None when it cannot
        stand for a new build (other settings, or records it does not have)."""
        base = self._shrink_from
        if base is None or base.match_transforms != self._match_transforms:
            return None
        if (base.deep_links is not None) != self._deep:
            return None
        base_records = {record.path: record for record in base.records}
        if any(base_records.get(record.path) is not record for record in records):
            return None
        wanted = {record.path for record in records}
        return base.without(set(base_records) - wanted)

    def _scan(self) -> ScanResult:
        if self._records is not None:
            return ScanResult(records=self._records, descriptors=self._descriptors)
        throttle = _Throttle(self.scan_progress.emit)

        def report(progress: ScanProgress) -> None:
            throttle(progress, force=progress.phase == "done")

        with HashCache.open_default() as cache:
            return scan(
                self._roots,
                cache=cache,
                options=_with_deep_hook(self._options, cache) if self._deep else self._options,
                progress=report,
                cancel=self._scan_cancel,
            )


def _with_deep_hook(options: ScanOptions | None, cache: HashCache) -> ScanOptions:
    from dedup_gui.core.deep.session import scan_hook

    return replace(options or ScanOptions(), descriptors=scan_hook(cache))


def _deep_search(result: ScanResult) -> object:
    from dedup_gui.core.deep.session import deep_search

    return deep_search(result.descriptors)


class RegroupJob(QObject):
    """Cut the groups at `similarity` when the index has no keeper ranking yet for these
    reference folders: ranking every image (and checking the reference folders on disk)
    takes a second at 100k images. The caller lets no other thread use the index until
    this job reports."""

    finished = Signal(int, object)
    """(request, list[DuplicateGroup])"""
    failed = Signal(int, str)
    """(request, message)"""

    def __init__(
        self,
        request: int,
        index: SimilarityIndex,
        similarity: float,
        reference_folders: Sequence[str],
        keeper_rules: Sequence[KeeperRule] = DEFAULT_KEEPER_RULES,
    ) -> None:
        super().__init__()
        self.request = request
        self._index = index
        self._similarity = similarity
        self._reference_folders = tuple(reference_folders)
        self._keeper_rules = tuple(keeper_rules)

    def cancel(self) -> None:
        """A cut cannot be interrupted; a result nobody wants any more is dropped."""

    @Slot()
    def run(self) -> None:
        try:
            groups = self._index.groups(
                self._similarity,
                reference_folders=self._reference_folders,
                keeper_rules=self._keeper_rules,
            )
        except Exception as error:  # shown to the user; the window stays usable
            self.failed.emit(self.request, f"{type(error).__name__}: {error}")
            return
        self.finished.emit(self.request, groups)


class TrashJob(QObject):
    """Carry out a confirmed removal plan; every file is re-checked by the core first,
    against the plan's roots (those of the scan the groups came from)."""

    progress = Signal(object)
    """TrashProgress"""
    finished = Signal(object)
    """TrashReport"""
    failed = Signal(str)

    def __init__(self, plan: RemovalPlan, trash: TrashFunction | None = None) -> None:
        super().__init__()
        self._plan = plan
        self._trash = trash
        self._cancel = CancelToken()

    def cancel(self) -> None:
        self._cancel.cancel()

    @Slot()
    def run(self) -> None:
        throttle = _Throttle(self.progress.emit)

        def report(progress: TrashProgress) -> None:
            throttle(progress, force=progress.done == progress.total)

        try:
            report_ = execute_removal(
                self._plan, trash=self._trash, progress=report, cancel=self._cancel
            )
        except Exception as error:  # shown to the user; the window stays usable
            self.failed.emit(f"{type(error).__name__}: {error}")
            return
        self.finished.emit(report_)


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


def start_in_thread(
    job: QObject, parent: QObject, done_signals: Sequence[SignalInstance]
) -> QThread:
    """Move `job` to a new QThread, start `job.run` there, and quit the thread when any of
    `done_signals` fires. The caller keeps the returned thread (and job) alive until then."""
    thread = QThread(parent)
    job.moveToThread(thread)
    thread.started.connect(job.run)  # type: ignore[attr-defined]
    for signal in done_signals:
        # Direct: the thread must quit even while the GUI thread is blocked waiting for it.
        signal.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    thread.start()
    return thread
