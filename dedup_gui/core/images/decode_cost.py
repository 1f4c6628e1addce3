"""How many bytes one decode will allocate, estimated from the header before decoding.

A 1.5 KB file can declare 32768x32768 pixels, so the file size says nothing; the header
says enough. The estimate covers what the decoder holds (the image at the size decoded,
and the buffers some decoders keep besides) and what decode.py's conversions allocate on
top, rounded up rather than down.
"""

from __future__ import annotations

from math import ceil

from PIL import Image

DECODE_BYTES_LIMIT = 512 << 20
"""Most bytes one decode may need: half the default scan budget, so two at the limit fit
it together. An 89 MP RGB PNG (Pillow's pixel limit) needs about 450 MB."""

_FIXED_OVERHEAD = 1 << 20
_STORED_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
"""Pillow keeps every other mode (RGB and two-band ones included) in 4 bytes a pixel."""
_CONVERSION_BYTES_PER_PIXEL = {
    "RGB": 0, "RGBA": 0, "L": 0,  # reduced as they are
    "1": 1, "I": 1, "F": 1, "I;16": 1, "I;16L": 1, "I;16B": 1, "I;16N": 1,  # to 8-bit grey
}  # fmt: skip
"""Full-size copies decode.py makes before reducing; other modes become RGB(A): 4."""
_WHOLE_FILE_READERS = frozenset({"HEIF", "AVIF", "WEBP", "TIFF", "PNG"})
"""Decoders that read the whole file into memory first (a PNG: for libvips, vips_decode.py,
which then needs far less than the full-size bitmap counted here)."""
_OWN_BUFFER_DECODERS = frozenset({"HEIF", "AVIF", "WEBP"})
"""Decoders that decode into their own RGB(A) buffer, then copy it into Pillow's image."""


def decode_bytes_needed(image: Image.Image, full_size: tuple[int, int], file_bytes: int) -> int:
    """Bytes needed to decode `image` (opened, not loaded; a JPEG after `draft`) and
    reduce it as decode.py does. `full_size` is the size the header declares."""
    pixels = image.width * image.height
    stored = pixels * _STORED_BYTES_PER_PIXEL.get(image.mode, 4)
    converted = pixels * _CONVERSION_BYTES_PER_PIXEL.get(image.mode, 4)
    reduced = pixels  # the reduced copy: at most a quarter of 4 bytes a pixel
    image_format = image.format or ""
    decoder = 0
    if image_format == "JPEG" and _is_progressive(image):
        decoder = _jpeg_coefficient_bytes(image, full_size)
    elif image_format in _OWN_BUFFER_DECODERS:
        decoder = pixels * 4
    elif image_format == "TIFF":
        decoder = _tiff_chunk_bytes(image)
    if image_format in _WHOLE_FILE_READERS:
        decoder += file_bytes
    return _FIXED_OVERHEAD + stored + converted + reduced + decoder


def megabytes(nbytes: int) -> str:
    return f"{max(1, round(nbytes / 1e6)):,} MB"


def _tiff_chunk_bytes(image: Image.Image) -> int:
    """A compressed TIFF goes through libtiff, which decodes a whole strip (or tile) into a
    buffer of its own before copying it into the image: one strip of a file written as a
    single strip is the whole image again."""
    tags = getattr(image, "tag_v2", None)
    if tags is None or tags.get(259, 1) == 1:  # uncompressed: read straight into the image
        return 0
    bits = tags.get(258, (8,))
    bits_per_pixel = sum(bits) if isinstance(bits, tuple) else int(bits) * tags.get(277, 1)
    if 322 in tags and 323 in tags:  # tiled
        width, height = int(tags[322]), int(tags[323])
    else:
        width, height = image.width, min(image.height, int(tags.get(278, image.height)))
    return ceil(width * bits_per_pixel / 8) * height


def _is_progressive(image: Image.Image) -> bool:
    return bool(image.info.get("progressive") or image.info.get("progression"))


def _jpeg_coefficient_bytes(image: Image.Image, full_size: tuple[int, int]) -> int:
    """A progressive JPEG is decoded from a buffer of every DCT coefficient of the whole
    image (2 bytes each, 64 per 8x8 block of each component), whatever the output scale."""
    width, height = full_size
    components = getattr(image, "layer", None) or [("", 1, 1, 0)] * len(image.getbands())
    h_max = max(c[1] for c in components) or 1
    v_max = max(c[2] for c in components) or 1
    total = 0
    for _id, h, v, _table in components:
        blocks_wide = ceil(ceil(width * h / h_max) / 8)
        blocks_high = ceil(ceil(height * v / v_max) / 8)
        total += blocks_wide * blocks_high * 64 * 2
    return total
