"""PNG and WebP pixels through libvips (pyvips), reduced while they are decoded.

A still, lossy, opaque WebP goes to libwebp's Y'CbCr output first (webp_yuv.py, faster
still); libvips takes it when that declines.

Pillow decodes a 12 MP WebP at full size through libwebp's animation API (a full RGBA
canvas, copied twice) and a PNG into a full-size 4-byte-a-pixel bitmap, both before
decode.py reduces them. libvips decodes a WebP at the reduced scale (libwebp's
`use_scaling`) and streams a PNG's rows (libspng) through a box shrink, so the full-size
bitmap never exists: about twice the photos a second on 2 cores
(benchmarks/bench_formats.py), hashes within a bit or two of Pillow's.

Only the pixels come from here: decode.py still opens the file with Pillow for its size,
mode, metadata and warnings, and anything unusual (16-bit, an animation, a chunk after
the image data that Pillow would read on load, any error or warning libvips reports)
is decoded by Pillow as before. Without pyvips installed, `reduced` returns None.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from PIL import Image

from dedup_gui.core.images import webp_yuv

FORMATS = frozenset({"PNG", "WEBP"})
_MODES = frozenset({"RGB", "RGBA", "L", "LA", "P", "1"})
"""Pillow modes of an 8-bit (or 1-bit, or palette) PNG/WebP; 16-bit goes to Pillow."""
_BANDS_TO_MODE = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_AFTER_IMAGE_OK = frozenset({b"IDAT", b"IEND"})

_pyvips: ModuleType | None = None
_tried = False


def _load_pyvips() -> ModuleType | None:
    global _pyvips, _tried
    if not _tried:
        _tried = True
        try:
            import pyvips

            pyvips.cache_set_max(0)  # a cached operation would keep the file's bytes alive
            pyvips.concurrency_set(1)  # the scan already runs one decode per core
            # libvips' own warnings reach Python's logging; here they only mean "use Pillow".
            vips_log = logging.getLogger("pyvips")
            vips_log.addHandler(logging.NullHandler())
            vips_log.propagate = False
            _pyvips = pyvips
        except Exception:  # not installed, or its libvips cannot be loaded
            _pyvips = None
    return _pyvips


_disabled = False


def available(image_format: str | None = None) -> bool:
    """Whether `reduced` may decode a file of `image_format` (any of FORMATS if None)."""
    if _disabled:
        return False
    if image_format == "WEBP" and webp_yuv.available():
        return True
    return _load_pyvips() is not None


@contextmanager
def disabled() -> Iterator[None]:
    """Pillow decodes every PNG and WebP inside the block, in every thread: the
    full-decode reference of the benchmarks (not for use while another scan runs)."""
    global _disabled
    before, _disabled = _disabled, True
    try:
        yield
    finally:
        _disabled = before


def reduced(image: Image.Image, data: bytes, factor: int) -> Image.Image | None:
    """The pixels of the opened (not loaded) PNG/WebP `image`, whose file is `data`,
    shrunk by `factor` (block averages, as Image.reduce), as an RGB, RGBA or L image; or
    None when Pillow should decode it instead."""
    if _disabled or not _plain(image, data):
        return None
    if image.format == "WEBP":
        from_planes = webp_yuv.reduced(data, factor)
        if from_planes is not None:
            return from_planes
    pyvips = _load_pyvips()
    if pyvips is None:
        return None
    try:
        if image.format == "WEBP":
            # Scaled inside libwebp; the size is the rounded one libwebp is asked for.
            loaded = pyvips.Image.webpload_buffer(
                data, scale=1.0 / factor, fail_on="warning", access="sequential"
            )
        else:
            loaded = pyvips.Image.pngload_buffer(data, fail_on="warning", access="sequential")
            if factor >= 2:
                loaded = loaded.shrink(factor, factor)
        if loaded.format != "uchar" or loaded.bands not in _BANDS_TO_MODE:
            return None
        mode = _BANDS_TO_MODE[loaded.bands]
        pixels = loaded.write_to_memory()
    except Exception:  # pyvips.Error and any surprise: Pillow reads it and says what is wrong
        return None
    result = Image.frombytes(mode, (loaded.width, loaded.height), pixels)
    return result.convert("RGBA") if mode == "LA" else result


def _plain(image: Image.Image, data: bytes) -> bool:
    if image.mode not in _MODES or getattr(image, "n_frames", 1) != 1:
        return False
    if "transparency" in image.info and image.mode != "P":
        return False  # Pillow keeps a grey/RGB tRNS key opaque; libvips would apply it
    if image.format == "PNG":
        return _png_has_nothing_after_image(data)
    return image.format == "WEBP"


def _png_has_nothing_after_image(data: bytes) -> bool:
    """No chunk but IDAT and IEND from the first IDAT on (Pillow reads later chunks, such
    as an eXIf or tEXt, only when it decodes), and no animation (acTL)."""
    if not data.startswith(_PNG_SIGNATURE):
        return False
    offset = len(_PNG_SIGNATURE)
    seen_image = False
    while offset + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, offset)
        if kind == b"acTL":
            return False
        if kind == b"IDAT":
            seen_image = True
        elif seen_image and kind not in _PNG_AFTER_IMAGE_OK:
            return False
        if kind == b"IEND":
            return seen_image
        offset += 12 + length
    return False
