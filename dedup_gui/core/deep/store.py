"""Descriptors in the scan cache's `descriptors` table (made by cache_schema with the
other derived tables, so `forget_missing` and `clear` drop them with their records).

A row is (path, size, mtime_ns, model identity, float16 vector, checksum): a file that
changed, or another model, is a miss and is computed again. The store has its own SQLite
connection to the cache file (WAL lets it sit beside the HashCache's); any failure to
read or write it only costs the descriptors (a miss, or not saved), never the scan, and
the file is never deleted from here (the HashCache owns its repair).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

_CHUNK = 500
_INSERT = (
    "INSERT OR REPLACE INTO descriptors (path, size, mtime_ns, model, vector, checksum)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)

Key = tuple[str, int, int]
"""(path, size, mtime_ns) of one version of a file."""


class DescriptorStore:
    def __init__(self, cache_file: str | os.PathLike[str] | None, model: str) -> None:
        self.model = model
        self.warnings: list[str] = []
        self._connection: sqlite3.Connection | None = None
        if cache_file is not None and Path(cache_file).exists():
            try:
                self._connection = sqlite3.connect(
                    cache_file, timeout=5.0, isolation_level=None, check_same_thread=False
                )
                self._connection.execute("PRAGMA busy_timeout = 5000")
                self._connection.execute("SELECT 1 FROM descriptors LIMIT 1").fetchall()
            except sqlite3.DatabaseError as error:
                self._failed(error)

    @property
    def available(self) -> bool:
        return self._connection is not None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def lookup_many(self, keys: Iterable[Key]) -> dict[str, np.ndarray]:
        """float16 vectors by path for the keys stored with this model; misses are absent."""
        wanted = {os.fsencode(path): (path, size, mtime) for path, size, mtime in keys}
        if self._connection is None or not wanted:
            return {}
        found: dict[str, np.ndarray] = {}
        paths = list(wanted)
        try:
            for start in range(0, len(paths), _CHUNK):
                chunk = paths[start : start + _CHUNK]
                rows = self._connection.execute(
                    "SELECT path, size, mtime_ns, model, vector, checksum FROM descriptors"
                    f" WHERE path IN ({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
                for row in rows:
                    key = bytes(row[0])
                    path, size, mtime = wanted.get(key, ("", -1, -1))
                    if (row[1], row[2], row[3]) != (size, mtime, self.model):
                        continue
                    if bytes(row[5]) != _checksum(key, size, mtime, self.model, bytes(row[4])):
                        continue  # damaged: computed again and written over
                    found[path] = np.frombuffer(bytes(row[4]), dtype="<f2")
        except sqlite3.DatabaseError as error:
            self._failed(error)
            return {}
        return found

    def store_many(self, keys: Sequence[Key], vectors: np.ndarray) -> None:
        if self._connection is None or not len(keys):
            return
        rows = []
        for (path, size, mtime), vector in zip(keys, vectors, strict=True):
            key = os.fsencode(path)
            blob = np.asarray(vector, dtype="<f2").tobytes()
            rows.append((key, size, mtime, self.model, blob, _checksum(key, size, mtime,
                                                                       self.model, blob)))
        try:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                self._connection.executemany(_INSERT, rows)
                self._connection.execute("COMMIT")
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as error:
            self._failed(error)

    def _failed(self, error: sqlite3.DatabaseError) -> None:
        message = f"Deep descriptors are not cached this time ({error})."
        if message not in self.warnings:
            self.warnings.append(message)
        self.close()


def _checksum(path: bytes, size: int, mtime: int, model: str, blob: bytes) -> bytes:
    digest = hashlib.blake2b(digest_size=8)
    for part in (path, str(size).encode(), str(mtime).encode(), model.encode(), blob):
        digest.update(len(part).to_bytes(4, "little"))
        digest.update(part)
    return digest.digest()
