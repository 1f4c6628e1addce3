"""Write a small but genuine DNG (camera RAW) from an RGB picture.

Used by the self-check, the tests and the benchmarks: they need RAW files that LibRaw reads
the way it reads a camera's, and no camera RAW can be shipped or downloaded. The picture is
mosaicked into a 14-bit RGGB Bayer sensor (linear light, identity colour matrix to sRGB), so
LibRaw's demosaic gives back approximately the picture; optionally with the layouts cameras
use: a small RGB thumbnail as the first image (the raw data then sits in a SubIFD, as in a
NEF), and a full-size JPEG preview in another SubIFD.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

WHITE_LEVEL = (1 << 14) - 1

_BYTE, _ASCII, _SHORT, _LONG, _RATIONAL, _SRATIONAL = 1, 2, 3, 4, 5, 10
_CFA = 32803
_XYZ_D65_TO_LINEAR_SRGB = (
    (3.2406, -1.5372, -0.4986),
    (-0.9689, 1.8758, 0.0415),
    (0.0557, -0.2040, 1.0570),
)


@dataclass(frozen=True)
class DngLayout:
    thumbnail_side: int | None = None
    """Longest side of an RGB thumbnail stored as the first image (IFD0), as cameras do;
    None: the raw data is the first image, as in a minimal DNG."""
    preview_side: int | None = None
    """Longest side of a JPEG preview in a SubIFD; None: no preview."""
    orientation: int = 1
    """TIFF/EXIF orientation of the shot (6: the camera was turned 90 degrees clockwise)."""
    capture_time: str | None = "2021:06:05 14:30:00"
    """EXIF DateTimeOriginal, "YYYY:MM:DD HH:MM:SS"."""
    make: str = "Dedup"
    model: str = "Synthetic Sensor"
    dng_tags: bool = True
    """False: a TIFF-based raw without the DNG tags (how a proprietary format looks)."""


@dataclass
class _Tiff:
    buffer: bytearray = field(default_factory=lambda: bytearray(b"II*\x00\x00\x00\x00\x00"))

    def blob(self, data: bytes) -> int:
        if len(self.buffer) % 2:
            self.buffer += b"\x00"
        offset = len(self.buffer)
        self.buffer += data
        return offset

    def ifd(self, entries: dict[int, tuple[int, object]]) -> int:
        """Writes one IFD (tag -> (type, values)); returns its offset."""
        packed = []
        for tag in sorted(entries):
            kind, values = entries[tag]
            data, count = _pack(kind, values)
            value = data.ljust(4, b"\x00") if len(data) <= 4 else struct.pack("<I", self.blob(data))
            packed.append(struct.pack("<HHI", tag, kind, count) + value)
        body = struct.pack("<H", len(packed)) + b"".join(packed) + b"\x00\x00\x00\x00"
        return self.blob(body)

    def finish(self, first_ifd: int) -> bytes:
        self.buffer[4:8] = struct.pack("<I", first_ifd)
        return bytes(self.buffer)


def _pack(kind: int, values: object) -> tuple[bytes, int]:
    if kind == _ASCII:
        text = str(values).encode("ascii") + b"\x00"
        return text, len(text)
    items = list(values) if isinstance(values, (list, tuple)) else [values]
    if kind == _BYTE:
        return bytes(items), len(items)
    if kind == _SHORT:
        return struct.pack(f"<{len(items)}H", *items), len(items)
    if kind == _LONG:
        return struct.pack(f"<{len(items)}I", *items), len(items)
    flat = [part for fraction in items for part in fraction]  # (numerator, denominator)
    code = "i" if kind == _SRATIONAL else "I"
    return struct.pack(f"<{len(flat)}{code}", *flat), len(items)


def bayer_mosaic(picture: Image.Image) -> np.ndarray:
    """The 14-bit RGGB sensor values a linear camera would record for `picture` (sRGB)."""
    srgb = np.asarray(picture.convert("RGB"), np.float32) / 255.0
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    height, width = linear.shape[:2]
    mosaic = np.empty((height, width), np.float32)
    mosaic[0::2, 0::2] = linear[0::2, 0::2, 0]
    mosaic[0::2, 1::2] = linear[0::2, 1::2, 1]
    mosaic[1::2, 0::2] = linear[1::2, 0::2, 1]
    mosaic[1::2, 1::2] = linear[1::2, 1::2, 2]
    return np.round(mosaic * WHITE_LEVEL).astype("<u2")


def dng_bytes(
    picture: Image.Image, layout: DngLayout = DngLayout(), *, preview: Image.Image | None = None
) -> bytes:
    """A DNG whose sensor saw `picture` (its width and height must be even), in `layout`.
    `preview`: what the embedded preview shows instead of `picture` (tests tell the two
    decoding paths apart by it)."""
    width, height = picture.size
    if width % 2 or height % 2:
        raise ValueError("a Bayer sensor has an even width and height")
    tiff = _Tiff()
    sensor = bayer_mosaic(picture).tobytes()
    raw_entries: dict[int, tuple[int, object]] = {
        254: (_LONG, 0),
        256: (_LONG, width),
        257: (_LONG, height),
        258: (_SHORT, 16),
        259: (_SHORT, 1),
        262: (_SHORT, _CFA),
        273: (_LONG, tiff.blob(sensor)),
        277: (_SHORT, 1),
        278: (_LONG, height),
        279: (_LONG, len(sensor)),
        284: (_SHORT, 1),
        33421: (_SHORT, (2, 2)),  # CFARepeatPatternDim
        33422: (_BYTE, (0, 1, 1, 2)),  # CFAPattern: R G / G B
        50714: (_LONG, 0),  # BlackLevel
        50717: (_LONG, WHITE_LEVEL),
    }
    sub_ifds: list[int] = []
    if layout.preview_side is not None:
        shown = picture if preview is None else preview
        sub_ifds.append(_preview_ifd(tiff, shown, layout.preview_side))
    exif_ifd = None
    if layout.capture_time is not None:
        exif_ifd = tiff.ifd({36867: (_ASCII, layout.capture_time)})
    main: dict[int, tuple[int, object]] = {
        271: (_ASCII, layout.make),
        272: (_ASCII, layout.model),
        274: (_SHORT, layout.orientation),
        305: (_ASCII, "dedup-gui dng_writer"),
    }
    if layout.capture_time is not None:
        main[306] = (_ASCII, layout.capture_time)
    if exif_ifd is not None:
        main[34665] = (_LONG, exif_ifd)
    if layout.dng_tags:
        main.update(_dng_colour_tags(layout))
    if layout.thumbnail_side is None:
        main.update(raw_entries)
    else:
        sub_ifds.insert(0, tiff.ifd(raw_entries))
        main.update(_rgb_image_entries(tiff, picture, layout.thumbnail_side))
    if sub_ifds:
        main[330] = (_LONG, tuple(sub_ifds))
    return tiff.finish(tiff.ifd(main))


def _dng_colour_tags(layout: DngLayout) -> dict[int, tuple[int, object]]:
    matrix = tuple((round(v * 10000), 10000) for row in _XYZ_D65_TO_LINEAR_SRGB for v in row)
    return {
        50706: (_BYTE, (1, 4, 0, 0)),  # DNGVersion
        50707: (_BYTE, (1, 1, 0, 0)),  # DNGBackwardVersion
        50708: (_ASCII, f"{layout.make} {layout.model}"),  # UniqueCameraModel
        50721: (_SRATIONAL, matrix),  # ColorMatrix1: XYZ -> camera (= linear sRGB)
        50728: (_RATIONAL, ((1, 1), (1, 1), (1, 1))),  # AsShotNeutral
        50778: (_SHORT, 21),  # CalibrationIlluminant1: D65
    }


def _scaled(picture: Image.Image, longest: int) -> Image.Image:
    scale = longest / max(picture.size)
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    return picture.convert("RGB").resize(size, Image.Resampling.BOX)


def _rgb_image_entries(
    tiff: _Tiff, picture: Image.Image, longest: int
) -> dict[int, tuple[int, object]]:
    thumbnail = _scaled(picture, longest)
    pixels = thumbnail.tobytes()
    return {
        254: (_LONG, 1),  # a reduced-resolution copy
        256: (_LONG, thumbnail.width),
        257: (_LONG, thumbnail.height),
        258: (_SHORT, (8, 8, 8)),
        259: (_SHORT, 1),
        262: (_SHORT, 2),
        273: (_LONG, tiff.blob(pixels)),
        277: (_SHORT, 3),
        278: (_LONG, thumbnail.height),
        279: (_LONG, len(pixels)),
        284: (_SHORT, 1),
    }


def _preview_ifd(tiff: _Tiff, picture: Image.Image, longest: int) -> int:
    preview = _scaled(picture, longest)
    buffer = io.BytesIO()
    preview.save(buffer, "JPEG", quality=90)
    jpeg = buffer.getvalue()
    return tiff.ifd({
        254: (_LONG, 1),
        256: (_LONG, preview.width),
        257: (_LONG, preview.height),
        258: (_SHORT, (8, 8, 8)),
        259: (_SHORT, 7),  # JPEG
        262: (_SHORT, 6),  # YCbCr
        273: (_LONG, tiff.blob(jpeg)),
        277: (_SHORT, 3),
        278: (_LONG, preview.height),
        279: (_LONG, len(jpeg)),
        284: (_SHORT, 1),
    })
