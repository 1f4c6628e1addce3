"""The jobs that ask the library (core.library): is this photo already in it, which of
these folders are."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal, Slot

from dedup_gui.app.job_threads import Throttle
from dedup_gui.core.decisions.ignore_list import saved_entries
from dedup_gui.core.library import QueryResult, new_vs_library, query
from dedup_gui.core.models import CancelToken, ScanProgress
from dedup_gui.core.scanning.cache import HashCache
from dedup_gui.core.scanning.scanner import ScanOptions


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
        throttle = Throttle(lambda step: self.progress.emit(*step))
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
        throttle = Throttle(lambda step: self.progress.emit(*step))

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
