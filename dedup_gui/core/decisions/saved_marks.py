"""The user's keep/trash marks and reviewed groups, saved as they are made and restored on
the next scan of the same files.

A mark is keyed by path, size and mtime: it applies only while the file is unchanged, and a
changed or replaced file goes back to the suggestion (its saved mark is dropped on the next
restore). A reviewed group is keyed by its members (path, size, mtime), so a group that gains
or loses a copy counts as not reviewed yet.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence

from dedup_gui.core.decisions.store import DecisionStore
from dedup_gui.core.models import DuplicateGroup, ImageRecord

_CHUNK = 500


class SavedMarks:
    def __init__(self, store: DecisionStore) -> None:
        self._store = store

    def save(self, marks: Mapping[ImageRecord, bool] | Iterable[tuple[ImageRecord, bool]]) -> None:
        """Remember keep (True) or trash (False) for these files."""
        items = marks.items() if isinstance(marks, Mapping) else marks
        now = time.time()
        rows = [(os.fsencode(r.path), r.size, r.mtime_ns, int(keep), now) for r, keep in items]

        def write(connection: sqlite3.Connection) -> None:
            connection.executemany(
                "INSERT OR REPLACE INTO marks (path, size, mtime_ns, keep, updated_at)"
                " VALUES (?,?,?,?,?)",
                rows,
            )

        self._store.write(write)

    def forget(self, records: Iterable[ImageRecord] | None = None) -> None:
        """Back to the suggestions: for these files, or for every file (None)."""
        if records is None:
            self._store.write(lambda connection: connection.execute("DELETE FROM marks"))
            return
        keys = [(os.fsencode(r.path),) for r in records]
        self._store.write(
            lambda connection: connection.executemany("DELETE FROM marks WHERE path = ?", keys)
        )

    def restore(self, records: Sequence[ImageRecord]) -> dict[str, bool]:
        """The saved mark of each of these files that is unchanged since it was marked, by
        path. Marks of files that changed are dropped."""
        wanted = {os.fsencode(r.path): r for r in records}
        keys = list(wanted)

        def query(connection: sqlite3.Connection) -> list[tuple[bytes, int, int, int]]:
            rows = []
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                rows.extend(connection.execute(
                    "SELECT path, size, mtime_ns, keep FROM marks WHERE path IN"
                    f" ({','.join('?' * len(chunk))})",
                    chunk,
                ))
            return rows

        found: dict[str, bool] = {}
        stale: list[tuple[bytes]] = []
        for path, size, mtime_ns, keep in self._store.read(query):
            record = wanted[bytes(path)]
            if (record.size, record.mtime_ns) == (size, mtime_ns):
                found[record.path] = bool(keep)
            else:
                stale.append((bytes(path),))
        if stale:
            self._store.write(
                lambda connection: connection.executemany("DELETE FROM marks WHERE path = ?", stale)
            )
        return found


class ReviewedGroups:
    def __init__(self, store: DecisionStore) -> None:
        self._store = store

    def mark(self, groups: Iterable[DuplicateGroup]) -> None:
        now = time.time()
        rows = [(group_key(group), now) for group in groups]
        self._store.write(lambda connection: connection.executemany(
            "INSERT OR REPLACE INTO reviewed_groups (group_key, reviewed_at) VALUES (?, ?)", rows
        ))

    def unmark(self, groups: Iterable[DuplicateGroup]) -> None:
        keys = [(group_key(group),) for group in groups]
        self._store.write(lambda connection: connection.executemany(
            "DELETE FROM reviewed_groups WHERE group_key = ?", keys
        ))

    def reviewed(self, groups: Sequence[DuplicateGroup]) -> set[int]:
        """Positions (in `groups`) of the groups the user has reviewed."""
        keys = {group_key(group): position for position, group in enumerate(groups)}
        wanted = list(keys)

        def query(connection: sqlite3.Connection) -> set[int]:
            seen = set()
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                for (key,) in connection.execute(
                    "SELECT group_key FROM reviewed_groups WHERE group_key IN"
                    f" ({','.join('?' * len(chunk))})",
                    chunk,
                ):
                    seen.add(keys[bytes(key)])
            return seen

        return self._store.read(query)


def group_key(group: DuplicateGroup) -> bytes:
    """The same for the same member files (each unchanged), whatever their order."""
    hasher = hashlib.blake2b(digest_size=16)
    for path, size, mtime_ns in sorted(
        (os.fsencode(m.record.path), m.record.size, m.record.mtime_ns) for m in group.members
    ):
        hasher.update(len(path).to_bytes(4, "big") + path)
        hasher.update(size.to_bytes(8, "big") + mtime_ns.to_bytes(16, "big", signed=True))
    return hasher.digest()
