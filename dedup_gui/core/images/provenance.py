"""Where a file came from, read at scan time from the same open as the decode: the JPEG
quality its quantisation tables imply, the camera named in its EXIF, the program that
saved it, and whether the EXIF says it was changed after capture. Plus a few cheap
content traits of the review thumbnail (edge energy per region, clipped pixels).

Nothing here opens a file: `read_provenance` takes the Pillow image the decoder already
opened, `content_traits` the thumbnail the scanner already made. originals.py compares
these across a group to tell the original from copies edited from it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # only annotations: grouping reads GRID and is_editor without Pillow
    from PIL import Image

GRID = 4
"""The thumbnail's edge energy is summed over a GRID x GRID grid of regions."""
DETAIL_CELLS = GRID * GRID
_CLIP_HIGH = 250
_CLIP_LOW = 5

_MAKE, _MODEL, _SOFTWARE, _DATETIME = 0x010F, 0x0110, 0x0131, 0x0132
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_PIXEL_X, _PIXEL_Y = 0xA002, 0xA003

# IJG (libjpeg) standard luminance table, natural order: quality q scales it by
# 5000/q (q < 50) or 200 - 2q (q >= 50) percent. Most programs that re-save use it.
_IJG_LUMA = np.array(
    [
        16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
        14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
        18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
        49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
    ],
    dtype=np.float64,
)  # fmt: skip

# Programs that write the EXIF Software tag when they save an edit. A camera writes its
# firmware there ("Ver.1.00", "HDR+ 1.0"); an editor writes its own name.
_EDITORS = (
    "photoshop", "lightroom", "gimp", "paint.net", "paintshop", "pixelmator", "affinity",
    "snapseed", "picasa", "acdsee", "darktable", "rawtherapee", "capture one", "luminar",
    "imagemagick", "graphicsmagick", "photos", "photo editor", "windows photo", "instagram",
    "vsco", "canva", "fotor", "irfanview", "xnview", "faststone", "shotwell", "digikam",
    "pillow", "python", "preview", "skitch", "picsart", "lightzone", "on1", "dxo",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Provenance:
    jpeg_quality: int | None = None
    camera: str | None = None
    software: str | None = None
    edited_after_capture: bool = False


def read_provenance(image: Image.Image, exif: Image.Exif, width: int, height: int) -> Provenance:
    """From an opened image (its quantisation tables) and its EXIF; `width` x `height` is
    the stored (unturned) pixel size. Never raises: bad metadata only means less evidence."""
    try:
        return Provenance(
            jpeg_quality=_jpeg_quality(image),
            camera=_camera(exif),
            software=_text(exif.get(_SOFTWARE)),
            edited_after_capture=_edited_after_capture(exif, width, height),
        )
    except Exception:  # a malformed EXIF block must not cost the image
        return Provenance(jpeg_quality=_safe_quality(image))


def is_editor(software: str | None) -> bool:
    """The Software tag names a program that edits photos, not a camera's firmware."""
    if not software:
        return False
    lowered = software.lower()
    return any(name in lowered for name in _EDITORS)


def content_traits(thumbnail: Image.Image, grey: Image.Image | None = None) -> tuple[bytes, bytes]:
    """(detail, pixel digest) of the review thumbnail. detail: edge energy of each
    GRID x GRID region (0-255, the mean absolute difference of neighbouring grey pixels),
    then the share of clipped-white and of clipped-black pixels (0-255 = 0-100%).
    `grey`: the thumbnail's "L" conversion, when the caller already made it."""
    grey_pixels = np.asarray(grey if grey is not None else thumbnail.convert("L"), np.int16)
    height, width = grey_pixels.shape
    if height < GRID + 1 or width < GRID + 1:  # a few pixels: no regions to speak of
        grey_pixels = np.pad(
            grey_pixels, ((0, max(0, GRID + 1 - height)), (0, max(0, GRID + 1 - width))), "edge"
        )
    across = np.abs(np.diff(grey_pixels, axis=1))[:-1, :]
    down = np.abs(np.diff(grey_pixels, axis=0))[:, :-1]
    edges = across + down  # at most 510: int16 holds it, the sums below are int64
    rows = np.linspace(0, edges.shape[0], GRID + 1).astype(int)
    cols = np.linspace(0, edges.shape[1], GRID + 1).astype(int)
    # Sums of whole numbers are exact in any order: the same float32 means as a loop of
    # .mean() over the float32 cells, without 16 numpy calls a file.
    row_sums = np.add.reduceat(edges, rows[:-1], axis=0, dtype=np.int64)
    sums = np.add.reduceat(row_sums, cols[:-1], axis=1)
    counts = np.diff(rows)[:, None] * np.diff(cols)[None, :]
    cells = (sums.astype(np.float32) / counts.astype(np.float32)).reshape(-1).tolist()
    rgb = np.asarray(thumbnail if thumbnail.mode == "RGB" else thumbnail.convert("RGB"))
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    # Element-wise over the three planes: a reduction along a length-3 last axis costs
    # 30x more. A count over the size is the same float as the mean of the booleans.
    pixels = height * width
    high = np.count_nonzero(np.minimum(np.minimum(red, green), blue) >= _CLIP_HIGH) / pixels
    low = np.count_nonzero(np.maximum(np.maximum(red, green), blue) <= _CLIP_LOW) / pixels
    detail = bytes(
        [min(255, round(v * 4)) for v in cells] + [round(high * 255), round(low * 255)]
    )
    digest = hashlib.blake2b(rgb.tobytes(), digest_size=16)
    digest.update(f"{width}x{height}".encode())
    return detail, digest.digest()


def _jpeg_quality(image: Image.Image) -> int | None:
    tables = getattr(image, "quantization", None)
    if image.format != "JPEG" or not tables:
        return None
    luma = np.asarray(tables[min(tables)], dtype=np.float64)
    if luma.size != 64:
        return None
    return quality_of_table(luma)


def quality_of_table(luma: np.ndarray) -> int:
    """The IJG quality whose luma table is closest to `luma` (a camera's own tables map to
    the IJG quality of about the same coarseness)."""
    errors = np.abs(_LOG_IJG_TABLES - np.log(luma.reshape(1, -1))).mean(axis=1)
    return int(np.argmin(errors)) + 1  # the first (lowest) quality of the smallest error


def ijg_table(quality: int) -> np.ndarray:
    scale = 5000 / quality if quality < 50 else 200 - 2 * quality
    return np.clip(np.floor((_IJG_LUMA * scale + 50) / 100), 1, 255)


_LOG_IJG_TABLES = np.log(np.stack([ijg_table(q).reshape(-1) for q in range(1, 101)]))
"""log of the IJG luma table of each quality 1-100, computed once (not per file)."""


def quantiser_step(quality: int) -> float:
    """Mean step of the IJG luma table at `quality`: how coarsely the file was quantised."""
    return float(ijg_table(quality).mean())


def _safe_quality(image: Image.Image) -> int | None:
    try:
        return _jpeg_quality(image)
    except Exception:
        return None


def _camera(exif: Image.Exif) -> str | None:
    make, model = _text(exif.get(_MAKE)), _text(exif.get(_MODEL))
    if not make and not model:
        return None
    if make and model and model.lower().startswith(make.lower()):
        return model
    return " ".join(part for part in (make, model) if part)


def _edited_after_capture(exif: Image.Exif, width: int, height: int) -> bool:
    sub_ifd = exif.get_ifd(_EXIF_IFD)
    original = _text(sub_ifd.get(_DATETIME_ORIGINAL))
    modified = _text(exif.get(_DATETIME))
    if original and modified and modified[:19] > original[:19]:
        return True
    stated = sub_ifd.get(_PIXEL_X), sub_ifd.get(_PIXEL_Y)
    if all(isinstance(v, int) and v > 0 for v in stated):
        return sorted(stated) != sorted((width, height))
    return False


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    text = value.strip().strip("\x00").strip()
    return text or None
