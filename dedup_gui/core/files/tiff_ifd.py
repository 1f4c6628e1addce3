"""The tags of a classic TIFF's IFDs, read without decoding any image: enough to tell a
TIFF-based camera RAW from a TIFF and to find its capture date. Reads are small and bounded
(a damaged or hostile file costs a few kilobytes of reads, never a loop)."""

from __future__ import annotations

import struct
from collections.abc import Callable

Reader = Callable[[int, int], bytes]
"""read(offset, size): up to `size` bytes of the file from `offset`."""
Entry = tuple[int, int, bytes]  # type, count, the value's bytes (at most 64 of them)
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_MAX_IFD_ENTRIES = 1024
_MAX_SUB_IFDS = 8


def ifd_entries(read: Reader, order: str, offset: int) -> dict[int, Entry]:
    """The IFD at `offset`, tag -> entry; {} where there is none."""
    if offset < 8:
        return {}
    head = read(offset, 2)
    if len(head) < 2:
        return {}
    count = min(struct.unpack(f"{order}H", head)[0], _MAX_IFD_ENTRIES)
    table = read(offset + 2, 12 * count)
    entries: dict[int, Entry] = {}
    for at in range(0, len(table) - 11, 12):
        tag, kind, values = struct.unpack_from(f"{order}HHI", table, at)
        size = _TYPE_SIZES.get(kind, 1) * values
        if size <= 4:
            value = table[at + 8 : at + 8 + size]
        else:
            (value_offset,) = struct.unpack_from(f"{order}I", table, at + 8)
            value = read(value_offset, min(size, 64))
        entries[tag] = (kind, values, value)
    return entries


def numbers(order: str, entry: Entry) -> list[int]:
    """The first few SHORT or LONG values of an entry (offsets, a photometric, ...)."""
    kind, _, value = entry
    code, width = ("I", 4) if kind in (4, 13) else ("H", 2)
    count = min(len(value) // width, _MAX_SUB_IFDS)
    return list(struct.unpack_from(f"{order}{count}{code}", value))


def first_number(order: str, entry: Entry | None) -> int | None:
    values = numbers(order, entry) if entry is not None else []
    return values[0] if values else None


def ascii_value(entry: Entry | None) -> str:
    if entry is None:
        return ""
    return entry[2].split(b"\x00", 1)[0].decode("latin-1").strip()


def first_ifd(read: Reader) -> tuple[str, dict[int, Entry]]:
    """The byte order ("<" or ">") and IFD0 of a TIFF-structured file (whatever its magic:
    ORF and RW2 change it), or ("<", {}) when the header is not one."""
    header = read(0, 8)
    if len(header) < 8 or header[:2] not in (b"II", b"MM"):
        return "<", {}
    order = "<" if header[:2] == b"II" else ">"
    return order, ifd_entries(read, order, struct.unpack_from(f"{order}I", header, 4)[0])


def exif_datetime_original(read: Reader) -> bytes | None:
    """The raw EXIF DateTimeOriginal (else DateTimeDigitized, else IFD0's DateTime) value of a
    TIFF-structured file, or None."""
    order, ifd0 = first_ifd(read)
    exif_pointer = first_number(order, ifd0.get(_EXIF_IFD_TAG))
    exif = ifd_entries(read, order, exif_pointer) if exif_pointer else {}
    for tags, entries in (((_DATETIME_ORIGINAL, _DATETIME_DIGITIZED), exif), ((_DATETIME,), ifd0)):
        for tag in tags:
            entry = entries.get(tag)
            if entry is not None and entry[0] == _ASCII_TYPE:
                return entry[2]
    return None


_ASCII_TYPE = 2
_DATETIME = 306
_EXIF_IFD_TAG = 34665
_DATETIME_ORIGINAL = 36867
_DATETIME_DIGITIZED = 36868
