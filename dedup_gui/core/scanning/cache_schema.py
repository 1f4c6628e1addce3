"""The cache database's tables and how an older file is brought up to date.

Two kinds of table live in the cache file:
- derived tables (`DERIVED_TABLES`: records, thumbnails) hold what a scan can compute
  again; a version step may drop and recreate them (`rebuild_derived_tables`);
- every other table holds what only the user can say (an ignore list, saved marks, a trash
  log). A version step must carry those over with ALTER TABLE or a copy; nothing here ever
  drops them, and a file written by a newer version is left untouched (the cache is
  bypassed) rather than "migrated" backwards.

Upgrading runs `MIGRATIONS[v]` for v = stored version, stored version + 1, ... each in the
same transaction, then creates any table still missing (`CREATE TABLE IF NOT EXISTS`, so a
new table of the current layout needs no step of its own). A version with no step (the
first layouts, before steps existed) gets its derived tables rebuilt.

Changing a derived table's columns: bump SCHEMA_VERSION and add
`MIGRATIONS[old] = rebuild_derived_tables` (or a step that keeps the rows).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from dedup_gui.core.scanning.cache_rows import (
    CHECKSUM_COLUMN,
    CONVERSION_COLUMNS,
    RECORD_COLUMNS,
    THUMBNAIL_COLUMNS,
    column_list,
    is_intact,
    sealed,
    table_definition,
)

SCHEMA_VERSION = 7
DERIVED_TABLES = ("records", "thumbnails", "descriptors", "conversions")
CHECKED_AT_KEY = "quick_check_at"
"""meta: when PRAGMA quick_check last passed (Unix seconds)."""

_TABLES = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    table_definition("records", RECORD_COLUMNS),
    "CREATE INDEX IF NOT EXISTS records_by_inode ON records (ino)",
    table_definition("thumbnails", THUMBNAIL_COLUMNS),
    # Deep copy-detection descriptors (core/deep/store.py reads and writes them): float16,
    # one model at a time per file, `model` naming the model and its input recipe.
    "CREATE TABLE IF NOT EXISTS descriptors (path BLOB PRIMARY KEY, size INTEGER NOT NULL,"
    " mtime_ns INTEGER NOT NULL, model TEXT NOT NULL, vector BLOB NOT NULL,"
    " checksum BLOB NOT NULL)",
    # Verdicts of images.decode_match (scanning/confirm_conversions.py), one a pair.
    table_definition("conversions", CONVERSION_COLUMNS)[:-2]
    + ",\n    PRIMARY KEY (path, source_path)\n)",
)
_RESEAL_BATCH = 1000


class NewerSchemaError(Exception):
    """The file was written by a newer version of the app: never touched."""


def schema_version(connection: sqlite3.Connection) -> int | None:
    exists = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()
    if exists is None:
        return None
    row = connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    return None if row is None else int(row[0])


def upgrade(connection: sqlite3.Connection, *, now: float) -> None:
    """Bring the file to SCHEMA_VERSION; run inside a write transaction."""
    version = schema_version(connection)
    if version is not None and version > SCHEMA_VERSION:
        raise NewerSchemaError(version)
    fresh = version is None or not _has_table(connection, "records")
    while version is not None and version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            rebuild_derived_tables(connection)
            break
        step(connection)
        version += 1
    create_missing_tables(connection)
    set_meta(connection, "schema", str(SCHEMA_VERSION))
    if fresh:  # nothing to check yet
        set_meta(connection, CHECKED_AT_KEY, str(now))


def create_missing_tables(connection: sqlite3.Connection) -> None:
    for statement in _TABLES:
        connection.execute(statement)


def rebuild_derived_tables(connection: sqlite3.Connection) -> None:
    """Drop what a scan can compute again; `create_missing_tables` makes them anew."""
    for table in DERIVED_TABLES:
        connection.execute(f"DROP TABLE IF EXISTS {table}")


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    # 3 added row checksums and 4 the keeper's provenance (JPEG quality, camera, ...); the
    # signatures' recipe changed with 4 (signatures.RECIPE_VERSION 2), so no record of an
    # older file is current and its derived tables are made anew.
    2: rebuild_derived_tables,
    3: rebuild_derived_tables,
    # 5 added from_thumbnail (hashes from a HEIC's embedded thumbnail). A kept row would
    # need its checksum recomputed over the new column; one cold scan is simpler and safe.
    4: rebuild_derived_tables,
    # 6 added the descriptors table (deep matching), which `create_missing_tables` makes.
    5: lambda connection: None,
    # 7 added records.holds_decode_of and the conversions table (create_missing_tables
    # makes it). The rows are kept: each intact one is sealed again with the new column.
    6: lambda connection: _add_record_column(connection, "holds_decode_of", "BLOB"),
}
"""From version v to v + 1."""


def _add_record_column(connection: sqlite3.Connection, name: str, declaration: str) -> None:
    """Add RECORD_COLUMNS' column `name` (empty in every row) and seal each intact row again
    over it, in path order, a batch at a time; a damaged row is dropped (it would be).
    Records dropped by an earlier step: `create_missing_tables` makes the new layout."""
    if not _has_table(connection, "records"):
        return
    connection.execute(f"ALTER TABLE records ADD COLUMN {name} {declaration}")
    names = [column.name for column in RECORD_COLUMNS]
    at = names.index(name)
    before = ", ".join([*names[:at], *names[at + 1 :], CHECKSUM_COLUMN.name])
    insert = (
        f"INSERT OR REPLACE INTO records ({column_list(RECORD_COLUMNS)})"
        f" VALUES ({','.join('?' * (len(names) + 1))})"
    )
    last = b""
    while True:
        found = connection.execute(
            f"SELECT {before}, rowid FROM records WHERE path > ? ORDER BY path LIMIT ?",
            (last, _RESEAL_BATCH),
        ).fetchall()
        if not found:
            return
        last = found[-1][0]
        kept = [row[:-1] for row in found if is_intact(row[:-1])]
        damaged = [(row[-1],) for row in found if not is_intact(row[:-1])]
        connection.executemany("DELETE FROM records WHERE rowid = ?", damaged)
        connection.executemany(
            insert, [sealed([*row[:at], None, *row[at:-1]]) for row in kept]
        )


def get_meta(connection: sqlite3.Connection, key: str) -> str | None:
    row = connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(connection: sqlite3.Connection, key: str, value: str) -> None:
    connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def _has_table(connection: sqlite3.Connection, name: str) -> bool:
    found = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return found is not None
