"""How a record and a thumbnail are laid out in the cache's rows, and the checksum that
tells a row SQLite returned intact from one damaged in a way SQLite cannot notice (a
flipped bit in a hash value or a width is still a valid database).

Every stored row ends with `checksum`: 8 bytes of blake2b over the row's other values,
their types included (a damaged record header can turn an integer into a float or a
blob into text). A row whose checksum does not match is never trusted.

To add a record column: one `Column` line in `RECORD_COLUMNS` (with the ImageRecord field
it holds), then a schema version step in `cache_schema.py`.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from dedup_gui.core.models import ImageRecord

_SIGN_BIT = 1 << 63
_U64 = 1 << 64
CHECKSUM_BYTES = 8

FileIdentity = tuple[int, int]
"""(st_dev, st_ino): the same on every path of a file, kept by a move on one file system."""


def _same(value: Any) -> Any:
    return value


def to_signed(value: int) -> int:
    """An unsigned 64-bit hash as the signed integer SQLite stores."""
    if not 0 <= value < _U64:
        raise ValueError(f"not a 64-bit hash: {value}")
    return value - _U64 if value >= _SIGN_BIT else value


def to_unsigned(value: int) -> int:
    if type(value) is not int:
        raise TypeError(f"a hash must be an integer, not {type(value).__name__}")
    return value + _U64 if value < 0 else value


def _pack_hashes(hashes: Sequence[int]) -> bytes:
    return struct.pack(f">{len(hashes)}Q", *hashes)


def _unpack_hashes(blob: bytes) -> tuple[int, ...]:
    return struct.unpack(f">{len(blob) // 8}Q", blob)


def _optional_bytes(value: bytes | None) -> bytes | None:
    return None if value is None else bytes(value)


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    declaration: str
    """SQL type and constraints."""
    field: str | None = None
    """The ImageRecord field it holds; None for the bookkeeping columns (recipe, dev, ino)."""
    store: Callable[[Any], object] = _same
    load: Callable[[Any], object] = _same


RECORD_COLUMNS: tuple[Column, ...] = (
    Column("path", "BLOB PRIMARY KEY", "path", os.fsencode, os.fsdecode),
    Column("size", "INTEGER NOT NULL", "size", int),
    Column("mtime_ns", "INTEGER NOT NULL", "mtime_ns", int),
    Column("recipe", "INTEGER NOT NULL"),
    Column("width", "INTEGER NOT NULL", "width", int),
    Column("height", "INTEGER NOT NULL", "height", int),
    Column("format", "TEXT NOT NULL", "format", str),
    Column("capture_time", "TEXT", "capture_time"),
    Column("dhash", "INTEGER NOT NULL", "dhash", to_signed, to_unsigned),
    Column("phash", "INTEGER NOT NULL", "phash", to_signed, to_unsigned),
    Column("phash_dihedral", "BLOB NOT NULL", "phash_dihedral", _pack_hashes, _unpack_hashes),
    Column("micro", "BLOB NOT NULL", "micro", bytes, bytes),
    Column("content_digest", "BLOB", "content_digest", _optional_bytes, _optional_bytes),
    Column("jpeg_quality", "INTEGER", "jpeg_quality"),
    Column("camera", "TEXT", "camera"),
    Column("software", "TEXT", "software"),
    Column("edited_after_capture", "INTEGER NOT NULL DEFAULT 0", "edited_after_capture",
           int, bool),
    Column("pixel_digest", "BLOB", "pixel_digest", _optional_bytes, _optional_bytes),
    Column("detail", "BLOB NOT NULL DEFAULT x''", "detail", bytes, bytes),
    Column("from_thumbnail", "INTEGER NOT NULL DEFAULT 0", "from_thumbnail", int, bool),
    Column("holds_decode_of", "BLOB", "holds_decode_of", _optional_bytes, _optional_bytes),
    Column("dev", "INTEGER"),
    Column("ino", "INTEGER"),
)
THUMBNAIL_COLUMNS: tuple[Column, ...] = (
    Column("path", "BLOB PRIMARY KEY"),
    Column("size", "INTEGER NOT NULL"),
    Column("mtime_ns", "INTEGER NOT NULL"),
    Column("recipe", "INTEGER NOT NULL"),
    Column("jpeg", "BLOB NOT NULL"),
)
CONVERSION_COLUMNS: tuple[Column, ...] = (
    Column("path", "BLOB NOT NULL"),
    Column("size", "INTEGER NOT NULL"),
    Column("mtime_ns", "INTEGER NOT NULL"),
    Column("source_path", "BLOB NOT NULL"),
    Column("source_size", "INTEGER NOT NULL"),
    Column("source_mtime_ns", "INTEGER NOT NULL"),
    Column("rule", "INTEGER NOT NULL"),
    Column("holds", "INTEGER NOT NULL"),
)
"""A verdict of images.decode_match on a lossless file (path) and a lossy one (source_path),
each as the version of the file it was made for; `rule`: decode_match.RULE_VERSION."""
CHECKSUM_COLUMN = Column("checksum", "BLOB NOT NULL")

_RECORD_INDEX = {column.name: index for index, column in enumerate(RECORD_COLUMNS)}
PATH, SIZE, MTIME, RECIPE, FORMAT, DIGEST, DEV, INO, HOLDS = (
    _RECORD_INDEX[name]
    for name in ("path", "size", "mtime_ns", "recipe", "format", "content_digest", "dev", "ino",
                 "holds_decode_of")
)
JPEG = 4
_RECORD_FIELDS = [
    (index, column.field, column.load)
    for index, column in enumerate(RECORD_COLUMNS)
    if column.field is not None
]

StoredRow = tuple[Any, ...]
"""The values of a table's columns in order, then the checksum."""


def column_list(columns: Sequence[Column]) -> str:
    return ", ".join(column.name for column in (*columns, CHECKSUM_COLUMN))


def table_definition(table: str, columns: Sequence[Column]) -> str:
    body = ",\n    ".join(f"{c.name} {c.declaration}" for c in (*columns, CHECKSUM_COLUMN))
    return f"CREATE TABLE IF NOT EXISTS {table} (\n    {body}\n)"


def checksum(values: Sequence[object]) -> bytes:
    """Over the values and their types: blobs as they are (a repr of random bytes is slow),
    the rest as its repr, which tells 5 from 5.0 and '5'; a blob's place shows as (length,)."""
    digest = hashlib.blake2b(digest_size=CHECKSUM_BYTES)
    shape: list[object] = []
    for value in values:
        if type(value) is bytes:
            digest.update(value)
            shape.append((len(value),))
        else:
            shape.append(value)
    digest.update(repr(shape).encode("utf-8", "surrogatepass"))
    return digest.digest()


def sealed(values: Sequence[object]) -> StoredRow:
    return (*values, checksum(values))


def is_intact(row: Sequence[object]) -> bool:
    *values, stored = row
    return stored == checksum(values)


def record_row(record: ImageRecord, recipe: int, identity: FileIdentity | None) -> StoredRow:
    dev, ino = identity or (None, None)
    extra = {"recipe": recipe, "dev": dev, "ino": ino}
    return sealed([
        column.store(getattr(record, column.field)) if column.field else extra[column.name]
        for column in RECORD_COLUMNS
    ])


def decoded_record(row: Sequence[Any]) -> ImageRecord | None:
    """The record of a row whose checksum was verified; None if it cannot be decoded."""
    try:
        return ImageRecord(**{field: load(row[index]) for index, field, load in _RECORD_FIELDS})
    except Exception:  # a checksum collision or a bug: never worth a crash
        return None


(_WIDTH, _HEIGHT, _CAPTURE, _DHASH, _PHASH, _DIHEDRAL, _MICRO, _QUALITY, _CAMERA,
 _SOFTWARE, _EDITED, _PIXEL, _DETAIL, _FROM_THUMBNAIL) = (
    _RECORD_INDEX[name]
    for name in ("width", "height", "capture_time", "dhash", "phash",
                 "phash_dihedral", "micro", "jpeg_quality", "camera", "software",
                 "edited_after_capture", "pixel_digest", "detail", "from_thumbnail")
)


_SEEN_FIELDS = (
    "path", "size", "mtime_ns", "width", "height", "format", "capture_time", "dhash", "phash",
    "phash_dihedral", "micro", "content_digest", "dev", "ino", "ctime_ns", "jpeg_quality",
    "camera", "software", "edited_after_capture", "pixel_digest", "detail", "from_thumbnail",
    "holds_decode_of",
)
"""ImageRecord's fields in the order `seen_record` passes them (checked on import)."""
if tuple(ImageRecord.__dataclass_fields__) != _SEEN_FIELDS:
    raise ImportError("ImageRecord's fields changed: update cache_rows.seen_record")


def seen_record(
    row: Sequence[Any], path: str, dev: int, ino: int, ctime_ns: int
) -> ImageRecord | None:
    """`decoded_record` of a verified row as the scan sees the file: its path (the row's
    key, decoded) and its identity and ctime now. One constructor call: a verified row
    holds the types `record_row` stored, so only the loaders that change a value run.
    None if it cannot be decoded."""
    try:
        return ImageRecord(
            path, row[SIZE], row[MTIME], row[_WIDTH], row[_HEIGHT], row[FORMAT],
            row[_CAPTURE], to_unsigned(row[_DHASH]), to_unsigned(row[_PHASH]),
            _unpack_hashes(row[_DIHEDRAL]), row[_MICRO], row[DIGEST], dev, ino, ctime_ns,
            row[_QUALITY], row[_CAMERA], row[_SOFTWARE], bool(row[_EDITED]), row[_PIXEL],
            row[_DETAIL], bool(row[_FROM_THUMBNAIL]), row[HOLDS],
        )
    except Exception:  # a checksum collision or a bug: never worth a crash
        return None


def moved_row(row: StoredRow, new_path: bytes) -> StoredRow:
    values = list(row[:-1])
    values[PATH] = new_path
    return sealed(values)


def with_digest(row: StoredRow, digest: bytes) -> StoredRow:
    values = list(row[:-1])
    values[DIGEST] = bytes(digest)
    return sealed(values)


def with_holds_decode_of(row: StoredRow, source_digest: bytes | None) -> StoredRow:
    values = list(row[:-1])
    values[HOLDS] = _optional_bytes(source_digest)
    return sealed(values)


def conversion_row(
    lossless: tuple[str, int, int], lossy: tuple[str, int, int], rule: int, holds: bool
) -> StoredRow:
    (path, size, mtime_ns), (source, source_size, source_mtime_ns) = lossless, lossy
    return sealed([
        os.fsencode(path), int(size), int(mtime_ns),
        os.fsencode(source), int(source_size), int(source_mtime_ns), int(rule), int(holds),
    ])


def thumbnail_row(path: bytes, size: int, mtime_ns: int, recipe: int, jpeg: bytes) -> StoredRow:
    return sealed([path, int(size), int(mtime_ns), recipe, bytes(jpeg)])
