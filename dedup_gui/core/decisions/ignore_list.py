""""Not duplicates": pairs of photos the user said are different, kept in the decision store.

An entry names the two files by content (size and content digest), so it survives moves and
renames, and a copy of either file is kept apart from the other too. Grouping treats each
entry as a cannot-link constraint (`linkage.minimax_linkage(apart=...)`), so the two never
share a group at any similarity, not even through a third photo they both resemble.
Files that have no digest yet are digested when they are added; at scan time only files
whose size appears in the list need one (`scanner.scan(sizes_elsewhere=ignore.sizes())`).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from dedup_gui.core.decisions.store import DecisionStore, DecisionStoreError
from dedup_gui.core.files.digest import file_digest
from dedup_gui.core.models import ImageRecord

if TYPE_CHECKING:  # imported where used: a scan answered from its replay reads the entries
    import numpy as np

ContentId = tuple[int, bytes]
"""(size, content digest): the same for every byte-identical copy of a file."""


class NotComparableError(ValueError):
    """The files cannot be recorded as "not duplicates" (fewer than two different
    files, or one changed since it was scanned)."""


@dataclass(frozen=True, slots=True)
class IgnoredPair:
    first: ContentId
    second: ContentId
    first_path: str
    second_path: str
    """Where the two files were when the pair was recorded (shown; not used to match)."""
    added_at: float


def content_id(record: ImageRecord) -> ContentId | None:
    if record.content_digest is None:
        return None
    return record.size, record.content_digest


def with_digest(record: ImageRecord) -> ImageRecord:
    """The record with its content digest, reading the file if it has none yet. Raises
    NotComparableError if the file is no longer the one scanned."""
    if record.content_digest is not None:
        return record
    try:
        before = Path(record.path).stat()
        digest = file_digest(record.path)
        after = Path(record.path).stat()
    except OSError as error:
        raise NotComparableError(f"{record.path} cannot be read ({error.strerror}).") from error
    scanned = (record.size, record.mtime_ns)
    if (before.st_size, before.st_mtime_ns) != scanned or (
        after.st_size, after.st_mtime_ns
    ) != scanned:
        raise NotComparableError(f"{record.path} changed since the scan; scan again.")
    return replace(record, content_digest=digest)


class IgnoreList:
    def __init__(self, store: DecisionStore) -> None:
        self._store = store

    def add(self, records: Sequence[ImageRecord]) -> int:
        """Record every pair of these files as not duplicates; returns the new entries."""
        by_content = _distinct_contents(with_digest(record) for record in records)
        if len(by_content) < 2:
            raise NotComparableError(
                "Choose at least two different files: byte-identical copies are the same "
                "photo and cannot be kept apart."
            )
        now = time.time()
        rows = []
        for (first, first_path), (second, second_path) in itertools.combinations(
            sorted(by_content.items()), 2
        ):
            rows.append((*first, *second, os.fsencode(first_path), os.fsencode(second_path), now))

        def insert(connection: sqlite3.Connection) -> int:
            before = connection.total_changes
            connection.executemany(
                "INSERT OR IGNORE INTO ignored_pairs (size_a, digest_a, size_b, digest_b,"
                " path_a, path_b, added_at) VALUES (?,?,?,?,?,?,?)",
                rows,
            )
            return connection.total_changes - before

        return self._store.write(insert)

    def remove(self, records: Sequence[ImageRecord]) -> int:
        """Forget every entry between two of these files; returns how many were removed."""
        ids = sorted(_distinct_contents(with_digest(record) for record in records))
        return self.remove_pairs(itertools.combinations(ids, 2))

    def remove_pairs(self, pairs: Iterable[tuple[ContentId, ContentId]]) -> int:
        rows = [(*min(a, b), *max(a, b)) for a, b in pairs]

        def delete(connection: sqlite3.Connection) -> int:
            before = connection.total_changes
            connection.executemany(
                "DELETE FROM ignored_pairs WHERE size_a = ? AND digest_a = ? AND size_b = ?"
                " AND digest_b = ?",
                rows,
            )
            return connection.total_changes - before

        return self._store.write(delete)

    def clear(self) -> int:
        return self._store.write(
            lambda connection: connection.execute("DELETE FROM ignored_pairs").rowcount
        )

    def entries(self) -> list[IgnoredPair]:
        rows = self._store.read(lambda connection: connection.execute(
            "SELECT size_a, digest_a, size_b, digest_b, path_a, path_b, added_at"
            " FROM ignored_pairs ORDER BY added_at, path_a, path_b"
        ).fetchall())
        return [
            IgnoredPair(
                (size_a, bytes(digest_a)), (size_b, bytes(digest_b)),
                os.fsdecode(bytes(path_a)), os.fsdecode(bytes(path_b)), added_at,
            )
            for size_a, digest_a, size_b, digest_b, path_a, path_b, added_at in rows
        ]

    def sizes(self) -> frozenset[int]:
        """Sizes of the files in the list: a scan digests the files of these sizes, so it
        can recognise them."""
        rows = self._store.read(lambda connection: connection.execute(
            "SELECT size_a FROM ignored_pairs UNION SELECT size_b FROM ignored_pairs"
        ).fetchall())
        return frozenset(size for (size,) in rows)

    def apart_pairs(self, records: Sequence[ImageRecord]) -> tuple[np.ndarray, np.ndarray]:
        """The entries as index pairs into `records` (for `SimilarityIndex.build(apart=)`)."""
        return apart_pairs(self.entries(), records)


def saved_entries() -> tuple[list[IgnoredPair], list[str]]:
    """The entries of the user's decision store, and what to tell the user about it (its
    warnings, or why it could not be read: then no entries, and the caller goes on)."""
    try:
        with DecisionStore.open_default() as store:
            return IgnoreList(store).entries(), list(store.warnings)
    except (DecisionStoreError, OSError) as error:
        return [], [f"{error} Going on without the \"not duplicates\" list."]


def entries_version(entries: Sequence[IgnoredPair]) -> str:
    """A digest of the "not duplicates" pairs (by content): another list, another key."""
    pairs = sorted(sorted([entry.first, entry.second]) for entry in entries)
    digest = hashlib.blake2b(digest_size=16)
    for (size_a, digest_a), (size_b, digest_b) in pairs:
        digest.update(f"{size_a}:{size_b}:".encode())
        digest.update(bytes(digest_a) + bytes(digest_b))
    return digest.hexdigest()


def apart_pairs(
    entries: Sequence[IgnoredPair], records: Sequence[ImageRecord]
) -> tuple[np.ndarray, np.ndarray]:
    rows_by_content: dict[ContentId, list[int]] = {}
    for row, record in enumerate(records):
        key = content_id(record)
        if key is not None:
            rows_by_content.setdefault(key, []).append(row)
    first: list[int] = []
    second: list[int] = []
    for entry in entries:
        for a, b in itertools.product(
            rows_by_content.get(entry.first, ()), rows_by_content.get(entry.second, ())
        ):
            first.append(a)
            second.append(b)
    import numpy as np

    return np.asarray(first, np.int64), np.asarray(second, np.int64)


def _distinct_contents(records: Iterable[ImageRecord]) -> dict[ContentId, str]:
    by_content: dict[ContentId, str] = {}
    for record in records:
        key = content_id(record)
        assert key is not None
        by_content.setdefault(key, record.path)
    return by_content
