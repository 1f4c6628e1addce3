"""Long jobs run off the GUI thread: each is a QObject moved to its own QThread and reports
back by signals (queued to the GUI thread). They only call the core."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from PySide6.QtCore import (
    QObject,
    QRunnable,
    Qt,
    QThread,
    QThreadPool,
    Signal,
    SignalInstance,
    Slot,
)

from dedup_gui.app.decisions import Decisions, apart_rows
from dedup_gui.app.group_model import COLUMNS_IN_BACKGROUND
from dedup_gui.core.decisions.apply_rules import ReviewColumns, apply_chain
from dedup_gui.core.decisions.ignore_list import NotComparableError, saved_entries
from dedup_gui.core.decisions.review_data import prepare_review
from dedup_gui.core.decisions.trash_log import trashed_entries
from dedup_gui.core.grouping.candidates import Cancelled
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.keeper import DEFAULT_KEEPER_RULES, ChainRule, KeeperRule
from dedup_gui.core.grouping.raw_pairs import RawJpegPolicy
from dedup_gui.core.library import QueryResult, new_vs_library, query
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
from dedup_gui.core.scanning import snapshot
from dedup_gui.core.scanning.cache import HashCache
from dedup_gui.core.scanning.scanner import ScanOptions, scan
from dedup_gui.core.trash.actions import RemovalPlan, TrashFunction, TrashProgress, execute_removal
from dedup_gui.core.trash.move_to_folder import move_marked

CHECK_CANCELLED = (
    "Checking for changes was cancelled: showing the groups of the last scan. Scan again to"
    " check."
)
CHECK_WAIT_SECONDS = 30.0
"""Longest the check of a snapshot waits for its groups to be shown before it starts."""
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
    saved_loaded = Signal(object)
    """SavedDecisions of the scanned files (a scan of folders with `decisions` only);
    emitted before `finished`."""
    finished = Signal(object, object)
    """(ScanResult, SimilarityIndex or None when grouping was cancelled)"""
    failed = Signal(str)
    snapshot_loaded = Signal(object, object)
    """(ScanResult, SimilarityIndex) of the last grouping of these folders (`use_snapshot`),
    to show while the scan checks for changes; `saved_loaded` of its files comes first."""
    changed_since_snapshot = Signal(object)
    """Paths of the snapshot's files changed or gone (the scan found them otherwise), after
    `saved_loaded`, before `finished`: marks made on the snapshot's version no longer apply."""
    checked_unchanged = Signal(object, object)
    """(ScanResult, SimilarityIndex): the scan found the snapshot's files as they were, so
    the groups shown stand; this scan's result and the snapshot's whole index (the one
    shown holds only the grouped records) take the place of the snapshot's. Also when the
    check is cancelled (the snapshot's, with a warning). Ends the job instead of
    `finished`."""

    def __init__(
        self,
        roots: Sequence[str] = (),
        *,
        records: Sequence[ImageRecord] | None = None,
        options: ScanOptions | None = None,
        match_transforms: bool = False,
        shrink_from: SimilarityIndex | None = None,
        decisions: Decisions | None = None,
        deep: bool = False,
        descriptors: object = None,
        deep_model: str | None = None,
        use_snapshot: bool = False,
    ) -> None:
        """`decisions`: the files in the "not duplicates" list get digests and are kept
        apart, and the saved marks of a scan of folders are read back. `use_snapshot`:
        show the last grouping of these folders first (`snapshot_loaded`), then scan.
        A scan of folders that groups every file saves its grouping for next time."""
        super().__init__()
        self._use_snapshot = use_snapshot
        self._check_may_start = threading.Event()
        self._decisions = decisions
        self._deep = deep
        """Also deep matches (core/deep): descriptors in the scan, deep links in the index."""
        self._descriptors = descriptors
        self._deep_model = deep_model
        """The ONNX file chosen in the app (None: the built-in model)."""
        """With `records`: the scan's ScanResult.descriptors."""
        self._roots = list(roots)
        self._records = None if records is None else list(records)
        self._shrink_from = shrink_from
        self._options = options
        self._match_transforms = match_transforms
        self._scan_cancel = CancelToken()
        self._group_cancel = CancelToken()
        self._grouping = False

    def resume_check(self) -> None:
        """Thread-safe: the snapshot's groups are shown; the scan that checks them starts."""
        self._check_may_start.set()

    def cancel(self) -> None:
        """Thread-safe; stops whichever phase is running."""
        self._check_may_start.set()
        self._scan_cancel.cancel()
        if self._grouping:
            self._group_cancel.cancel()

    def stop(self) -> None:
        """Thread-safe; stops the scan and skips the grouping too (the window is closing)."""
        self._check_may_start.set()
        self._scan_cancel.cancel()
        self._group_cancel.cancel()

    @Slot()
    def run(self) -> None:
        try:
            shown = self._shown_snapshot()
            if shown is not None:  # the scan would slow the groups' first paint down
                self._check_may_start.wait(CHECK_WAIT_SECONDS)
            result = self._scan()
            if shown is not None and result.cancelled:
                self.checked_unchanged.emit(
                    replace(shown.result, warnings=[CHECK_CANCELLED]), shown.index
                )
                return
            if shown is not None and shown.stands_for(result.records):
                self.checked_unchanged.emit(result, shown.full_index(result.records))
                return
            if self._decisions is not None and self._records is None:
                self.saved_loaded.emit(self._decisions.load_saved(result.records))
            if shown is not None:  # after saved_loaded: no stale saved mark comes back
                self.changed_since_snapshot.emit(shown.changed_paths(result.records))
            self._grouping = True
            self.grouping_started.emit(len(result.records))
            index = self._shrunk_index(result.records)
            if index is None:
                throttle = _Throttle(lambda step: self.grouping_progress.emit(*step))
                try:
                    apart = None
                    if self._decisions is not None:
                        apart = self._decisions.apart_for(result.records)
                    index = SimilarityIndex.build(
                        result.records,
                        match_transforms=self._match_transforms,
                        apart=apart,
                        progress=lambda done, total: throttle((done, total), force=done == total),
                        cancel=self._group_cancel,
                        deep=_deep_search(result) if self._deep else None,
                    )
                except Cancelled:
                    index = None
            self.finished.emit(result, index)
            if index is not None:
                self._save_snapshot(result, index)
        except Exception as error:  # shown to the user; the window stays usable
            self.failed.emit(f"{type(error).__name__}: {error}")

    def _snapshot_key(self) -> snapshot.SnapshotKey | None:
        """The key of this scan's grouping, or None when it is not one a snapshot keeps
        (records handed in, a deep pass)."""
        if self._records is not None or self._deep:
            return None
        options = self._options or ScanOptions()
        entries = self._decisions.entries() if self._decisions is not None else []
        return snapshot.SnapshotKey(
            roots=tuple(_absolute(root) for root in self._roots),
            excluded_folders=tuple(_absolute(f) for f in options.excluded_folders),
            follow_links=options.follow_links,
            match_transforms=self._match_transforms,
            ignore_list=snapshot.ignore_list_version(entries),
        )

    def _shown_snapshot(self) -> snapshot.Snapshot | None:
        """The last grouping of these folders, emitted to be shown, or None."""
        key = self._snapshot_key() if self._use_snapshot else None
        if key is None:
            return None
        with HashCache.open_default() as cache:
            shown = snapshot.load(cache, snapshot.snapshot_folder(cache), key)
        if shown is None or self._scan_cancel.cancelled:
            return None
        if self._decisions is not None:
            self.saved_loaded.emit(self._decisions.load_saved(shown.result.records))
        self.snapshot_loaded.emit(shown.result, shown.index)
        return shown

    def _save_snapshot(self, result: ScanResult, index: SimilarityIndex) -> None:
        key = self._snapshot_key()
        if key is None or result.cancelled or self._group_cancel.cancelled:
            return
        with HashCache.open_default() as cache:
            snapshot.save(snapshot.snapshot_folder(cache), key, result, index, cache)

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

        sizes = self._decisions.ignore_sizes() if self._decisions is not None else ()
        with HashCache.open_default() as cache:
            return scan(
                self._roots,
                cache=cache,
                options=(_with_deep_hook(self._options, cache, self._deep_model)
                         if self._deep else self._options),
                progress=report,
                cancel=self._scan_cancel,
                sizes_elsewhere=sizes,
            )


def _absolute(path: str) -> str:
    return os.path.abspath(path)  # noqa: PTH100  (as the scanner names its roots)


def _with_deep_hook(
    options: ScanOptions | None, cache: HashCache, model_file: str | None = None
) -> ScanOptions:
    from dedup_gui.core.deep.session import scan_hook

    return replace(options or ScanOptions(), descriptors=scan_hook(cache, model_file))


def _deep_search(result: ScanResult) -> object:
    from dedup_gui.core.deep.session import deep_search

    return deep_search(result.descriptors)


class RegroupJob(QObject):
    """Cut the groups at `similarity` when the index has no keeper ranking yet for these
    reference folders: ranking every image (and checking the reference folders on disk)
    takes a second at 100k images. The caller lets no other thread use the index until
    this job reports."""

    finished = Signal(int, object)
    """(request, ReviewData: the groups in review order with their mark arrays and the
    columns for sorting, so the GUI thread only takes them)"""
    failed = Signal(int, str)
    """(request, message)"""

    def __init__(
        self,
        request: int,
        index: SimilarityIndex,
        similarity: float,
        reference_folders: Sequence[str],
        keeper_rules: Sequence[KeeperRule] = DEFAULT_KEEPER_RULES,
        raw_jpeg_policy: RawJpegPolicy = RawJpegPolicy.KEEP_BOTH,
        *,
        needs_columns: bool = True,
    ) -> None:
        """`needs_columns`: the list's order needs the review columns to show the first
        rows. Without that, a grouping of more than COLUMNS_IN_BACKGROUND members comes
        without them (the model builds them on a worker once the rows show: half a
        second at 100k images that the first rows need not wait for)."""
        super().__init__()
        self.request = request
        self._needs_columns = needs_columns
        self._index = index
        self._similarity = similarity
        self._reference_folders = tuple(reference_folders)
        self._keeper_rules = tuple(keeper_rules)
        self._raw_jpeg_policy = raw_jpeg_policy

    def cancel(self) -> None:
        """A cut cannot be interrupted; a result nobody wants any more is dropped."""

    @Slot()
    def run(self) -> None:
        try:
            groups = self._index.groups(
                self._similarity,
                reference_folders=self._reference_folders,
                keeper_rules=self._keeper_rules,
                raw_jpeg_policy=self._raw_jpeg_policy,
            )
            review = prepare_review(groups, with_columns=False)
            if self._needs_columns or review.arrays.member_count <= COLUMNS_IN_BACKGROUND:
                review = replace(review, columns=ReviewColumns.of(review.groups))
        except Exception as error:  # shown to the user; the window stays usable
            self.failed.emit(self.request, f"{type(error).__name__}: {error}")
            return
        self.finished.emit(self.request, review)


class _ColumnsSignals(QObject):
    built = Signal(object)
    """ReviewColumns"""


class ColumnsTask(QRunnable):
    """The review columns of groups cut on the GUI thread (a slider move with the keeper
    ranking at hand), built on a worker so the first sort or rule chain finds them."""

    def __init__(self, groups: Sequence[DuplicateGroup]) -> None:
        super().__init__()
        self._groups = groups
        self.signals = _ColumnsSignals()

    def start(self) -> None:
        QThreadPool.globalInstance().start(self)

    def run(self) -> None:
        try:
            columns = ReviewColumns.of(self._groups)
            self.signals.built.emit(columns)
        except RuntimeError:  # the model (and its signals' receiver) is gone
            pass


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
        if self._decisions is not None:
            self.logged.emit(self._decisions.record_trash(trashed_entries(self._plan, report_)))
        self.finished.emit(report_)


class ApartJob(QObject):
    """Save "not duplicates" for every pair of `chosen` (reading their digests) and split
    them in `index` without a new pair search (`SimilarityIndex.with_apart`). The caller
    lets no other thread use the index until this job reports."""

    noted = Signal(str)
    """What was done, for the status bar; before `finished`."""
    finished = Signal(object, object)
    """(None, the new SimilarityIndex), like ScanJob's"""
    failed = Signal(str)

    def __init__(
        self, decisions: Decisions, index: SimilarityIndex, chosen: Sequence[ImageRecord]
    ) -> None:
        super().__init__()
        self._decisions = decisions
        self._index = index
        self._chosen = list(chosen)

    def cancel(self) -> None:
        """Short: it runs to the end (the entry is saved either way)."""

    @Slot()
    def run(self) -> None:
        try:
            digested, _added = self._decisions.keep_apart(self._chosen)
            records = self._decisions.with_known_digests(self._index.records)
            index = self._index.with_apart(*apart_rows(records, digested))
        except NotComparableError as error:
            self.failed.emit(str(error))
            return
        except Exception as error:  # shown to the user; the window stays usable
            self.failed.emit(f"{type(error).__name__}: {error}")
            return
        saved = "" if self._decisions.available else " (for this session only: not saved)"
        self.noted.emit(
            f"Kept {len(digested)} files apart as not duplicates{saved}. Edit → Not "
            "Duplicates List… undoes it."
        )
        self.finished.emit(None, index)


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


class ApplyRulesJob(QObject):
    """Choose the keepers of a rule chain in many groups. The arrays take a moment to lay
    out at 100k files, and the ORIGINAL rule compares every group's thumbnails once."""

    finished = Signal(object, object)
    """(ChainMarks, ReviewColumns they index)"""
    failed = Signal(str)

    def __init__(
        self,
        source: ReviewColumns | Sequence[DuplicateGroup],
        rules: Sequence[ChainRule],
        positions: Sequence[int] | None,
    ) -> None:
        super().__init__()
        self._source = source
        self._rules = tuple(rules)
        self._positions = None if positions is None else list(positions)

    def cancel(self) -> None:
        """Short; a result nobody wants any more is dropped."""

    @Slot()
    def run(self) -> None:
        try:
            source = self._source
            columns = source if isinstance(source, ReviewColumns) else ReviewColumns.of(source)
            chosen = apply_chain(columns, self._rules, self._positions)
        except Exception as error:  # shown to the user; the window stays usable
            self.failed.emit(f"{type(error).__name__}: {error}")
            return
        self.finished.emit(chosen, columns)


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
        throttle = _Throttle(self.progress.emit)

        def report(progress: TrashProgress) -> None:
            throttle(progress, force=progress.done == progress.total)

        try:
            moved = move_marked(self._plan, self._target, progress=report, cancel=self._cancel)
        except Exception as error:  # shown to the user; the window stays usable
            self.failed.emit(f"{type(error).__name__}: {error}")
            return
        self.finished.emit(moved, self._target)



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


class _LibraryJob(QObject):
    """A question to the library (core.library) at the window's similarity, cancellable."""

    def __init__(
        self,
        library_roots: Sequence[str],
        similarity: float,
        match_transforms: bool,
        options: ScanOptions | None,
    ) -> None:
        super().__init__()
        self._library_roots = list(library_roots)
        self._similarity = similarity
        self._match_transforms = match_transforms
        self._options = options
        self._cancel = CancelToken()

    def cancel(self) -> None:
        self._cancel.cancel()


class FindPhotosJob(_LibraryJob):
    """Ask the library about each photo (`core.library.query`), one after the other; the
    library is scanned through the cache, so only the first photo pays for a cold scan."""

    progress = Signal(int, int, object)
    """(photo number from 0, number of photos, ScanProgress of the library scan)"""
    finished = Signal(object)
    """list[QueryResult], in the order asked (shorter when cancelled)"""
    failed = Signal(str)

    def __init__(
        self,
        photos: Sequence[str],
        library_roots: Sequence[str],
        *,
        similarity: float,
        match_transforms: bool = False,
        options: ScanOptions | None = None,
    ) -> None:
        super().__init__(library_roots, similarity, match_transforms, options)
        self._photos = list(photos)

    @Slot()
    def run(self) -> None:
        results: list[QueryResult] = []
        throttle = _Throttle(lambda step: self.progress.emit(*step))
        try:
            ignored, _messages = saved_entries()  # unreadable: the search runs without
            with HashCache.open_default() as cache:
                for number, photo in enumerate(self._photos):
                    if self._cancel.cancelled:
                        break
                    result = query(
                        photo,
                        self._library_roots,
                        similarity=self._similarity,
                        match_transforms=self._match_transforms,
                        cache=cache,
                        options=self._options,
                        progress=lambda _label, update, n=number: throttle(
                            (n, len(self._photos), update)
                        ),
                        cancel=self._cancel,
                        ignored=ignored,
                    )
                    if result.cancelled:
                        break
                    results.append(result)
        except Exception as error:  # shown to the user; the window stays usable
            self.failed.emit(f"{type(error).__name__}: {error}")
            return
        self.finished.emit(results)


class LibraryCheckJob(_LibraryJob):
    """Which of these folders are already in the library (`core.library.new_vs_library`)."""

    progress = Signal(str, object)
    """("library" or "new", ScanProgress)"""
    finished = Signal(object)
    """NewVsLibraryResult (its `cancelled` says whether it is complete)"""
    failed = Signal(str)

    def __init__(
        self,
        new_roots: Sequence[str],
        library_roots: Sequence[str],
        *,
        similarity: float,
        match_transforms: bool = False,
        options: ScanOptions | None = None,
    ) -> None:
        super().__init__(library_roots, similarity, match_transforms, options)
        self._new_roots = list(new_roots)

    @Slot()
    def run(self) -> None:
        throttle = _Throttle(lambda step: self.progress.emit(*step))

        def report(label: str, update: ScanProgress) -> None:
            throttle((label, update), force=update.phase == "done")

        try:
            with HashCache.open_default() as cache:
                result = new_vs_library(
                    self._new_roots,
                    self._library_roots,
                    similarity=self._similarity,
                    match_transforms=self._match_transforms,
                    cache=cache,
                    options=self._options,
                    progress=report,
                    cancel=self._cancel,
                )
        except Exception as error:  # shown to the user; the window stays usable
            self.failed.emit(f"{type(error).__name__}: {error}")
            return
        self.finished.emit(result)


class JobOwner(QObject):
    """Runs one job at a time for a dialog and keeps it (and its thread) alive until the
    thread has stopped; `shut_down` cancels it and waits, for when the window closes."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._running: dict[QThread, QObject] = {}
        self.job: QObject | None = None

    def start(self, job: QObject, done_signals: Sequence[SignalInstance]) -> None:
        self.job = job
        thread = start_in_thread(job, self, done_signals)
        self._running[thread] = job
        thread.finished.connect(self._on_thread_finished)

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
        thread = self.sender()
        if isinstance(thread, QThread):
            job = self._running.pop(thread, None)
            if job is not None:
                job.deleteLater()
            thread.deleteLater()
