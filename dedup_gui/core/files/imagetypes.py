"""Which files are images: by extension first, by the first bytes (magic numbers) otherwise.

Camera RAW files are told apart before anything is taken for a TIFF: most RAW formats are
TIFF files whose first image is a small preview, which a TIFF reader would show instead of
the photo. A RAW extension decides; without one, a RAW magic number, or a TIFF that holds
sensor data (a DNG version tag, or CFA / linear-raw pixels in its first IFD or a SubIFD).
"""

from __future__ import annotations

import os
from typing import BinaryIO

from dedup_gui.core.files.fileaccess import open_for_reading
from dedup_gui.core.files.tiff_ifd import (
    Reader,
    ascii_value,
    first_ifd,
    first_number,
    ifd_entries,
    numbers,
)

RAW_EXTENSIONS: dict[str, str] = {
    ".cr2": "CR2", ".cr3": "CR3", ".crw": "CRW",  # Canon
    ".nef": "NEF", ".nrw": "NRW",  # Nikon
    ".arw": "ARW", ".srf": "SRF", ".sr2": "SR2",  # Sony
    ".dng": "DNG",
    ".orf": "ORF",  # Olympus / OM System
    ".rw2": "RW2", ".rwl": "RWL",  # Panasonic, Leica
    ".raf": "RAF",  # Fujifilm
    ".pef": "PEF",  # Pentax
    ".srw": "SRW",  # Samsung
    ".kdc": "KDC", ".dcr": "DCR",  # Kodak
    ".mrw": "MRW",  # Minolta
    ".x3f": "X3F",  # Sigma
    ".3fr": "3FR",  # Hasselblad
    ".iiq": "IIQ",  # Phase One
    ".erf": "ERF",  # Epson
    ".mef": "MEF",  # Mamiya
    ".mos": "MOS",  # Leaf
}  # fmt: skip
"""Camera RAW extensions and the format each names."""

IMAGE_EXTENSIONS = frozenset(
    {
        ".jpg", ".jpeg", ".jpe", ".jfif",
        ".png",
        ".webp",
        ".gif",
        ".bmp", ".dib",
        ".tif", ".tiff",
        ".avif",
        ".heic", ".heif", ".hif",
        *RAW_EXTENSIONS,
    }
)  # fmt: skip

SNIFF_BYTES = 32
"""How many leading bytes `sniff_image_format` needs."""

RAW_FORMAT_PREFIX = "RAW ("

_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*")
_NOT_RAW_EXTENSIONS = IMAGE_EXTENSIONS - RAW_EXTENSIONS.keys() - {".tif", ".tiff"}

_DNG_VERSION_TAG = 50706
_PHOTOMETRIC_TAG = 262
_MAKE_TAG = 271
_SUB_IFDS_TAG = 330
_SENSOR_PHOTOMETRICS = frozenset({32803, 34892})  # CFA, LinearRaw
_MAKER_FORMATS = (
    ("NIKON", "NEF"), ("SONY", "ARW"), ("CANON", "CR2"), ("PENTAX", "PEF"), ("RICOH", "PEF"),
    ("SAMSUNG", "SRW"), ("KODAK", "DCR"), ("HASSELBLAD", "3FR"), ("PHASE ONE", "IIQ"),
    ("LEAF", "MOS"), ("MAMIYA", "MEF"), ("SEIKO EPSON", "ERF"), ("OLYMPUS", "ORF"),
)  # fmt: skip


def has_image_extension(name: str) -> bool:
    return _extension(name) in IMAGE_EXTENSIONS


def raw_format_label(kind: str) -> str:
    """The record format of a camera RAW file, e.g. "RAW (NEF)"."""
    return f"{RAW_FORMAT_PREFIX}{kind})"


def is_raw_format(image_format: str) -> bool:
    return image_format.startswith(RAW_FORMAT_PREFIX)


def raw_kind_by_extension(name: str) -> str | None:
    return RAW_EXTENSIONS.get(_extension(name))


def sniff_image_format(head: bytes) -> str | None:
    """The image format the leading bytes announce ("JPEG", "PNG", "RAW (CR2)", ...), or
    None. A TIFF-based RAW without a magic number of its own is "TIFF" here: `sniff_raw`,
    given more bytes, tells it apart."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head.startswith(b"BM") and len(head) >= 18 and head[14] in (12, 40, 52, 56, 64, 108, 124):
        return "BMP"  # the DIB header size byte rules out text that happens to start with "BM"
    raw_kind = _raw_magic(head)
    if raw_kind is not None:
        return raw_format_label(raw_kind)
    if head.startswith((*_TIFF_MAGIC, b"II+\x00", b"MM\x00+")):
        return "TIFF"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _AVIF_BRANDS:
            return "AVIF"
        if brand in _HEIF_BRANDS:
            return "HEIF"
    return None


def sniff_raw(content: bytes) -> str | None:
    """The camera RAW format ("CR3", "DNG", ...) a file's bytes announce, or None."""
    return _raw_magic(content) or _tiff_raw_kind(lambda at, size: content[at : at + size])


def detect_raw(
    path: str | os.PathLike[str],
    *,
    data: bytes | None = None,
    stream: BinaryIO | None = None,
) -> str | None:
    """The camera RAW format of a file, or None: by its extension, else (for a TIFF or a
    file without an image extension) by its content, read from `data`, from `stream`
    (left where it was) or from the file: a few hundred bytes. An unreadable file is not
    called a RAW here."""
    by_extension = raw_kind_by_extension(os.fspath(path))
    if by_extension is not None:
        return by_extension
    if _extension(os.fspath(path)) in _NOT_RAW_EXTENSIONS:
        return None
    if data is not None:
        return sniff_raw(data)
    try:
        if stream is not None:
            position = stream.tell()
            try:
                return _sniff_raw_stream(stream)
            finally:
                stream.seek(position)
        with open_for_reading(path) as handle:
            return _sniff_raw_stream(handle)
    except OSError:
        return None


def _sniff_raw_stream(stream: BinaryIO) -> str | None:
    def read(at: int, size: int) -> bytes:
        stream.seek(at)
        return stream.read(size)

    return _raw_magic(read(0, SNIFF_BYTES)) or _tiff_raw_kind(read)


def sniff_file(path: str | os.PathLike[str]) -> str | None:
    """`sniff_image_format` of a file's first bytes; None when unreadable or not an image."""
    try:
        with open_for_reading(path) as handle:
            return sniff_image_format(handle.read(SNIFF_BYTES))
    except OSError:
        return None


def _extension(name: str) -> str:
    _, dot, extension = name.rpartition(".")
    return f".{extension.lower()}" if dot else ""


def _raw_magic(head: bytes) -> str | None:
    """RAW formats with a signature of their own (exiftool's and LibRaw's magic numbers)."""
    if head.startswith(b"FUJIFILMCCD-RAW"):
        return "RAF"
    if head.startswith((b"IIRO", b"IIRS", b"MMOR")):
        return "ORF"
    if head.startswith(b"IIU\x00"):
        return "RW2"
    if head.startswith((b"II\x1a\x00\x00\x00HEAPCCDR", b"MM\x00\x00\x00\x1aHEAPCCDR")):
        return "CRW"
    if head.startswith(b"\x00MRM"):
        return "MRW"
    if head.startswith(b"FOVb"):
        return "X3F"
    if head[4:12] == b"ftypcrx ":
        return "CR3"
    if head.startswith(_TIFF_MAGIC) and head[8:10] == b"CR":
        return "CR2"
    return None


def _tiff_raw_kind(read: Reader) -> str | None:
    """A classic TIFF holding sensor data: "DNG" for a DNG, else a maker's format."""
    if not read(0, 4).startswith(_TIFF_MAGIC):
        return None
    order, ifd0 = first_ifd(read)
    if _DNG_VERSION_TAG in ifd0:
        return "DNG"
    ifds = [ifd0]
    if _SUB_IFDS_TAG in ifd0:
        ifds += [ifd_entries(read, order, at) for at in numbers(order, ifd0[_SUB_IFDS_TAG])]
    photometrics = {first_number(order, ifd.get(_PHOTOMETRIC_TAG)) for ifd in ifds}
    if not photometrics & _SENSOR_PHOTOMETRICS:
        return None
    make = ascii_value(ifd0.get(_MAKE_TAG)).upper()
    return next((kind for maker, kind in _MAKER_FORMATS if make.startswith(maker)), "TIFF")
