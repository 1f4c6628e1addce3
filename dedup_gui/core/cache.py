"""Persistent hash cache: SQLite, keyed by (path, size, mtime_ns, recipe version).

- A file moved or renamed on the same file system keeps its entry: on a path miss the
  file is found by (device, inode, size, mtime_ns), all four of which a move keeps and an
  edit or a new file reusing a freed inode almost never does (`adopt_moved`).
- WAL journal and a busy timeout, so two app instances can scan at once; every write is
  one short transaction.
- A damaged cache file (malformed, or not a database) is deleted and rebuilt; a cache that
  stays locked, cannot be created, or fails to read or write (full disk, I/O error) is
  bypassed and kept. Either way the scan goes on and `warnings` says what happened.
- Paths are stored as file-system bytes (`os.fsencode`), so undecodable names round-trip.
- Hashes are stored as SQLite integers (signed 64-bit; converted on the way in and out).
- Safe to share between threads (one connection behind a lock).
"""

from __future__ import annotations

import os
import sqlite3
import struct
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import platformdirs

from dedup_gui.core.models import ImageRecord
from dedup_gui.core.signatures import RECIPE_VERSION

CACHE_DIR_ENV = "DEDUP_GUI_CACHE_DIR"
CACHE_FILE_NAME = "hashes.sqlite3"
SCHEMA_VERSION = 3
BUSY_TIMEOUT_SECONDS = 10.0
_QUERY_CHUNK = 500
_SIGN_BIT = 1 << 63
_U64 = 1 << 64

_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    path BLOB PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    recipe INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    format TEXT NOT NULL,
    capture_time TEXT,
    dhash INTEGER NOT NULL,
    phash INTEGER NOT NULL,
    phash_dihedral BLOB NOT NULL,
    micro BLOB NOT NULL,
    content_digest BLOB,
    jpeg_quality INTEGER,
    camera TEXT,
    software TEXT,
    edited_after_capture INTEGER NOT NULL DEFAULT 0,
    pixel_digest BLOB,
    detail BLOB NOT NULL DEFAULT x'',
    dev INTEGER,
    ino INTEGER
);
CREATE INDEX IF NOT EXISTS records_by_inode ON records (ino);
CREATE TABLE IF NOT EXISTS thumbnails (
    path BLOB PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    recipe INTEGER NOT NULL,
    jpeg BLOB NOT NULL
);
"""
_RECORD_COLUMNS = (
    "path, size, mtime_ns, recipe, width, height, format, capture_time,"
    " dhash, phash, phash_dihedral, micro, content_digest,"
    " jpeg_quality, camera, software, edited_after_capture, pixel_digest, detail"
)

_STORED_COLUMNS = f"{_RECORD_COLUMNS}, dev, ino"
_STORED_COUNT = _STORED_COLUMNS.count(",") + 1
_THUMBNAIL_COLUMNS = "path, size, mtime_ns, recipe, jpeg"

FileIdentity = tuple[int, int]
"""(st_dev, st_ino): the same on every path of a file, kept by a move on one file system."""

_T = TypeVar("_T")


class HashCache:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        self._lock = threading.RLock()
        self._connection: sqlite3.Connection | None = None
        self.warnings: list[str] = []
        self._connect_or_rebuild()

    @classmethod
    def open_default(cls) -> HashCache:
        """The cache in $DEDUP_GUI_CACHE_DIR, else in the user's cache folder."""
        folder = os.environ.get(CACHE_DIR_ENV) or platformdirs.user_cache_dir("dedup-gui")
        return cls(Path(folder) / CACHE_FILE_NAME)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def available(self) -> bool:
        """False when the cache is bypassed (locked or impossible to create)."""
        return self._connection is not None

    def __enter__(self) -> HashCache:
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
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    # ----- records -------------------------------------------------------------------

    def lookup_many(self, stats: Iterable[tuple[str, int, int]]) -> dict[str, ImageRecord]:
        """Fresh cached records for (path, size, mtime_ns) keys, by path. Misses are absent."""
        wanted = {os.fsencode(path): (path, size, mtime_ns) for path, size, mtime_ns in stats}
        keys = list(wanted)
        found: dict[str, ImageRecord] = {}

        def query(connection: sqlite3.Connection) -> None:
            for start in range(0, len(keys), _QUERY_CHUNK):
                chunk = keys[start : start + _QUERY_CHUNK]
                rows = connection.execute(
                    f"SELECT {_RECORD_COLUMNS} FROM records WHERE path IN"
                    f" ({','.join('?' * len(chunk))})",
                    chunk,
                )
                for row in rows:
                    path, size, mtime_ns = wanted[row[0]]
                    if row[1] == size and row[2] == mtime_ns and row[3] == RECIPE_VERSION:
                        found[path] = _row_to_record(path, row)

        self._run(query, None)
        return found

    def lookup(self, path: str, size: int, mtime_ns: int) -> ImageRecord | None:
        return self.lookup_many([(path, size, mtime_ns)]).get(path)

    def adopt_moved(
        self, files: Iterable[tuple[str, int, int, FileIdentity]]
    ) -> dict[str, ImageRecord]:
        """Cached records of files that were moved or renamed: for each (path, size,
        mtime_ns, identity), an entry stored under another path with the same identity,
        size and mtime_ns. Each one found is copied (with its thumbnail and digest) to the
        new path, and returned by new path; the old path's entry stays until
        `forget_missing` drops it. Files without an identity (0, 0) are skipped."""
        wanted: dict[int, list[tuple[str, int, int, int]]] = {}
        for path, size, mtime_ns, (dev, ino) in files:
            if ino:
                wanted.setdefault(ino, []).append((path, size, mtime_ns, dev))
        inodes = list(wanted)
        if not inodes:
            return {}

        def adopt(connection: sqlite3.Connection) -> dict[str, ImageRecord]:
            moves: dict[bytes, tuple[str, tuple[Any, ...]]] = {}  # new path -> (text, old row)
            for start in range(0, len(inodes), _QUERY_CHUNK):
                chunk = inodes[start : start + _QUERY_CHUNK]
                rows = connection.execute(
                    f"SELECT {_STORED_COLUMNS} FROM records WHERE ino IN"
                    f" ({','.join('?' * len(chunk))})",
                    chunk,
                )
                for row in rows:  # row[-2], row[-1]: the stored dev, ino
                    if row[3] != RECIPE_VERSION:
                        continue
                    for path, size, mtime_ns, dev in wanted[row[-1]]:
                        new = os.fsencode(path)
                        if new != row[0] and (row[1], row[2], row[-2]) == (size, mtime_ns, dev):
                            moves.setdefault(new, (path, row))
            if moves:
                with _transaction(connection):
                    connection.executemany(
                        f"INSERT OR REPLACE INTO records ({_STORED_COLUMNS})"
                        f" VALUES ({','.join('?' * _STORED_COUNT)})",
                        [(new, *row[1:]) for new, (_, row) in moves.items()],
                    )
                    connection.executemany(
                        f"INSERT OR REPLACE INTO thumbnails ({_THUMBNAIL_COLUMNS})"
                        " SELECT ?, size, mtime_ns, recipe, jpeg FROM thumbnails"
                        " WHERE path = ? AND size = ? AND mtime_ns = ? AND recipe = ?",
                        [(new, row[0], row[1], row[2], RECIPE_VERSION)
                         for new, (_, row) in moves.items()],
                    )
            return {path: _row_to_record(path, row) for path, row in moves.values()}

        return self._run(adopt, {})

    def store_many(
        self,
        records: Sequence[ImageRecord],
        thumbnails: Sequence[bytes | None],
        identities: Sequence[FileIdentity | None] | None = None,
    ) -> None:
        """Insert or replace records (and their thumbnails, where given) in one transaction.
        `identities` (st_dev, st_ino) let a later `adopt_moved` find a moved file."""
        if not records:
            return
        if identities is None:
            identities = [None] * len(records)
        record_rows = [
            (*_record_to_row(record), *(identity or (None, None)))
            for record, identity in zip(records, identities, strict=True)
        ]
        thumbnail_rows = [
            (os.fsencode(record.path), record.size, record.mtime_ns, RECIPE_VERSION, jpeg)
            for record, jpeg in zip(records, thumbnails, strict=True)
            if jpeg is not None
        ]

        def write(connection: sqlite3.Connection) -> None:
            with _transaction(connection):
                connection.executemany(
                    f"INSERT OR REPLACE INTO records ({_STORED_COLUMNS})"
                    f" VALUES ({','.join('?' * _STORED_COUNT)})",
                    record_rows,
                )
                connection.executemany(
                    f"INSERT OR REPLACE INTO thumbnails ({_THUMBNAIL_COLUMNS}) VALUES (?,?,?,?,?)",
                    thumbnail_rows,
                )

        self._run(write, None)

    def store(
        self,
        record: ImageRecord,
        thumbnail_jpeg: bytes | None = None,
        identity: FileIdentity | None = None,
    ) -> None:
        self.store_many([record], [thumbnail_jpeg], [identity])

    def store_digest(self, path: str, size: int, mtime_ns: int, digest: bytes) -> None:
        """Add the content digest to an existing record of this very version of the file."""

        def write(connection: sqlite3.Connection) -> None:
            with _transaction(connection):
                connection.execute(
                    "UPDATE records SET content_digest = ? WHERE path = ? AND size = ?"
                    " AND mtime_ns = ?",
                    (digest, os.fsencode(path), size, mtime_ns),
                )

        self._run(write, None)

    def forget_missing(
        self, roots: Sequence[str], present: set[str], *, keep_under: Sequence[str] = ()
    ) -> int:
        """Drop entries under `roots` whose path is not in `present` (deleted files), except
        under the folders `keep_under`. Returns how many files were forgotten."""
        present_keys = {os.fsencode(path) for path in present}
        kept_prefixes = tuple(_subtree_range(folder)[0] for folder in keep_under)

        def prune(connection: sqlite3.Connection) -> int:
            gone: set[bytes] = set()
            for root in roots:
                low, high = _subtree_range(root)
                for table in ("records", "thumbnails"):
                    rows = connection.execute(
                        f"SELECT path FROM {table} WHERE (path >= ? AND path < ?) OR path = ?",
                        (low, high, os.fsencode(root)),
                    )
                    gone.update(
                        key
                        for (key,) in rows
                        if key not in present_keys and not key.startswith(kept_prefixes)
                    )
            if gone:
                with _transaction(connection):
                    for table in ("records", "thumbnails"):
                        connection.executemany(
                            f"DELETE FROM {table} WHERE path = ?", [(key,) for key in gone]
                        )
            return len(gone)

        return self._run(prune, 0)

    # ----- thumbnails ----------------------------------------------------------------

    def thumbnail_jpeg(self, path: str, size: int, mtime_ns: int) -> bytes | None:
        """The cached 256 px JPEG thumbnail, if it is for this very version of the file."""

        def query(connection: sqlite3.Connection) -> bytes | None:
            row = connection.execute(
                "SELECT jpeg FROM thumbnails WHERE path = ? AND size = ? AND mtime_ns = ?"
                " AND recipe = ?",
                (os.fsencode(path), size, mtime_ns, RECIPE_VERSION),
            ).fetchone()
            return None if row is None else bytes(row[0])

        return self._run(query, None)

    def store_thumbnail(self, path: str, size: int, mtime_ns: int, jpeg: bytes) -> None:
        def write(connection: sqlite3.Connection) -> None:
            with _transaction(connection):
                connection.execute(
                    "INSERT OR REPLACE INTO thumbnails (path, size, mtime_ns, recipe, jpeg)"
                    " VALUES (?,?,?,?,?)",
                    (os.fsencode(path), size, mtime_ns, RECIPE_VERSION, jpeg),
                )

        self._run(write, None)

    def clear(self) -> None:
        def wipe(connection: sqlite3.Connection) -> None:
            with _transaction(connection):
                connection.execute("DELETE FROM records")
                connection.execute("DELETE FROM thumbnails")
            connection.execute("VACUUM")

        self._run(wipe, None)

    # ----- connection handling -------------------------------------------------------

    def _run(self, operation: Callable[[sqlite3.Connection], _T], fallback: _T) -> _T:
        """Run `operation`; a damaged file is rebuilt once, a lock is waited out then skipped."""
        with self._lock:
            for attempt in range(2):
                if self._connection is None:
                    return fallback
                try:
                    return operation(self._connection)
                except sqlite3.DatabaseError as error:
                    if _is_busy(error):
                        self._warn(
                            "The cache is busy in another program; some results were not cached."
                        )
                        return fallback
                    if attempt == 0 and _is_damage(error):
                        self._rebuild(f"The cache file was damaged ({error}) and has been rebuilt.")
                        continue
                    self._warn(f"The cache cannot be used ({error}); continuing without it.")
                    self.close()
            return fallback

    def _connect_or_rebuild(self) -> None:
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._connection = self._open_connection()
        except OSError as error:
            self._warn(f"The cache folder cannot be used ({error}); continuing without a cache.")
        except sqlite3.DatabaseError as error:
            if _is_busy(error):
                self._warn("The cache is locked by another program; this scan is not cached.")
            elif _is_damage(error):
                self._rebuild(f"The cache file was damaged ({error}) and has been rebuilt.")
            else:
                self._warn(f"The cache cannot be opened ({error}); continuing without a cache.")

    def _open_connection(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self._path,
            timeout=BUSY_TIMEOUT_SECONDS,
            isolation_level=None,  # explicit transactions only
            check_same_thread=False,
        )
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            if _schema_version(connection) != SCHEMA_VERSION:
                with _transaction(connection):
                    # Read again under the write lock: another instance may have just built it.
                    version = _schema_version(connection)
                    if version is not None and version != SCHEMA_VERSION:
                        connection.execute("DROP TABLE IF EXISTS records")
                        connection.execute("DROP TABLE IF EXISTS thumbnails")
                    for statement in _SCHEMA.split(";"):  # executescript would COMMIT
                        if statement.strip():
                            connection.execute(statement)
                    connection.execute(
                        "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)",
                        (str(SCHEMA_VERSION),),
                    )
            # Touch every table so a damaged file fails here rather than mid-scan.
            for table in ("records", "thumbnails"):
                connection.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT 1)")
        except BaseException:
            connection.close()
            raise
        return connection

    def _rebuild(self, message: str) -> None:
        self.close()
        try:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self._path}{suffix}").unlink(missing_ok=True)
            self._connection = self._open_connection()
        except (OSError, sqlite3.DatabaseError) as error:
            self._warn(f"The cache could not be rebuilt ({error}); continuing without a cache.")
            return
        self._warn(message)

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error): takes the write lock up front, so a
    concurrent writer makes us wait (busy timeout) instead of failing half-way."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def __enter__(self) -> None:
        self._connection.execute("BEGIN IMMEDIATE")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self._connection.execute("COMMIT")
        elif self._connection.in_transaction:
            self._connection.execute("ROLLBACK")


def _schema_version(connection: sqlite3.Connection) -> int | None:
    exists = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()
    if exists is None:
        return None
    row = connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    return None if row is None else int(row[0])


def _is_busy(error: sqlite3.DatabaseError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    return "locked" in str(error) or "busy" in str(error)


def _is_damage(error: sqlite3.DatabaseError) -> bool:
    """A malformed file, or not a database at all: the only errors worth a rebuild, which
    deletes every cached entry. A full or read-only disk, a failed read or write (an I/O
    error: a network home folder, a failing drive) may pass; the cache is then only
    bypassed."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
    return "malformed" in str(error) or "not a database" in str(error)


def _subtree_range(root: str) -> tuple[bytes, bytes]:
    """[low, high) of the encoded paths strictly inside folder `root`."""
    prefix = os.fsencode(root.rstrip(os.sep) + os.sep)
    return prefix, prefix[:-1] + bytes([prefix[-1] + 1])


def _to_signed(value: int) -> int:
    return value - _U64 if value >= _SIGN_BIT else value


def _to_unsigned(value: int) -> int:
    return value + _U64 if value < 0 else value


def _record_to_row(record: ImageRecord) -> tuple[object, ...]:
    dihedral = struct.pack(f">{len(record.phash_dihedral)}Q", *record.phash_dihedral)
    return (
        os.fsencode(record.path),
        record.size,
        record.mtime_ns,
        RECIPE_VERSION,
        record.width,
        record.height,
        record.format,
        record.capture_time,
        _to_signed(record.dhash),
        _to_signed(record.phash),
        dihedral,
        record.micro,
        record.content_digest,
        record.jpeg_quality,
        record.camera,
        record.software,
        int(record.edited_after_capture),
        record.pixel_digest,
        record.detail,
    )


def _row_to_record(path: str, row: tuple[Any, ...]) -> ImageRecord:
    dihedral_blob = bytes(row[10])
    digest = row[12]
    return ImageRecord(
        path=path,
        size=row[1],
        mtime_ns=row[2],
        width=row[4],
        height=row[5],
        format=row[6],
        capture_time=row[7],
        dhash=_to_unsigned(row[8]),
        phash=_to_unsigned(row[9]),
        phash_dihedral=struct.unpack(f">{len(dihedral_blob) // 8}Q", dihedral_blob),
        micro=bytes(row[11]),
        content_digest=None if digest is None else bytes(digest),
        jpeg_quality=row[13],
        camera=row[14],
        software=row[15],
        edited_after_capture=bool(row[16]),
        pixel_digest=None if row[17] is None else bytes(row[17]),
        detail=bytes(row[18]),
    )
