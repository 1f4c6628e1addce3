"""A log of every Move to Trash, and putting a batch back ("Undo", "Recently trashed",
`dedup-cli restore`).

Each batch records, per file: its original path, size and digest (when known), where it
went in the trash and which copy was kept. Restoring a file checks it is still the file
that was trashed (size, and the digest when known), never writes over a file that now
exists at the original path (it is restored beside it, and the outcome says so), and
removes its .trashinfo. Where the system has no restore call (macOS, Windows), the outcome
says which files to put back by hand.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from dedup_gui.core.decisions.store import DecisionStore
from dedup_gui.core.files.digest import file_digest
from dedup_gui.core.models import ImageRecord
from dedup_gui.core.trash import put_back, system_trash
from dedup_gui.core.trash.actions import Outcome, RemovalPlan, TrashReport


@dataclass(frozen=True, slots=True)
class TrashedEntry:
    record: ImageRecord
    kept_path: str | None
    """The copy of the group that stayed (shown in the log)."""
    trashed_to: system_trash.TrashedFile | None = None
    """Where it went (from `actions.FileOutcome.trashed_to`); looked up when unknown."""


@dataclass(frozen=True, slots=True)
class LoggedFile:
    row_id: int
    original_path: str
    size: int
    digest: bytes | None
    trashed_path: str | None
    info_path: str | None
    kept_path: str | None
    restored_to: str | None


@dataclass(frozen=True, slots=True)
class TrashBatch:
    batch_id: int
    trashed_at: float
    files: tuple[LoggedFile, ...]

    @property
    def waiting(self) -> tuple[LoggedFile, ...]:
        """Files of the batch not restored yet."""
        return tuple(f for f in self.files if f.restored_to is None)


class RestoreResult(str, Enum):
    RESTORED = "restored"
    RESTORED_BESIDE = "restored-beside"
    NOT_IN_TRASH = "not-in-trash"
    CHANGED_IN_TRASH = "changed-in-trash"
    BY_HAND = "by-hand"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RestoreOutcome:
    original_path: str
    result: RestoreResult
    restored_to: str | None
    message: str


def trashed_entries(plan: RemovalPlan, report: TrashReport) -> list[TrashedEntry]:
    """The files a Move to Trash did move, with the copy kept for each and where it went."""
    planned = {removal.record.path: removal for removal in plan.removals}
    entries = []
    for outcome in report.outcomes:
        if outcome.outcome is not Outcome.TRASHED or outcome.path not in planned:
            continue
        removal = planned[outcome.path]
        kept = removal.kept_paths[0] if removal.kept_paths else None
        entries.append(TrashedEntry(removal.record, kept, outcome.trashed_to))
    return entries


class TrashLog:
    def __init__(self, store: DecisionStore) -> None:
        self._store = store

    def record(self, trashed: Sequence[TrashedEntry]) -> int | None:
        """Log one Move to Trash (the files that did go); returns the batch id."""
        if not trashed:
            return None
        rows = []
        for entry in trashed:
            located = entry.trashed_to or system_trash.locate(entry.record.path)
            rows.append((
                os.fsencode(entry.record.path), entry.record.size, entry.record.content_digest,
                None if located is None else os.fsencode(located.files_path),
                None if located is None else os.fsencode(located.info_path),
                None if entry.kept_path is None else os.fsencode(entry.kept_path),
            ))

        def write(connection: sqlite3.Connection) -> int:
            cursor = connection.execute(
                "INSERT INTO trash_batches (trashed_at) VALUES (?)", (time.time(),)
            )
            batch = int(cursor.lastrowid or 0)
            connection.executemany(
                "INSERT INTO trash_entries (batch_id, original_path, size, digest,"
                " trashed_path, info_path, kept_path) VALUES (?,?,?,?,?,?,?)",
                [(batch, *row) for row in rows],
            )
            return batch

        return self._store.write(write)

    def batches(self, limit: int = 50) -> list[TrashBatch]:
        """The most recent batches first."""

        def query(connection: sqlite3.Connection) -> list[TrashBatch]:
            heads = connection.execute(
                "SELECT id, trashed_at FROM trash_batches ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
            result = []
            for batch_id, trashed_at in heads:
                rows = connection.execute(
                    "SELECT rowid, original_path, size, digest, trashed_path, info_path,"
                    " kept_path, restored_to FROM trash_entries WHERE batch_id = ?"
                    " ORDER BY rowid",
                    (batch_id,),
                ).fetchall()
                result.append(TrashBatch(batch_id, trashed_at, tuple(_logged(r) for r in rows)))
            return result

        return self._store.read(query)

    def last(self) -> TrashBatch | None:
        """The newest batch that still has files in the trash."""
        return next((batch for batch in self.batches() if batch.waiting), None)

    def restore(self, batch: TrashBatch) -> list[RestoreOutcome]:
        outcomes = [restore_file(logged) for logged in batch.waiting]
        done = [
            (os.fsencode(outcome.restored_to), time.time(), logged.row_id)
            for logged, outcome in zip(batch.waiting, outcomes, strict=True)
            if outcome.restored_to is not None
        ]
        if done:
            self._store.write(lambda connection: connection.executemany(
                "UPDATE trash_entries SET restored_to = ?, restored_at = ? WHERE rowid = ?", done
            ))
        return outcomes


def restore_file(logged: LoggedFile) -> RestoreOutcome:
    original = logged.original_path

    def outcome(result: RestoreResult, message: str, to: str | None = None) -> RestoreOutcome:
        return RestoreOutcome(original, result, to, message)

    if not system_trash.SUPPORTED:
        return outcome(
            RestoreResult.BY_HAND,
            f"Put it back from the system trash by hand: {Path(original).name} "
            f"(from {Path(original).parent}).",
        )
    trashed = logged.trashed_path
    if trashed is None:
        located = system_trash.locate(original)
        if located is not None:
            trashed = located.files_path
    if trashed is None or not Path(trashed).is_file():
        return outcome(RestoreResult.NOT_IN_TRASH, "It is no longer in the trash.")
    changed = _changed_in_trash(logged, trashed)
    if changed:
        return outcome(RestoreResult.CHANGED_IN_TRASH, changed)
    try:
        Path(original).parent.mkdir(parents=True, exist_ok=True)
        target = put_back.free_name_beside(original)
        put_back.move_without_replacing(trashed, target)
    except OSError as error:
        return outcome(
            RestoreResult.FAILED, f"It could not be put back ({error.strerror or error})."
        )
    if logged.info_path:
        Path(logged.info_path).unlink(missing_ok=True)
    if target != original:
        return outcome(
            RestoreResult.RESTORED_BESIDE,
            f"Another file is now at its place; it was restored beside it as "
            f"{Path(target).name}.",
            target,
        )
    return outcome(RestoreResult.RESTORED, "", target)


def _changed_in_trash(logged: LoggedFile, trashed: str) -> str:
    try:
        size = Path(trashed).stat().st_size
    except OSError as error:
        return f"It cannot be read in the trash ({error.strerror})."
    if size != logged.size:
        return "The file in the trash is not the one that was moved there (its size differs)."
    if logged.digest is not None:
        try:
            digest = file_digest(trashed)
        except OSError as error:
            return f"It cannot be read in the trash ({error.strerror})."
        if digest != logged.digest:
            return (
                "The file in the trash is not the one that was moved there (its content "
                "differs)."
            )
    return ""


def _logged(row: Sequence[Any]) -> LoggedFile:
    row_id, original, size, digest, trashed, info, kept, restored = row

    def text(value: Any) -> str | None:
        return None if value is None else os.fsdecode(bytes(value))

    return LoggedFile(
        row_id, os.fsdecode(bytes(original)), size, None if digest is None else bytes(digest),
        text(trashed), text(info), text(kept), text(restored),
    )
