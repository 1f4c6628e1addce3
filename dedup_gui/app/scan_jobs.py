"""The jobs that make the groups: a scan (or already-scanned records) into a similarity
index, a cut of the index at the slider's similarity, and the review columns of a cut."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import replace

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from dedup_gui.app.decisions import Decisions
from dedup_gui.app.group_model import COLUMNS_IN_BACKGROUND
from dedup_gui.app.job_threads import Throttle
from dedup_gui.core.decisions import ignore_list
from dedup_gui.core.decisions.apply_rules import ReviewColumns
from dedup_gui.core.decisions.review_data import prepare_review
from dedup_gui.core.grouping.candidates import Cancelled
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.keeper import DEFAULT_KEEPER_RULES, KeeperRule
from dedup_gui.core.grouping.raw_pairs import RawJpegPolicy
from dedup_gui.core.models import (
    CancelToken,
    DuplicateGroup,
    ImageRecord,
    ScanProgress,
    ScanResult,
)
from dedup_gui.core.scanning import cache_preview, snapshot
from dedup_gui.core.scanning.cache import HashCache
from dedup_gui.core.scanning.cache_preview import CachePreview
from dedup_gui.core.scanning.scanner import ScanOptions, scan

CHECK_CANCELLED = (
    "Checking for changes was cancelled: showing the groups of the last scan. Scan again to"
    " check."
)
CHECK_WAIT_SECONDS = 30.0
"""Longest the check of a snapshot waits for its groups to be shown before it starts (and
a new grouping's snapshot for its groups to be shown before it is written)."""


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
    or with none, of the cached records under them (cache_preview, `grouping_started`
    first), to show while the scan checks for changes; `saved_loaded` of its files comes
    first. A preview's check that stands ends with `finished` (its records regrouped)."""
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
        save_when_shown: bool = False,
    ) -> None:
        """`decisions`: the files in the "not duplicates" list get digests and are kept
        apart, and the saved marks of a scan of folders are read back. `use_snapshot`:
        show the last grouping of these folders first (`snapshot_loaded`), then scan.
        A scan of folders that groups every file saves its grouping for next time;
        `save_when_shown`: once `groups_shown()` is called (or CHECK_WAIT_SECONDS after
        `finished`), as writing it (a second or more of Python at 100k files) would slow
        the first paint of those groups."""
        super().__init__()
        self._use_snapshot = use_snapshot
        self._check_may_start = threading.Event()
        self._save_when_shown = save_when_shown
        self._groups_shown = threading.Event()
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

    def groups_shown(self) -> None:
        """Thread-safe: the groups of `finished` are painted; the snapshot is written now."""
        self._groups_shown.set()

    def cancel(self) -> None:
        """Thread-safe; stops whichever phase is running."""
        self._check_may_start.set()
        self._groups_shown.set()
        self._scan_cancel.cancel()
        if self._grouping:
            self._group_cancel.cancel()

    def stop(self) -> None:
        """Thread-safe; stops the scan and skips the grouping too (the window is closing)."""
        self._check_may_start.set()
        self._groups_shown.set()
        self._scan_cancel.cancel()
        self._group_cancel.cancel()

    @Slot()
    def run(self) -> None:
        try:
            shown: snapshot.Snapshot | CachePreview | None = self._shown_snapshot()
            if shown is None:
                shown = self._shown_preview()
            if shown is not None:  # the scan would slow the groups' first paint down
                self._check_may_start.wait(CHECK_WAIT_SECONDS)
            result = self._scan()
            if isinstance(shown, CachePreview):
                if self._checked_preview(shown, result):
                    return
            elif shown is not None and result.cancelled:
                self.checked_unchanged.emit(
                    replace(shown.result, warnings=[CHECK_CANCELLED]), shown.index
                )
                return
            elif shown is not None and shown.stands_for(result.records):
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
                try:
                    index = self._build(result, self._group_cancel)
                except Cancelled:
                    index = None
            self._finish(result, index)
        except Exception as error:  # shown to the user; the window stays usable
            self.failed.emit(f"{type(error).__name__}: {error}")

    def _build(self, result: ScanResult, cancel: CancelToken) -> SimilarityIndex:
        throttle = Throttle(lambda step: self.grouping_progress.emit(*step))
        apart = None
        if self._decisions is not None:
            apart = self._decisions.apart_for(result.records)
        return SimilarityIndex.build(
            result.records,
            match_transforms=self._match_transforms,
            apart=apart,
            progress=lambda done, total: throttle((done, total), force=done == total),
            cancel=cancel,
            deep=_deep_search(result) if self._deep else None,
        )

    def _finish(self, result: ScanResult, index: SimilarityIndex | None) -> None:
        self.finished.emit(result, index)
        if index is not None:
            if self._save_when_shown:
                self._groups_shown.wait(CHECK_WAIT_SECONDS)
            self._save_snapshot(result, index)

    def _shown_preview(self) -> CachePreview | None:
        """With no snapshot: the cached records under the folders grouped and emitted to
        be shown (`snapshot_loaded`), when there are enough of them to be worth it."""
        if self._snapshot_key() is None or not self._use_snapshot:
            return None
        options = self._options or ScanOptions()
        sizes = self._decisions.ignore_sizes() if self._decisions is not None else ()
        with HashCache.open_default() as cache:
            roots = [_absolute(root) for root in self._roots]
            if cache.count_under(roots) < cache_preview.PREVIEW_MIN_RECORDS:
                return None
            records = cache_preview.preview_records(
                cache, roots, excluded_folders=options.excluded_folders,
                include_hidden=options.include_hidden, sizes_elsewhere=sizes,
            )
        if len(records) < cache_preview.PREVIEW_MIN_RECORDS or self._scan_cancel.cancelled:
            return None
        result = ScanResult(records=records, from_cache=len(records), roots=tuple(roots))
        if self._decisions is not None:
            self.saved_loaded.emit(self._decisions.load_saved(records))
        self.grouping_started.emit(len(records))
        try:
            index = self._build(result, self._scan_cancel)
        except Cancelled:
            return None
        preview = CachePreview(result, index)
        self.snapshot_loaded.emit(preview.result, preview.index)
        return preview

    def _checked_preview(self, preview: CachePreview, result: ScanResult) -> bool:
        """After the scan that checks a preview: when it found the preview's records, the
        preview's grouping over the scan's records (the window regroups them: the groups
        shown hold the preview's records, whose identities are the cache's). True when
        that ended the job. A cancelled check shows what it hashed, as a cancelled scan."""
        if result.cancelled or not preview.stands_for(result.records):
            return False
        self._finish(result, preview.full_index(result.records))
        return True

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
            ignore_list=ignore_list.entries_version(entries),
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
        throttle = Throttle(self.scan_progress.emit)

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
