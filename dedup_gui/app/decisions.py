"""The app's access to the user's saved decisions (core.decisions), safe from any thread.

The store is opened on first use, by whichever worker needs it first. If it cannot be
opened (or a write fails), `problem` says so once per message and the app goes on without
it: nothing is saved, and nothing the user sees is lost for this session. Small writes
(marks, reviewed groups) run one after the other on a single background thread, in the
order they were made.
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import TypeVar

import numpy as np
from PySide6.QtCore import QObject, Signal

from dedup_gui.core.decisions.ignore_list import (
    ContentId,
    IgnoredPair,
    IgnoreList,
    apart_pairs,
    content_id,
    with_digest,
)
from dedup_gui.core.decisions.saved_marks import ReviewedGroups, SavedMarks
from dedup_gui.core.decisions.store import DecisionStore, DecisionStoreError
from dedup_gui.core.decisions.trash_log import (
    RestoreOutcome,
    TrashBatch,
    TrashedEntry,
    TrashLog,
)
from dedup_gui.core.models import DuplicateGroup, ImageRecord

_T = TypeVar("_T")

MarkChange = tuple[ImageRecord, "bool | None"]
"""A file and its new mark: keep (True), trash (False), or back to the suggestion (None)."""

GOING_ON = "The app goes on without them: nothing you decide now is remembered."


@dataclass(frozen=True, slots=True)
class SavedDecisions:
    """What a scan found saved for its files: marks by path and reviewed group keys."""

    marks: dict[str, bool] = field(default_factory=dict)
    reviewed: frozenset[bytes] = frozenset()


def _print_failure(future: Future[object]) -> None:
    """A task that raised says so on stderr, as a QRunnable's exception did."""
    error = future.exception()
    if error is not None:
        traceback.print_exception(error, file=sys.stderr)


class _Answer(QObject):
    """Carries a result from the decisions thread back to the thread that asked."""

    done = Signal(object)


class Decisions(QObject):
    problem = Signal(str)
    """A message for the user (emitted from any thread; connect it to a GUI-thread slot)."""

    def __init__(
        self,
        parent: QObject | None = None,
        opener: Callable[[], DecisionStore] | None = None,
    ) -> None:
        super().__init__(parent)
        self._opener = opener or (lambda: DecisionStore.open_default())
        self._lock = threading.Lock()
        self._store: DecisionStore | None = None
        self._opened = False
        self._reported: set[str] = set()
        self._digests: dict[str, tuple[int, int, bytes]] = {}
        """path -> (size, mtime_ns, digest) read this session for "not duplicates"."""
        # One Python thread: writes land in the order they were made. Not a QThreadPool
        # running QRunnable.create(callable): Qt deletes such a runnable (and the Python
        # callable it holds) on its pool thread, which crashed now and then as a window
        # closed and the next one opened.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="decisions")
        self._pending: list[Future[object]] = []
        self._pending_lock = threading.Lock()
        self._answers: set[_Answer] = set()
        """Kept referenced until they have answered."""

    # ----- the store -----------------------------------------------------------------

    def store(self) -> DecisionStore | None:
        with self._lock:
            if not self._opened:
                self._opened = True
                try:
                    self._store = self._opener()
                except (DecisionStoreError, OSError, sqlite3.Error) as error:
                    self._report(f"Your saved decisions cannot be used ({error}). {GOING_ON}")
                else:
                    for warning in self._store.warnings:
                        self._report(warning)
            return self._store

    @property
    def available(self) -> bool:
        """False once opening failed (before the first use, True)."""
        return not self._opened or self._store is not None

    def _use(self, action: Callable[[DecisionStore], _T], default: _T) -> _T:
        store = self.store()
        if store is None:
            return default
        try:
            return action(store)
        except DecisionStoreError as error:
            self._report(str(error))
            return default

    def _report(self, message: str) -> None:
        if message not in self._reported:
            self._reported.add(message)
            self.problem.emit(message)

    def submit(self, task: Callable[[], object]) -> None:
        """Run `task` on the decisions thread, after every task submitted before it."""
        with self._pending_lock:
            self._pending = [future for future in self._pending if not future.done()]
            with contextlib.suppress(RuntimeError):  # closed: the window is going away
                future = self._pool.submit(task)
                future.add_done_callback(_print_failure)
                self._pending.append(future)

    def ask(self, task: Callable[[], object], then: Callable[[object], None]) -> None:
        """Run `task` on the decisions thread (after the writes before it) and hand its
        result to `then` on the thread asking (the GUI thread): no disk on the GUI thread."""
        answer = _Answer()
        answer.done.connect(then)
        answer.done.connect(lambda _result: self._answers.discard(answer))
        self._answers.add(answer)
        self.submit(lambda: answer.done.emit(task()))

    def wait(self, msecs: int = 5000) -> bool:
        """Whether every task submitted so far finished within `msecs`."""
        with self._pending_lock:
            pending = list(self._pending)
        _done, not_done = wait(pending, timeout=msecs / 1000)
        return not not_done

    def close(self, msecs: int = 5000) -> None:
        """Finish the queued writes, then close the store."""
        self.wait(msecs)
        self._pool.shutdown(wait=False, cancel_futures=False)
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    # ----- not duplicates ------------------------------------------------------------

    def ignore_sizes(self) -> frozenset[int]:
        return self._use(lambda store: IgnoreList(store).sizes(), frozenset())

    def entries(self) -> list[IgnoredPair]:
        return self._use(lambda store: IgnoreList(store).entries(), [])

    def with_known_digests(self, records: Sequence[ImageRecord]) -> list[ImageRecord]:
        """`records`, each lacking a digest given the one read this session (if unchanged)."""
        known = dict(self._digests)
        result = []
        for record in records:
            seen = known.get(record.path) if record.content_digest is None else None
            if seen is not None and seen[:2] == (record.size, record.mtime_ns):
                record = replace(record, content_digest=seen[2])
            result.append(record)
        return result

    def apart_for(self, records: Sequence[ImageRecord]) -> tuple[np.ndarray, np.ndarray]:
        """The saved "not duplicates" entries as index pairs into `records`."""
        entries = self.entries()
        if not entries:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return apart_pairs(entries, self.with_known_digests(records))

    def keep_apart(self, records: Sequence[ImageRecord]) -> tuple[list[ImageRecord], int]:
        """Digest the files (reads them; raises NotComparableError if one changed) and save
        every pair of them as not duplicates. Returns the digested records and how many
        entries are new (0 when the store is not available)."""
        digested = [with_digest(record) for record in records]
        with self._lock:
            for record in digested:
                assert record.content_digest is not None
                self._digests[record.path] = (record.size, record.mtime_ns,
                                              record.content_digest)
        added = self._use(lambda store: IgnoreList(store).add(digested), 0)
        return digested, added

    def remove_pairs(self, pairs: Iterable[tuple[ContentId, ContentId]]) -> int:
        chosen = list(pairs)
        return self._use(lambda store: IgnoreList(store).remove_pairs(chosen), 0)

    def clear_ignored(self) -> int:
        return self._use(lambda store: IgnoreList(store).clear(), 0)

    # ----- marks and reviewed groups -------------------------------------------------

    def load_saved(self, records: Sequence[ImageRecord]) -> SavedDecisions:
        """The saved marks of these files (changed files' marks are dropped) and the keys
        of every reviewed group."""
        def load(store: DecisionStore) -> SavedDecisions:
            marks = SavedMarks(store).restore(records)
            rows = store.read(lambda connection: connection.execute(
                "SELECT group_key FROM reviewed_groups"
            ).fetchall())
            return SavedDecisions(marks, frozenset(bytes(key) for (key,) in rows))

        return self._use(load, SavedDecisions())

    def save_marks(self, changes: Iterable[MarkChange]) -> None:
        """Queue the changes (keep/trash saved, None forgotten; a file's last change wins),
        written in order in one transaction each. `changes` is read on the decisions
        thread: it must not change meanwhile."""

        def write() -> None:
            latest = {record.path: (record, keep) for record, keep in changes}
            chosen = [(record, keep) for record, keep in latest.values() if keep is not None]
            forgotten = [record for record, keep in latest.values() if keep is None]
            if chosen:
                self._use(lambda store: SavedMarks(store).save(chosen), None)
            if forgotten:
                self._use(lambda store: SavedMarks(store).forget(forgotten), None)

        self.submit(write)

    def save_reviewed(self, groups: Sequence[DuplicateGroup]) -> None:
        chosen = list(groups)
        self.submit(lambda: self._use(lambda store: ReviewedGroups(store).mark(chosen), None))

    # ----- trash log -----------------------------------------------------------------

    def record_trash(self, trashed: Sequence[TrashedEntry]) -> int | None:
        if not trashed:
            return None
        return self._use(lambda store: TrashLog(store).record(trashed), None)

    def batches(self) -> list[TrashBatch]:
        return self._use(lambda store: TrashLog(store).batches(), [])

    def restore(self, batch_id: int | None) -> tuple[TrashBatch | None, list[RestoreOutcome]]:
        """Put back the files of batch `batch_id` (None: the newest with files waiting)."""
        def restore(store: DecisionStore) -> tuple[TrashBatch | None, list[RestoreOutcome]]:
            log = TrashLog(store)
            if batch_id is None:
                batch = log.last()
            else:
                batch = next((b for b in log.batches() if b.batch_id == batch_id), None)
            if batch is None or not batch.waiting:
                return batch, []
            return batch, log.restore(batch)

        return self._use(restore, (None, []))


def apart_rows(
    records: Sequence[ImageRecord], chosen: Sequence[ImageRecord]
) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs into `records` keeping every copy of one chosen file apart from every
    copy of another (copies: the same content digest)."""
    wanted = {content_id(record) for record in chosen} - {None}
    rows: dict[ContentId, list[int]] = {}
    for row, record in enumerate(records):
        key = content_id(record)
        if key in wanted:
            rows.setdefault(key, []).append(row)  # type: ignore[arg-type]
    first: list[int] = []
    second: list[int] = []
    for a, b in itertools.combinations(sorted(rows), 2):
        for row_a, row_b in itertools.product(rows[a], rows[b]):
            first.append(row_a)
            second.append(row_b)
    return np.asarray(first, np.int64), np.asarray(second, np.int64)
