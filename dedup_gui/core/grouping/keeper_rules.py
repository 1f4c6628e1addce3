"""The rules a keeper is chosen by, and the default chain: no numpy here, so the CLI's
argument parser (and a scan answered from its replay, scan_replay.py) can name them without
loading the grouping."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class KeeperRule(str, Enum):
    """One rule of the chain; the first rule that tells two copies apart decides."""

    REFERENCE_FOLDER = "reference-folder"
    """Prefer the copy inside a reference (protected) folder."""
    ORIGINAL = "original"
    """Prefer the copy the others look made from (originals.py): not resized down or
    enlarged, camera metadata intact, not a lossless conversion of a JPEG/HEIC, not
    re-encoded, no overlay, colour or tone edit."""
    RESOLUTION = "resolution"
    """Prefer more pixels (width x height)."""
    FILE_SIZE = "file-size"
    """Prefer the larger file."""
    CAPTURE_DATE = "capture-date"
    """Prefer the earliest EXIF capture date; copies without one come last."""
    SHORTER_PATH = "shorter-path"
    """Prefer the shorter path."""
    RAW_FIRST = "raw-first"
    """Prefer a camera RAW over a JPEG/HEIC of the same shot: the RAW is the original."""
    MODIFICATION_DATE = "modification-date"
    """Prefer the earliest modification time (a copy is usually written after its source)."""
    FOLDER_PRIORITY = "folder-priority"
    """Prefer the copy in the folder listed earliest (`RuleOrder`); unlisted folders last."""
    FORMAT_PREFERENCE = "format-preference"
    """Prefer the format listed earliest (`RuleOrder`, default `DEFAULT_FORMAT_ORDER`)."""


DEFAULT_FORMAT_ORDER: tuple[str, ...] = ("HEIF", "AVIF", "JPEG", "WEBP", "TIFF", "PNG")
"""Pillow format names, most preferred first; a format not listed comes after them all."""


@dataclass(frozen=True, slots=True)
class RuleOrder:
    """A FOLDER_PRIORITY or FORMAT_PREFERENCE rule with the user's list, most preferred
    first (folders as absolute paths, formats as Pillow names). Hashable, so a chain holding
    it caches like a chain of plain rules."""

    rule: KeeperRule
    order: tuple[str, ...]


DEFAULT_KEEPER_RULES: tuple[KeeperRule, ...] = (
    KeeperRule.REFERENCE_FOLDER,
    KeeperRule.RAW_FIRST,
    KeeperRule.ORIGINAL,
    KeeperRule.RESOLUTION,
    KeeperRule.FILE_SIZE,
    KeeperRule.CAPTURE_DATE,
    KeeperRule.SHORTER_PATH,
)
