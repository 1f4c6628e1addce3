"""File names that mark a file as a copy of another: "IMG_1234 (1).jpg" of "IMG_1234.jpg".

Operating systems and apps name a second copy after the first with a marker added:
"IMG_1234 (1)" (a browser's or the system's download of a taken name), "IMG_1234 copy",
"IMG_1234 copy 2" (macOS Finder), "IMG_1234 - Copy", "IMG_1234 - Copy (2)" (Windows),
"Copy of IMG_1234" (Google Drive), "IMG_1234-edited" (Google Photos), "IMG_1234_edit" /
"-edit" (editors), "IMG_E1234" (an iPhone's edited photo), "IMG_1234~2" (Samsung /
Android), "IMG_1234-1" (many apps). A marker is evidence only between two names: a copy's
name is another file's name with markers added (case-insensitive, the extension may
differ). One name alone says nothing ("holiday-edit.jpg" may be the only copy there is),
so `lineage` lists the names a file's name could have been made from and the keeper
compares them with the other copies' names (originals.py, keeper_batch.py).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_MARKERS = (
    re.compile(r"^(?P<base>.+?) ?\([1-9]\d{0,2}\)$"),  # IMG_1234 (1)
    re.compile(r"^(?P<base>.+?)(?<! -) copy(?: [1-9]\d{0,2})?$"),  # IMG_1234 copy, IMG_1234 copy 2
    re.compile(r"^(?P<base>.+?) - copy(?: \([1-9]\d{0,2}\))?$"),  # IMG_1234 - Copy (2)
    re.compile(r"^copy(?: \([1-9]\d{0,2}\))? of (?P<base>.+)$"),  # Copy of IMG_1234
    re.compile(r"^(?P<base>.+?)[-_ ]edited$"),  # IMG_1234-edited
    re.compile(r"^(?P<base>.+?)[-_ ]edit$"),  # IMG_1234_edit, IMG_1234-edit
    re.compile(r"^(?P<base>.+?)~[1-9]\d{0,2}$"),  # IMG_1234~2
    re.compile(r"^(?P<base>.+?)-[1-9]\d?$"),  # IMG_1234-1 (only against IMG_1234 itself)
)
_IPHONE_EDITED = re.compile(r"^(?P<prefix>img_)e(?P<number>\d{4,})$")  # IMG_E1234
_ANY_MARKER = re.compile("|".join(
    f"(?:{re.sub(r'[(][?]P<[a-z]+>', '(?:', pattern.pattern)})"
    for pattern in (*_MARKERS, _IPHONE_EDITED)
))
"""Matches where one of the patterns does: most names carry no marker, and one match
attempt tells so instead of nine."""
_MAX_MARKERS = 3
"""Markers stripped at most ("IMG_1234 copy (1)" is two); deeper names say nothing more."""


def stem_key(filename: str) -> str:
    """The name compared: without its folder and extension, in one Unicode form (a Mac
    writes decomposed accents), case-folded."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return unicodedata.normalize("NFC", stem).strip().casefold()


def lineage(filename: str) -> tuple[str, tuple[str, ...]]:
    """(this name's stem key, the stem keys it could have been made from by adding copy
    markers, nearest first). A file is a marked copy of another when the other's stem key
    is in its lineage."""
    return _name_lineage(filename.replace("\\", "/").rsplit("/", 1)[-1])


@lru_cache(maxsize=65_536)
def _name_lineage(name: str) -> tuple[str, tuple[str, ...]]:
    """`lineage` of a file name without its folder (names recur across folders)."""
    stem = stem_key(name)
    if not may_carry_marker(stem) or not _ANY_MARKER.match(stem):  # most names
        return stem, ()  # (the loop below would find nothing)
    found: list[str] = []
    frontier = [stem]
    for _ in range(_MAX_MARKERS):
        frontier = [base for name in frontier for base in _unmarked(name) if base not in found]
        found.extend(dict.fromkeys(frontier))
        if not frontier:
            break
    return stem, tuple(found)


def may_carry_marker(stem: str) -> bool:
    """False only where _ANY_MARKER cannot match a stripped stem key, told by its ends
    (a fraction of the match's time): every marker but "copy of" and IMG_E ends the name
    in ")", "copy", "edit(ed)" or digits after " ", "~" or "-"."""
    if stem.startswith(("copy", "img_e")):
        return True
    head = stem.rstrip("0123456789")
    if len(head) < len(stem):  # " copy 2", "~2", "-2"; other decimal digits: ask the match
        return head[-1:] in (" ", "~", "-") or head[-1:].isdecimal()
    return stem[-1:] in (")", "y", "d", "t") or stem[-1:].isdecimal()


def _unmarked(stem: str) -> list[str]:
    """The names `stem` is with one marker removed (none when it carries no marker)."""
    if not _ANY_MARKER.match(stem):
        return []
    out = []
    for marker in _MARKERS:
        match = marker.match(stem)
        if match and match["base"].strip():
            out.append(match["base"].strip())
    iphone = _IPHONE_EDITED.match(stem)
    if iphone:
        out.append(iphone["prefix"] + iphone["number"])
    return out


def is_marked_copy_of(copy: str, other: str) -> bool:
    """`copy`'s file name is `other`'s with copy markers added."""
    return lineage(other)[0] in lineage(copy)[1]
