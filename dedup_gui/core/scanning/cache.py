"""Persistent hash cache: SQLite, keyed by (path, size, mtime_ns, recipe version).

- A file moved or renamed on the same file system keeps its entry: on a path miss the
  file is found by (device, inode, size, mtime_ns), all four of which a move keeps and an
  edit or a new file reusing a freed inode almost never does (`adopt_moved`).
- WAL journal and a busy timeout, so two app instances can scan at once; every write is
  one short transaction.
- Damage never stops a scan. Each row carries a checksum (`cache_rows`): a row that fails
  it is a miss and is dropped, and `warnings` says once how many there were. Any other
  failure to read the cache (a malformed or foreign file, a damaged index handing back a
  row that was not asked for, a value that cannot be decoded) deletes the file and
  rebuilds it. `PRAGMA quick_check` runs on open once a week, for damage no read has met.
- A cache another program holds the write lock of is waited for once (the busy timeout);
  after that, writes are kept in memory (up to PENDING_LIMIT_BYTES) and tried again with a
  short timeout every LOCKED_RETRY_SECONDS and on close, while reads go on (WAL).
- A cache that cannot be created, or fails to read or write (full disk, I/O error), is
  bypassed and kept. Either way the scan goes on and `warnings` says what happened.
- Paths are stored as file-system bytes (`os.fsencode`), so undecodable names round-trip.
- Safe to share between threads (one connection behind a lock).
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import platformdirs

from dedup_gui.core.files.imagetypes import is_raw_format, raw_kind_by_extension
from dedup_gui.core.images.recipe import RECIPE_VERSION
from dedup_gui.core.models import ImageRecord
from dedup_gui.core.scanning import cache_rows as rows
from dedup_gui.core.scanning.cache_rows import FileIdentity, StoredRow
from dedup_gui.core.scanning.cache_schema import (
    CHECKED_AT_KEY,
    DERIVED_TABLES,
    SCHEMA_VERSION,
    NewerSchemaError,
    get_meta,
    schema_version,
    set_meta,
    upgrade,
)

__all__ = [
    "CACHE_DIR_ENV",
    "CACHE_FILE_NAME",
    "LOCKED_WARNING",
    "SCHEMA_VERSION",
    "FileIdentity",
    "HashCache",
]

CACHE_DIR_ENV = "DEDUP_GUI_CACHE_DIR"
CACHE_FILE_NAME = "hashes.sqlite3"
BUSY_TIMEOUT_SECONDS = 3.0
"""How long a write waits once for another writer. Our own writes hold the lock for
milliseconds (one batch a transaction), so a longer wait only means another program holds
it: then writes are held back (LOCKED_RETRY_SECONDS) rather than stalling the scan."""
LOCKED_RETRY_SECONDS = 30.0
"""While another program holds the write lock, unsaved writes are tried again this often."""
RETRY_TIMEOUT_SECONDS = 0.05
"""How long such a retry (and any write that may be skipped) waits for the lock."""
PENDING_LIMIT_BYTES = 32 << 20
"""Unsaved records and thumbnails kept in memory while the cache is locked; beyond this
they are not kept (the files are read again next time)."""
QUICK_CHECK_INTERVAL_SECONDS = 7 * 24 * 3600.0
_QUERY_CHUNK = 500


def _chunks(values: Sequence[_T]) -> Iterator[Sequence[_T]]:
    """`values` in runs of _QUERY_CHUNK: one `IN (...)` query each (SQLite's limit on
    bound parameters)."""
    for start in range(0, len(values), _QUERY_CHUNK):
        yield values[start : start + _QUERY_CHUNK]


LOCKED_WARNING = (
    "The cache is locked by another program; this scan's results are not being saved to it"
)
_READ_BUSY_WARNING = "The cache is busy in another program; some cached results were not read."

_RECORD_LIST = rows.column_list(rows.RECORD_COLUMNS)
_THUMBNAIL_LIST = rows.column_list(rows.THUMBNAIL_COLUMNS)
_INSERT_RECORD = (
    f"INSERT OR REPLACE INTO records ({_RECORD_LIST})"
    f" VALUES ({','.join('?' * (len(rows.RECORD_COLUMNS) + 1))})"
)
_CONVERSION_LIST = rows.column_list(rows.CONVERSION_COLUMNS)
_INSERT_CONVERSION = (
    f"INSERT OR REPLACE INTO conversions ({_CONVERSION_LIST})"
    f" VALUES ({','.join('?' * (len(rows.CONVERSION_COLUMNS) + 1))})"
)
_INSERT_THUMBNAIL = (
    f"INSERT OR REPLACE INTO thumbnails ({_THUMBNAIL_LIST})"
    f" VALUES ({','.join('?' * (len(rows.THUMBNAIL_COLUMNS) + 1))})"
)

_SQLITE_PERM = 3
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_NOMEM = 7
_SQLITE_READONLY = 8
_SQLITE_INTERRUPT = 9
_SQLITE_IOERR = 10
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
_SQLITE_NOLFS = 22
_SQLITE_AUTH = 23
_NOT_DAMAGE = frozenset({
    _SQLITE_PERM, _SQLITE_NOMEM, _SQLITE_READONLY, _SQLITE_INTERRUPT, _SQLITE_IOERR,
    _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOLFS, _SQLITE_AUTH,
})
"""Failures of the disk or the system, not of the file: the cache is bypassed, never
deleted. Every other failure while reading or writing it counts as damage."""

_T = TypeVar("_T")
FileKey = tuple[str, int, int]
"""(path, size, mtime_ns): one version of a file."""


class _IndexDamage(Exception):
    """An index handed back a row that was not asked for."""


class _QuickCheckFailed(Exception):
    pass


@dataclass
class _PendingWrites:
    """Writes not yet in the file: staged for one transaction, or kept while it is locked."""

    records: dict[bytes, StoredRow] = field(default_factory=dict)
    thumbnails: dict[bytes, StoredRow] = field(default_factory=dict)
    digests: dict[tuple[bytes, int, int], bytes] = field(default_factory=dict)
    size: int = 0

    def add(
        self,
        records: Iterable[StoredRow],
        thumbnails: Iterable[StoredRow],
        digests: Iterable[tuple[bytes, int, int, bytes]],
        limit: int | None,
    ) -> None:
        """Beyond `limit` bytes (when given), rows are not kept."""
        for table, stored in ((self.records, records), (self.thumbnails, thumbnails)):
            for row in stored:
                row_bytes = sum(len(value) for value in row if isinstance(value, bytes))
                if limit is not None and self.size + row_bytes > limit and self:
                    return
                table[row[0]] = row
                self.size += row_bytes
        for path, size, mtime_ns, digest in digests:
            self.digests[path, size, mtime_ns] = digest

    def __bool__(self) -> bool:
        return bool(self.records or self.thumbnails or self.digests)


class HashCache:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        self._lock = threading.RLock()
        self._connection: sqlite3.Connection | None = None
        self.warnings: list[str] = []
        self._damaged_entries = 0
        self._pending = _PendingWrites()
        self._locked_retry_at: float | None = None
        """Set while another program holds the write lock: when to try again."""
        self._connect_or_rebuild()

    @classmethod
    def open_default(cls) -> HashCache:
        """The cache in $DEDUP_GUI_CACHE_DIR, else in the user's cache folder."""
        return cls(cls.default_folder() / CACHE_FILE_NAME)

    @staticmethod
    def default_folder() -> Path:
        """Where the default cache lives (and what is kept beside it)."""
        return Path(os.environ.get(CACHE_DIR_ENV) or platformdirs.user_cache_dir("dedup-gui"))

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
        """Close, after one last short try at saving what a lock kept out."""
        with self._lock:
            if self._pending and self._connection is not None:
                self._write_pending(RETRY_TIMEOUT_SECONDS)
            self._pending = _PendingWrites()
            self._disconnect()

    # ----- records -------------------------------------------------------------------

    def lookup_many(self, stats: Iterable[tuple[str, int, int]]) -> dict[str, ImageRecord]:
        """Fresh cached records for (path, size, mtime_ns) keys, by path. Misses are absent."""
        found: dict[str, ImageRecord] = {}
        for path, row in self.fresh_rows(stats).items():
            record = rows.decoded_record(row)  # verified as it was read
            if record is not None:
                found[path] = record
        return found

    def fresh_rows(
        self,
        stats: Iterable[tuple[str, int, int]],
        sealed_as: Sequence[bytes | None] | None = None,
    ) -> dict[str, StoredRow]:
        """The intact record rows (cache_rows.RECORD_COLUMNS, then the checksum) of the
        (path, size, mtime_ns) keys whose entry is for this very version of the file and
        is read as it is read now, by path: what `lookup_many` decodes. The scan builds
        its records from them (cache_rows.seen_record).

        `sealed_as`: per key, the checksum its row had when the caller saw it (a
        snapshot's, covered by the snapshot's own digest). A row that still ends with it
        is taken without computing its checksum again (a display only: the scan that
        checks a snapshot verifies every row); another is verified as usual."""
        encoding, errors = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()
        stats = list(stats)
        wanted = {path.encode(encoding, errors): (path, size, mtime_ns)
                  for path, size, mtime_ns in stats}
        keys = list(wanted)
        known = None if sealed_as is None else {
            path.encode(encoding, errors): checksum
            for (path, _, _), checksum in zip(stats, sealed_as, strict=True)
            if checksum is not None
        }

        def query(connection: sqlite3.Connection) -> dict[bytes, StoredRow]:
            stored: dict[bytes, StoredRow] = {}
            for chunk in _chunks(keys):
                stored.update(self._select_records(connection, "path", chunk, wanted, known))
            return stored

        with self._lock:
            stored = self._run(query, {})
            stored.update((key, row) for key, row in self._pending.records.items() if key in wanted)
        found: dict[str, StoredRow] = {}
        size_at, mtime_at, recipe_at, format_at = rows.SIZE, rows.MTIME, rows.RECIPE, rows.FORMAT
        for key, row in stored.items():
            path, size, mtime_ns = wanted[key]
            if (
                row[size_at] == size and row[mtime_at] == mtime_ns
                and row[recipe_at] == RECIPE_VERSION
                and _read_as_it_is_read_now(path, row[format_at])
            ):
                found[path] = row
        return found

    def count_under(self, roots: Sequence[str]) -> int:
        """How many record rows there are for paths inside the folders `roots` (a row
        inside two of them counts twice; rows of any recipe), from the index alone."""

        def query(connection: sqlite3.Connection) -> int:
            return sum(
                connection.execute(
                    "SELECT COUNT(*) FROM records WHERE path >= ? AND path < ?", (low, high)
                ).fetchone()[0]
                for low, high in (_subtree_range(root) for root in roots)
            )

        with self._lock:
            return self._run(query, 0)

    def rows_under(self, roots: Sequence[str]) -> list[StoredRow]:
        """Every record row stored for a path inside the folders `roots`, of this recipe
        and read as it is read now, as it is: NOT verified (cache_preview shows them while
        the scan that checks them verifies every row). Each path once."""
        ranges = [_subtree_range(root) for root in roots]

        def query(connection: sqlite3.Connection) -> list[StoredRow]:
            found: list[StoredRow] = []
            for low, high in ranges:
                found += connection.execute(
                    f"SELECT {_RECORD_LIST} FROM records WHERE path >= ? AND path < ?",
                    (low, high),
                ).fetchall()
            return found

        with self._lock:
            found = self._run(query, [])
            pending = [row for key, row in self._pending.records.items()
                       if any(low <= key < high for low, high in ranges)]
        if pending or len(ranges) > 1:  # nested roots list a row twice; a pending one wins
            found = list({row[0]: row for row in (*found, *pending)}.values())
        recipe_at, format_at = rows.RECIPE, rows.FORMAT
        return [
            row for row in found
            if type(row[0]) is bytes and row[recipe_at] == RECIPE_VERSION
            and _read_as_it_is_read_now(os.fsdecode(row[0]), row[format_at])
        ]

    def row_checksums(self, paths: Sequence[str]) -> dict[str, bytes]:
        """The checksums the record rows of `paths` end with now, by path (not verified:
        for `fresh_rows(sealed_as=...)` later, which only takes a row that still ends with
        one as it is; a damaged row's shows the damage to no one but a display)."""
        encoding, errors = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()
        keys = {path.encode(encoding, errors): path for path in paths}
        asked = list(keys)

        def query(connection: sqlite3.Connection) -> dict[bytes, bytes]:
            stored: dict[bytes, bytes] = {}
            for chunk in _chunks(asked):
                stored.update(connection.execute(
                    f"SELECT path, checksum FROM records WHERE path IN"
                    f" ({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchall())
            return stored

        with self._lock:
            stored = self._run(query, {})
            stored.update((key, row[-1]) for key, row in self._pending.records.items()
                          if key in keys)
        return {keys[key]: bytes(value) for key, value in stored.items()
                if key in keys and type(value) is bytes}

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

        def find(connection: sqlite3.Connection) -> tuple[dict[bytes, StoredRow], list[StoredRow]]:
            moves: dict[bytes, StoredRow] = {}  # new path -> old row
            for chunk in _chunks(inodes):
                by_inode = self._select_records(connection, "ino", chunk)
                for row in by_inode.values():
                    if row[rows.RECIPE] != RECIPE_VERSION:
                        continue
                    record = rows.decoded_record(row)
                    if record is None or not _read_as_it_is_read_now(record.path, record.format):
                        continue
                    for path, size, mtime_ns, dev in wanted.get(row[rows.INO], ()):
                        new = os.fsencode(path)
                        old = (row[rows.SIZE], row[rows.MTIME], row[rows.DEV])
                        if new != row[rows.PATH] and old == (size, mtime_ns, dev):
                            moves.setdefault(new, row)
            thumbnails = self._select_thumbnails(
                connection, [row[rows.PATH] for row in moves.values()]
            )
            return moves, [
                rows.moved_row(thumbnails[row[rows.PATH]], new)
                for new, row in moves.items()
                if row[rows.PATH] in thumbnails
                and thumbnails[row[rows.PATH]][1:4]
                == (row[rows.SIZE], row[rows.MTIME], row[rows.RECIPE])
            ]

        with self._lock:
            moves, thumbnail_rows = self._run(find, ({}, []))
            moved_rows = [rows.moved_row(row, new) for new, row in moves.items()]
            adopted = {os.fsdecode(row[rows.PATH]): rows.decoded_record(row) for row in moved_rows}
            self._save(moved_rows, thumbnail_rows, [])
        return {path: record for path, record in adopted.items() if record is not None}

    def store_many(
        self,
        records: Sequence[ImageRecord],
        thumbnails: Sequence[bytes | None],
        identities: Sequence[FileIdentity | None] | None = None,
    ) -> None:
        """Insert or replace records (and their thumbnails, where given) in one transaction.
        `identities` (st_dev, st_ino) let a later `adopt_moved` find a moved file. Returns
        at once while another program holds the write lock (the rows are kept for later)."""
        if not records:
            return
        if identities is None:
            identities = [None] * len(records)
        record_rows = [
            rows.record_row(record, RECIPE_VERSION, identity)
            for record, identity in zip(records, identities, strict=True)
        ]
        thumbnail_rows = [
            rows.thumbnail_row(
                os.fsencode(record.path), record.size, record.mtime_ns, RECIPE_VERSION, jpeg
            )
            for record, jpeg in zip(records, thumbnails, strict=True)
            if jpeg is not None
        ]
        self._save(record_rows, thumbnail_rows, [])

    def store(
        self,
        record: ImageRecord,
        thumbnail_jpeg: bytes | None = None,
        identity: FileIdentity | None = None,
    ) -> None:
        self.store_many([record], [thumbnail_jpeg], [identity])

    def store_digest(self, path: str, size: int, mtime_ns: int, digest: bytes) -> None:
        """Add the content digest to an existing record of this very version of the file."""
        self._save([], [], [(os.fsencode(path), size, mtime_ns, bytes(digest))])

    # ----- conversions (scanning/confirm_conversions.py) ------------------------------

    def conversion_verdicts(
        self, pairs: Sequence[tuple[FileKey, FileKey]], rule: int
    ) -> dict[tuple[str, str], bool]:
        """The stored verdicts (does the lossless file hold the lossy one's decode?) of
        (lossless, lossy) pairs made by `rule` for these very versions of both files, by
        (lossless path, lossy path). Misses and damaged rows are absent."""
        wanted = {(os.fsencode(a[0]), os.fsencode(b[0])): (a, b) for a, b in pairs}
        paths = sorted({key[0] for key in wanted})

        def query(connection: sqlite3.Connection) -> list[tuple[object, ...]]:
            found: list[tuple[object, ...]] = []
            for chunk in _chunks(paths):
                found.extend(connection.execute(
                    f"SELECT {_CONVERSION_LIST} FROM conversions WHERE path IN"
                    f" ({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchall())
            return found

        verdicts: dict[tuple[str, str], bool] = {}
        for row in self._run(query, []) if wanted else []:
            pair = wanted.get((row[0], row[3]))  # type: ignore[arg-type]
            if pair is None or not rows.is_intact(row):
                continue
            (path, size, mtime_ns), (source, source_size, source_mtime_ns) = pair
            if tuple(row[1:3]) + tuple(row[4:7]) == (
                size, mtime_ns, source_size, source_mtime_ns, rule
            ):
                verdicts[path, source] = bool(row[7])
        return verdicts

    def store_conversions(
        self,
        verdicts: Sequence[tuple[FileKey, FileKey, bool]],
        rule: int,
        holding: Sequence[ImageRecord] = (),
    ) -> None:
        """Keep `verdicts` (lossless, lossy, holds) made by `rule`, and set the
        holds_decode_of of the cached records of `holding` (where still of that version of
        the file). Not kept while another program holds the write lock: the pairs are
        compared again next time."""
        verdict_rows = [
            rows.conversion_row(lossless, lossy, rule, holds) for lossless, lossy, holds in verdicts
        ]
        changed = {os.fsencode(r.path): r for r in holding}

        def write(connection: sqlite3.Connection) -> None:
            with _transaction(connection):
                connection.executemany(_INSERT_CONVERSION, verdict_rows)
                keys = list(changed)
                for chunk in _chunks(keys):
                    found = self._select_records(connection, "path", chunk, set(chunk))
                    for key, row in found.items():
                        record = changed[key]
                        if (row[rows.SIZE], row[rows.MTIME]) == (record.size, record.mtime_ns):
                            connection.execute(
                                _INSERT_RECORD,
                                rows.with_holds_decode_of(row, record.holds_decode_of),
                            )

        with self._lock:
            if self._locked_retry_at is not None or not (verdict_rows or changed):
                return
            self._run(write, None, on_busy=self._became_locked)

    def forget_missing(
        self, roots: Sequence[str], present: set[str], *, keep_under: Sequence[str] = ()
    ) -> int:
        """Drop entries under `roots` whose path is not in `present` (deleted files), except
        under the folders `keep_under`. Returns how many files were forgotten (0 while
        another program holds the write lock: they are forgotten next time)."""
        present_keys = {os.fsencode(path) for path in present}
        kept_prefixes = tuple(_subtree_range(folder)[0] for folder in keep_under)

        def prune(connection: sqlite3.Connection) -> int:
            gone: set[bytes] = set()
            for root in roots:
                low, high = _subtree_range(root)
                for table in DERIVED_TABLES:
                    found = connection.execute(
                        f"SELECT path FROM {table} WHERE (path >= ? AND path < ?) OR path = ?",
                        (low, high, os.fsencode(root)),
                    )
                    gone.update(
                        key
                        for (key,) in found
                        if key not in present_keys and not key.startswith(kept_prefixes)
                    )
            if gone:
                with _transaction(connection):
                    for table in DERIVED_TABLES:
                        connection.executemany(
                            f"DELETE FROM {table} WHERE path = ?", [(key,) for key in gone]
                        )
            return len(gone)

        with self._lock:
            if self._locked_retry_at is not None:
                return 0
            return self._run(prune, 0, on_busy=self._became_locked)

    # ----- thumbnails ----------------------------------------------------------------

    def thumbnail_jpeg(self, path: str, size: int, mtime_ns: int) -> bytes | None:
        """The cached 256 px JPEG thumbnail, if it is for this very version of the file."""
        key = os.fsencode(path)
        with self._lock:
            row = self._pending.thumbnails.get(key)
            if row is None:
                row = self._run(lambda c: self._select_thumbnails(c, [key]).get(key), None)
        if row is None or tuple(row[1:4]) != (size, mtime_ns, RECIPE_VERSION):
            return None
        return bytes(row[rows.JPEG])

    def store_thumbnail(self, path: str, size: int, mtime_ns: int, jpeg: bytes) -> None:
        row = rows.thumbnail_row(os.fsencode(path), size, mtime_ns, RECIPE_VERSION, jpeg)
        self._save([], [row], [])

    def clear(self) -> None:
        def wipe(connection: sqlite3.Connection) -> None:
            with _transaction(connection):
                for table in DERIVED_TABLES:
                    connection.execute(f"DELETE FROM {table}")
            connection.execute("VACUUM")

        with self._lock:
            self._pending = _PendingWrites()
            self._run(wipe, None, on_busy=self._became_locked)

    # ----- reading rows --------------------------------------------------------------

    def _select_records(
        self,
        connection: sqlite3.Connection,
        column: str,
        values: Sequence[object],
        wanted: Iterable[bytes] | None = None,
        known: dict[bytes, bytes] | None = None,
    ) -> dict[bytes, StoredRow]:
        """Intact record rows whose `column` is one of `values`, by path. Damaged ones are
        dropped; a path that was not asked for (`wanted`) means a damaged index. `known`:
        checksums by path of rows taken as intact when they still end with them."""
        found = connection.execute(
            f"SELECT {_RECORD_LIST}, rowid FROM records WHERE {column} IN"
            f" ({','.join('?' * len(values))})",
            values,
        ).fetchall()
        return self._intact(connection, "records", found, wanted, known)

    def _select_thumbnails(
        self, connection: sqlite3.Connection, paths: Sequence[bytes]
    ) -> dict[bytes, StoredRow]:
        intact: dict[bytes, StoredRow] = {}
        for chunk in _chunks(paths):
            found = connection.execute(
                f"SELECT {_THUMBNAIL_LIST}, rowid FROM thumbnails WHERE path IN"
                f" ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            intact.update(self._intact(connection, "thumbnails", found, set(chunk)))
        return intact

    def _intact(
        self,
        connection: sqlite3.Connection,
        table: str,
        found: list[tuple[object, ...]],
        wanted: Iterable[bytes] | None,
        known: dict[bytes, bytes] | None = None,
    ) -> dict[bytes, StoredRow]:
        """`found`: stored rows with their rowid after the checksum."""
        intact: dict[bytes, StoredRow] = {}
        damaged: list[object] = []
        is_intact = rows.is_intact
        known = known or {}
        for found_row in found:
            row = found_row[:-1]
            if not (row[-1] == known.get(row[0]) or is_intact(row)):
                damaged.append(found_row[-1])
            elif wanted is not None and row[0] not in wanted:
                raise _IndexDamage(f"the {table} index is damaged")
            else:
                intact[row[0]] = row
        if damaged:
            self._drop_damaged(connection, table, damaged)
        return intact

    def _drop_damaged(
        self, connection: sqlite3.Connection, table: str, rowids: list[object]
    ) -> None:
        """Count damaged rows (warned once per cache, with the total) and delete them if
        the write lock is free right now."""
        self._damaged_entries += len(rowids)
        plural = "entry was" if self._damaged_entries == 1 else "entries were"
        self._warn_replacing(
            "damaged and not used",
            f"{self._damaged_entries} cache {plural} damaged and not used;"
            " those files are read again.",
        )
        if self._locked_retry_at is not None:
            return
        _set_busy_timeout(connection, RETRY_TIMEOUT_SECONDS)
        try:
            with _transaction(connection):
                connection.executemany(
                    f"DELETE FROM {table} WHERE rowid = ?", [(rowid,) for rowid in rowids]
                )
        except sqlite3.DatabaseError as error:
            if not _is_busy(error):
                raise
        finally:
            _set_busy_timeout(connection, BUSY_TIMEOUT_SECONDS)

    # ----- writing -------------------------------------------------------------------

    def _save(
        self,
        records: list[StoredRow],
        thumbnails: list[StoredRow],
        digests: list[tuple[bytes, int, int, bytes]],
    ) -> None:
        """Write now, or keep for later while another program holds the write lock."""
        if not (records or thumbnails or digests):
            return
        with self._lock:
            if self._connection is None:
                return
            locked = self._locked_retry_at is not None
            limit = PENDING_LIMIT_BYTES if locked else None
            self._pending.add(records, thumbnails, digests, limit)
            if not locked:
                self._write_pending(BUSY_TIMEOUT_SECONDS)
            elif time.monotonic() >= self._locked_retry_at:
                self._write_pending(RETRY_TIMEOUT_SECONDS)

    def _write_pending(self, timeout: float) -> None:
        pending = self._pending

        def write(connection: sqlite3.Connection) -> bool:
            _set_busy_timeout(connection, timeout)
            try:
                with _transaction(connection):
                    connection.executemany(_INSERT_RECORD, list(pending.records.values()))
                    connection.executemany(_INSERT_THUMBNAIL, list(pending.thumbnails.values()))
                    for (path, size, mtime_ns), digest in pending.digests.items():
                        self._add_digest(connection, path, size, mtime_ns, digest)
            finally:
                _set_busy_timeout(connection, BUSY_TIMEOUT_SECONDS)
            return True

        if self._run(write, False, on_busy=self._became_locked):
            self._locked_retry_at = None
            self._pending = _PendingWrites()

    def _add_digest(
        self, connection: sqlite3.Connection, path: bytes, size: int, mtime_ns: int, digest: bytes
    ) -> None:
        found = self._select_records(connection, "path", [path], {path}).get(path)
        if found is not None and (found[rows.SIZE], found[rows.MTIME]) == (size, mtime_ns):
            connection.execute(_INSERT_RECORD, rows.with_digest(found, digest))

    def _became_locked(self) -> None:
        self._locked_retry_at = time.monotonic() + LOCKED_RETRY_SECONDS
        self._warn(LOCKED_WARNING)

    # ----- connection handling -------------------------------------------------------

    def _run(
        self,
        operation: Callable[[sqlite3.Connection], _T],
        fallback: _T,
        *,
        on_busy: Callable[[], None] | None = None,
    ) -> _T:
        """Run `operation`. Damage rebuilds the file once (then the operation runs on the
        new one); a lock calls `on_busy` (a read: warns); a failing disk bypasses."""
        with self._lock:
            for attempt in range(2):
                if self._connection is None:
                    return fallback
                try:
                    return operation(self._connection)
                except sqlite3.DatabaseError as error:
                    if _is_busy(error):
                        if on_busy is None:
                            self._warn(_READ_BUSY_WARNING)
                        else:
                            on_busy()
                        return fallback
                    if not _is_damage(error):
                        self._warn(f"The cache cannot be used ({error}); continuing without it.")
                        self._disconnect()
                        return fallback
                    damage: Exception = error
                except Exception as error:  # whatever a damaged file makes us raise
                    damage = error
                if attempt == 0:
                    self._rebuild(_damaged_message(damage))
                else:
                    self._warn(f"The cache cannot be used ({damage}); continuing without it.")
                    self._disconnect()
            return fallback

    def _connect_or_rebuild(self) -> None:
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._connection = self._open_connection()
        except OSError as error:
            self._warn(f"The cache folder cannot be used ({error}); continuing without a cache.")
        except NewerSchemaError:
            self._warn(
                "The cache was written by a newer version of dedup-gui; continuing without it."
            )
        except sqlite3.DatabaseError as error:
            if _is_busy(error):
                self._warn("The cache is locked by another program; this scan is not cached.")
            elif _is_damage(error):
                self._rebuild(_damaged_message(error))
            else:
                self._warn(f"The cache cannot be opened ({error}); continuing without a cache.")
        except Exception as error:  # a damaged file can make us raise anything
            self._rebuild(_damaged_message(error))

    def _open_connection(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self._path,
            timeout=BUSY_TIMEOUT_SECONDS,
            isolation_level=None,  # explicit transactions only
            check_same_thread=False,
        )
        # Damaged text must reach the checksum, not fail the whole query.
        connection.text_factory = _text
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            if schema_version(connection) != SCHEMA_VERSION:
                with _transaction(connection):
                    upgrade(connection, now=time.time())  # reads the version again, locked
            # Touch every table so a damaged file fails here rather than mid-scan.
            for table in DERIVED_TABLES:
                connection.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT 1)")
            _quick_check_if_due(connection)
        except BaseException:
            connection.close()
            raise
        return connection

    def _rebuild(self, message: str) -> None:
        self._disconnect()
        try:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{self._path}{suffix}").unlink(missing_ok=True)
            self._connection = self._open_connection()
        except (OSError, sqlite3.DatabaseError, NewerSchemaError) as error:
            self._warn(f"The cache could not be rebuilt ({error}); continuing without a cache.")
            return
        self._warn(message)

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def _warn_replacing(self, marker: str, message: str) -> None:
        """One warning whose text changes (a running count): replaced in place."""
        for index, warning in enumerate(self.warnings):
            if marker in warning:
                self.warnings[index] = message
                return
        self.warnings.append(message)


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error): takes the write lock up front, so a
    concurrent writer makes us wait (busy timeout) instead of failing half-way. Nested in
    another, it joins it."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._outer = False

    def __enter__(self) -> None:
        self._outer = not self._connection.in_transaction
        if self._outer:
            self._connection.execute("BEGIN IMMEDIATE")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if not self._outer:
            return
        if exc_type is None:
            self._connection.execute("COMMIT")
        elif self._connection.in_transaction:
            self._connection.execute("ROLLBACK")


def _quick_check_if_due(connection: sqlite3.Connection) -> None:
    """PRAGMA quick_check when the last one passed a week ago or more (or never): damage in
    pages no read has met yet (see benchmarks/bench_cache_check.py for its cost)."""
    checked_at = get_meta(connection, CHECKED_AT_KEY)
    now = time.time()
    if checked_at is not None and 0 <= now - float(checked_at) < QUICK_CHECK_INTERVAL_SECONDS:
        return
    problems = [row[0] for row in connection.execute("PRAGMA quick_check(5)")]
    if problems != ["ok"]:
        raise _QuickCheckFailed("; ".join(str(problem) for problem in problems))
    _set_busy_timeout(connection, RETRY_TIMEOUT_SECONDS)
    try:
        with _transaction(connection):
            set_meta(connection, CHECKED_AT_KEY, str(now))
    except sqlite3.DatabaseError as error:
        if not _is_busy(error):
            raise  # locked: checked again next time
    finally:
        _set_busy_timeout(connection, BUSY_TIMEOUT_SECONDS)


def _set_busy_timeout(connection: sqlite3.Connection, seconds: float) -> None:
    connection.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _damaged_message(error: Exception) -> str:
    detail = str(error) or type(error).__name__
    return f"The cache file was damaged ({detail}) and has been rebuilt."


def _error_code(error: sqlite3.DatabaseError) -> int | None:
    code = getattr(error, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def _is_busy(error: sqlite3.DatabaseError) -> bool:
    code = _error_code(error)
    if code is not None:
        return code in (_SQLITE_BUSY, _SQLITE_LOCKED)
    return "locked" in str(error) or "busy" in str(error)


def _is_damage(error: sqlite3.DatabaseError) -> bool:
    """Everything but a lock and a failing disk or system (a full or read-only disk, a
    failed read or write on a network home folder or a failing drive, no memory): those
    may pass, so the cache is only bypassed, never deleted."""
    code = _error_code(error)
    if code is not None:
        return code not in _NOT_DAMAGE and code not in (_SQLITE_BUSY, _SQLITE_LOCKED)
    text = str(error)
    return not any(word in text for word in ("disk I/O", "full", "readonly", "unable to open"))


def _subtree_range(root: str) -> tuple[bytes, bytes]:
    """[low, high) of the encoded paths strictly inside folder `root`."""
    prefix = os.fsencode(root.rstrip(os.sep) + os.sep)
    return prefix, prefix[:-1] + bytes([prefix[-1] + 1])


def _read_as_it_is_read_now(path: str, image_format: object) -> bool:
    """A camera RAW cached as its small TIFF preview (before RAW files were read through
    LibRaw) is read again."""
    if type(image_format) is str and is_raw_format(image_format):
        return True
    return raw_kind_by_extension(path) is None
