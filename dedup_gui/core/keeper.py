"""Which copy of a duplicate group to keep: an ordered, configurable chain of rules."""

from __future__ import annotations

import os
from collections.abc import Sequence
from enum import Enum
from pathlib import Path, PurePath

from dedup_gui.core.models import ImageRecord


class KeeperRule(str, Enum):
    """One rule of the chain; the first rule that tells two copies apart decides."""

    REFERENCE_FOLDER = "reference-folder"
    """Prefer the copy inside a reference (protected) folder."""
    RESOLUTION = "resolution"
    """Prefer more pixels (width x height)."""
    FILE_SIZE = "file-size"
    """Prefer the larger file."""
    CAPTURE_DATE = "capture-date"
    """Prefer the earliest EXIF capture date; copies without one come last."""
    SHORTER_PATH = "shorter-path"
    """Prefer the shorter path."""


DEFAULT_KEEPER_RULES: tuple[KeeperRule, ...] = (
    KeeperRule.REFERENCE_FOLDER,
    KeeperRule.RESOLUTION,
    KeeperRule.FILE_SIZE,
    KeeperRule.CAPTURE_DATE,
    KeeperRule.SHORTER_PATH,
)

KeeperKey = tuple[object, ...]


def _path_parts(path: str) -> tuple[str, ...]:
    return PurePath(os.path.normcase(os.path.normpath(Path(path).absolute()))).parts


class ReferenceFolders:
    """Reference folders normalised once, for fast path-component-aware membership tests."""

    def __init__(self, folders: Sequence[str]) -> None:
        self._parts = tuple(_path_parts(folder) for folder in folders)

    def __bool__(self) -> bool:
        return bool(self._parts)

    def contains(self, path: str) -> bool:
        if not self._parts:
            return False
        parts = _path_parts(path)
        return any(parts[: len(ref)] == ref for ref in self._parts)


def is_in_reference(path: str, reference_folders: Sequence[str]) -> bool:
    """True if `path` lies inside one of `reference_folders` (by whole path components,
    so /photos/ref does not contain /photos/reference-old/a.jpg)."""
    return ReferenceFolders(reference_folders).contains(path)


def keeper_key(
    record: ImageRecord, in_reference: bool, rules: Sequence[KeeperRule]
) -> KeeperKey:
    """Sort key: the smallest key in a group is its keeper. The path is the final
    tie-break, so the choice never depends on input order."""
    key: list[object] = []
    for rule in rules:
        if rule is KeeperRule.REFERENCE_FOLDER:
            key.append(not in_reference)
        elif rule is KeeperRule.RESOLUTION:
            key.append(-(record.width * record.height))
        elif rule is KeeperRule.FILE_SIZE:
            key.append(-record.size)
        elif rule is KeeperRule.CAPTURE_DATE:
            key.append((record.capture_time is None, record.capture_time or ""))
        elif rule is KeeperRule.SHORTER_PATH:
            key.append(len(record.path))
    key.append(record.path)
    return tuple(key)


def choose_keeper(
    records: Sequence[ImageRecord],
    *,
    reference_folders: Sequence[str] = (),
    rules: Sequence[KeeperRule] = DEFAULT_KEEPER_RULES,
) -> int:
    """Index in `records` of the copy to keep."""
    if not records:
        raise ValueError("choose_keeper needs at least one record")
    references = ReferenceFolders(reference_folders)
    keys = [keeper_key(r, references.contains(r.path), rules) for r in records]
    return min(range(len(records)), key=keys.__getitem__)
