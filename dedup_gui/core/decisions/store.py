"""The user's decisions (not duplicates, keep/trash marks, reviewed groups, trash log), kept
across sessions in one SQLite file.

Unlike the hash cache, which is derived data and is rebuilt when damaged, this file holds
what only the user knows, so it lives in the user's *data* folder (a cache folder may be
wiped by a cleaner) and is never deleted: a migration only adds, and a damaged file is
moved aside (kept, named in the warning) before a new one is started.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import platformdirs

DATA_DIR_ENV = "DEDUP_GUI_DATA_DIR"
STORE_FILE_NAME = "decisions.sqlite3"
BUSY_TIMEOUT_SECONDS = 5.0

_T = TypeVar("_T")

_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # version 1
        """CREATE TABLE ignored_pairs (
            size_a INTEGER NOT NULL, digest_a BLOB NOT NULL,
            size_b INTEGER NOT NULL, digest_b BLOB NOT NULL,
            path_a BLOB NOT NULL, path_b BLOB NOT NULL,
            added_at REAL NOT NULL,
            PRIMARY KEY (size_a, digest_a, size_b, digest_b))""",
        """CREATE TABLE marks (
            path BLOB PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
            keep INTEGER NOT NULL, updated_at REAL NOT NULL)""",
        """CREATE TABLE reviewed_groups (
            group_key BLOB PRIMARY KEY, reviewed_at REAL NOT NULL)""",
        """CREATE TABLE trash_batches (
            id INTEGER PRIMARY KEY AUTOINCREMENT, trashed_at REAL NOT NULL)""",
        """CREATE TABLE trash_entries (
            batch_id INTEGER NOT NULL REFERENCES trash_batches (id),
            original_path BLOB NOT NULL, size INTEGER NOT NULL, digest BLOB,
            trashed_path BLOB, info_path BLOB, kept_path BLOB,
            restored_at REAL, restored_to BLOB)""",
        "CREATE INDEX trash_entries_by_batch ON trash_entries (batch_id)",
    ),
)
SCHEMA_VERSION = len(_MIGRATIONS)


class DecisionStoreError(Exception):
    """The decisions could not be read or saved; the message says what to do."""


class DecisionStore:
    """One connection behind a lock; safe to share between threads."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        self._lock = threading.RLock()
        self.warnings: list[str] = []
        self._connection = self._open_or_set_aside()

    @classmethod
    def open_default(cls) -> DecisionStore:
        """The store in $DEDUP_GUI_DATA_DIR, else in the user's data folder."""
        folder = os.environ.get(DATA_DIR_ENV) or platformdirs.user_data_dir("dedup-gui")
        return cls(Path(folder) / STORE_FILE_NAME)

    @property
    def path(self) -> Path:
        return self._path

    def __enter__(self) -> DecisionStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def read(self, query: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._lock:
            try:
                return query(self._connection)
            except sqlite3.Error as error:
                raise DecisionStoreError(
                    f"Your saved decisions could not be read ({error})."
                ) from error

    def write(self, change: Callable[[sqlite3.Connection], _T]) -> _T:
        """Run `change` in one transaction (all of it is saved, or none)."""
        with self._lock:
            try:
                self._connection.execute("BEGIN IMMEDIATE")
                try:
                    result = change(self._connection)
                except BaseException:
                    self._connection.execute("ROLLBACK")
                    raise
                self._connection.execute("COMMIT")
                return result
            except sqlite3.Error as error:
                raise DecisionStoreError(
                    f"Your decision could not be saved ({error}); nothing was changed."
                ) from error

    def _open_or_set_aside(self) -> sqlite3.Connection:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return self._open()
        except sqlite3.DatabaseError as error:
            if not _is_damage(error):
                raise DecisionStoreError(
                    f"The saved decisions in {self._path} cannot be opened ({error})."
                ) from error
        aside = self._path.with_name(
            f"{self._path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}"
        )
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{self._path}{suffix}")
            if source.exists():
                source.rename(f"{aside}{suffix}")
        self.warnings.append(
            f"The file of saved decisions was damaged; it was kept as {aside} and a new one "
            "was started."
        )
        return self._open()

    def _open(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self._path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None,
            check_same_thread=False,
        )
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA foreign_keys=ON")
            _migrate(connection)
        except BaseException:
            connection.close()
            raise
        return connection


def _migrate(connection: sqlite3.Connection) -> None:
    """Apply each missing step in order, each in its own transaction. Steps only add."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise DecisionStoreError(
            "The saved decisions were written by a newer version of dedup-gui; "
            "update it to use them."
        )
    for number, statements in enumerate(_MIGRATIONS[version:], start=version + 1):
        connection.execute("BEGIN IMMEDIATE")
        try:
            if connection.execute("PRAGMA user_version").fetchone()[0] >= number:
                connection.execute("ROLLBACK")  # another instance just did it
                continue
            for statement in statements:
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")


def _is_damage(error: sqlite3.DatabaseError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB
    return "malformed" in str(error) or "not a database" in str(error)
