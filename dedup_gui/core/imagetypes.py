"""Which files are images: by extension first, by the first bytes (magic numbers) otherwise."""

from __future__ import annotations

import os

from dedup_gui.core.fileaccess import open_for_reading

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
    }
)  # fmt: skip

SNIFF_BYTES = 32
"""How many leading bytes `sniff_image_format` needs."""

_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})


def has_image_extension(name: str) -> bool:
    _, dot, extension = name.rpartition(".")
    return bool(dot) and f".{extension.lower()}" in IMAGE_EXTENSIONS


def sniff_image_format(head: bytes) -> str | None:
    """The image format the leading bytes announce ("JPEG", "PNG", ...), or None."""
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
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return "TIFF"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _AVIF_BRANDS:
            return "AVIF"
        if brand in _HEIF_BRANDS:
            return "HEIF"
    return None


def sniff_file(path: str | os.PathLike[str]) -> str | None:
    """`sniff_image_format` of a file's first bytes; None when unreadable or not an image."""
    try:
        with open_for_reading(path) as handle:
            return sniff_image_format(handle.read(SNIFF_BYTES))
    except OSError:
        return None
