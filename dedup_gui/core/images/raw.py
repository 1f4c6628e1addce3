"""Camera RAW files (NEF, CR2, CR3, ARW, DNG, ...) read through LibRaw (the `rawpy` package).

A RAW is shown and hashed the way the camera's own JPEG would be: from the embedded
full-size JPEG preview when there is one large enough (fast: no demosaic; the JPEG decodes
with the same DCT scaling as any other JPEG), else from a half-size demosaic (one output pixel
per 2x2 Bayer block, no interpolation). Either way the picture is turned the way LibRaw
says the camera was held (`sizes.flip`), and the record's dimensions are the sensor's
image area, as oriented. LibRaw is loaded on the first RAW, never at start-up.

A file LibRaw cannot read is an error that says so; it is never taken from the small TIFF
thumbnail most RAW formats start with.
"""

from __future__ import annotations

import io
import os
from contextlib import AbstractContextManager, ExitStack, nullcontext
from types import ModuleType
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
from PIL import Image

from dedup_gui.core.files.fileaccess import open_for_reading
from dedup_gui.core.files.imagetypes import detect_raw, raw_format_label
from dedup_gui.core.files.interrupt import CancelFlag
from dedup_gui.core.files.tiff_ifd import exif_datetime_original
from dedup_gui.core.images.decode import (  # _capture_time: one EXIF date parser for all formats
    DECODE_PIXEL_LIMIT,
    REDUCED_MIN_SIDE,
    ImageInfo,
    ImageLoadError,
    _capture_time,
    _parse_exif_datetime,
    file_access_problem,
)
from dedup_gui.core.images.decode_cost import megabytes
from dedup_gui.core.images.memory_budget import MemoryBudget
from dedup_gui.core.models import ErrorKind

if TYPE_CHECKING:
    import rawpy

RAW_MEMORY_BUDGET_BYTES = 768 << 20
"""Most memory one RAW decode may take: the file's bytes plus LibRaw's buffers for a
half-size demosaic, estimated from the header before anything is unpacked."""
_DEMOSAIC_BYTES_PER_SENSOR_PIXEL = 4
"""Half-size demosaic: the 16-bit raw image (2 B a sensor pixel), LibRaw's 4 x 16-bit image
at a quarter of the pixels (2 B) and the 8-bit RGB output (under 1 B). A 45 MP sensor takes
about 180 MB; the budget refuses sensors above about 190 MP."""
SRGB_GAMMA = (2.4, 12.92)
"""The demosaic is encoded with sRGB's curve (LibRaw's default is BT.709's), as the camera's
own JPEG and raw converters' exports are, so the two look alike to the hashes."""
PREVIEW_ASPECT_TOLERANCE = 0.05
"""An embedded preview is used only if it shows the whole sensor: its aspect ratio within
this share of the sensor's (a 4:3 thumbnail with black bars of a 3:2 sensor is not)."""

# LibRaw's flip (0 none, 3 180, 5 90 CCW, 6 90 CW, 1/2 mirrored, 4/7 mirrored diagonally).
_FLIP_TRANSPOSE = {
    1: Image.Transpose.FLIP_LEFT_RIGHT,
    2: Image.Transpose.FLIP_TOP_BOTTOM,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.TRANSPOSE,
    5: Image.Transpose.ROTATE_90,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
}
_SWAPS_SIDES = 4


def open_raw_reduced(
    path: str | os.PathLike[str],
    min_side: int = REDUCED_MIN_SIDE,
    *,
    kind: str | None = None,
    data: bytes | None = None,
    stream: BinaryIO | None = None,
    budget: MemoryBudget | None = None,
    cancel: CancelFlag | None = None,
) -> tuple[Image.Image, ImageInfo]:
    """A camera RAW decoded so that its shorter side is at least `min_side` pixels (or as
    large as its preview or half-size demosaic is), RGB and oriented; the info's size is
    the sensor's. `kind` is the RAW format ("NEF"), looked up when not given; `data` or
    `stream` are read instead of opening `path`. With `budget` (the scan's), a demosaic
    waits for room for its estimate like any other decode (interrupt.Cancelled when
    `cancel` is set meanwhile), and is refused above the whole budget. Raises
    ImageLoadError."""
    kind = kind or detect_raw(path, data=data, stream=stream) or "RAW"
    try:
        content = _read_all(path, data, stream)
    except OSError as error:
        raise ImageLoadError(*file_access_problem(error)) from error
    if not content:
        raise ImageLoadError(ErrorKind.EMPTY, "The file is empty (0 bytes).")
    rawpy = _rawpy()
    try:
        with rawpy.RawPy() as raw:
            raw.open_buffer(io.BytesIO(content))
            return _decode(raw, rawpy, kind, content, min_side, _Room(budget, cancel))
    except ImageLoadError:
        raise
    except MemoryError as error:
        raise _too_large() from error
    except Exception as error:
        raise _libraw_error(error, rawpy) from error


def _rawpy() -> ModuleType:
    import rawpy  # imported on the first RAW: LibRaw costs start-up time and memory

    return rawpy


def _read_all(path: str | os.PathLike[str], data: bytes | None, stream: BinaryIO | None) -> bytes:
    if data is not None:
        return data
    with ExitStack() as files:
        source = stream if stream is not None else files.enter_context(open_for_reading(path))
        return source.read()


class _Room:
    """The scan's memory budget as the demosaic sees it (none: only the RAW's own cap)."""

    def __init__(self, budget: MemoryBudget | None, cancel: CancelFlag | None) -> None:
        self.budget = budget
        self.cancel = cancel

    @property
    def most_bytes(self) -> int:
        if self.budget is None:
            return RAW_MEMORY_BUDGET_BYTES
        return min(RAW_MEMORY_BUDGET_BYTES, self.budget.total_bytes)

    def reserve(self, nbytes: int) -> AbstractContextManager[None]:
        return nullcontext() if self.budget is None else self.budget.reserve(nbytes, self.cancel)


def _decode(
    raw: rawpy.RawPy, rawpy: ModuleType, kind: str, content: bytes, min_side: int, room: _Room
) -> tuple[Image.Image, ImageInfo]:
    sizes = raw.sizes
    width, height, flip = sizes.width, sizes.height, sizes.flip
    if width <= 0 or height <= 0:
        raise ImageLoadError(ErrorKind.CORRUPT, _unreadable("the file holds no image"))
    capture_time = _container_capture_time(content)
    preview, preview_time = _usable_preview(raw, rawpy, width, height, min_side)
    if preview is not None:
        image = preview
        capture_time = capture_time or preview_time
    else:
        needed = _demosaic_bytes(sizes.raw_width, sizes.raw_height, len(content), room)
        with room.reserve(needed):
            pixels = raw.postprocess(
                half_size=True, use_camera_wb=True, output_bps=8, user_flip=0, gamma=SRGB_GAMMA
            )
            image = Image.fromarray(np.ascontiguousarray(pixels[..., :3]), "RGB")
            del pixels
            # Only now: rawpy unpacks the whole sensor data to answer `other`.
            capture_time = capture_time or _libraw_capture_time(raw)
    factor = min(image.size) // max(min_side, 1)
    if factor >= 2:
        image = image.reduce(factor)
    transpose = _FLIP_TRANSPOSE.get(flip)
    if transpose is not None:
        image = image.transpose(transpose)
    if flip & _SWAPS_SIDES:
        width, height = height, width
    return image, ImageInfo(width, height, raw_format_label(kind), capture_time)


def _usable_preview(
    raw: rawpy.RawPy, rawpy: ModuleType, width: int, height: int, min_side: int
) -> tuple[Image.Image | None, str | None]:
    """The embedded preview, decoded no larger than needed, when it shows the whole sensor
    at `min_side` pixels or more (at least half the sensor's resolution, for a caller that
    asks for the full image); else (None, None)."""
    try:
        thumb = raw.extract_thumb()
    except Exception:  # none, or one LibRaw cannot extract: the demosaic decides
        return None, None
    needed = min(min_side, min(width, height) // 2)
    if thumb.format == rawpy.ThumbFormat.BITMAP:
        pixels = np.asarray(thumb.data)
        if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] < 3:
            return None, None
        image = Image.fromarray(np.ascontiguousarray(pixels[..., :3]), "RGB")
        return (image if _shows_sensor(image.size, width, height, needed) else None), None
    try:
        with Image.open(io.BytesIO(thumb.data)) as opened:
            if opened.format != "JPEG" or not _shows_sensor(opened.size, width, height, needed):
                return None, None
            opened.draft("RGB", (min_side, min_side))
            if opened.width * opened.height > DECODE_PIXEL_LIMIT:
                return None, None
            # The preview keeps the sensor's orientation; its own EXIF orientation, if any,
            # is LibRaw's flip again, so only the flip is applied.
            image = opened.convert("RGB")
            return image, _exif_capture_time(opened)
    except Exception:  # a damaged preview: the demosaic still reads the sensor data
        return None, None


def _shows_sensor(size: tuple[int, int], width: int, height: int, needed: int) -> bool:
    preview_width, preview_height = size
    if min(preview_width, preview_height) < max(needed, 1):
        return False
    sensor_aspect = width / height
    return abs(preview_width / preview_height - sensor_aspect) <= (
        PREVIEW_ASPECT_TOLERANCE * sensor_aspect
    )


def _demosaic_bytes(raw_width: int, raw_height: int, file_bytes: int, room: _Room) -> int:
    """What a half-size demosaic of this sensor takes; refused (TOO_LARGE) above the RAW cap
    or the scan's whole budget."""
    needed = file_bytes + _DEMOSAIC_BYTES_PER_SENSOR_PIXEL * raw_width * raw_height
    if needed > room.most_bytes:
        raise ImageLoadError(
            ErrorKind.TOO_LARGE,
            f"The camera RAW is too large to open safely ({raw_width}x{raw_height} sensor "
            f"pixels, about {megabytes(needed)} to decode; the limit is "
            f"{megabytes(room.most_bytes)}).",
        )
    return needed


def _container_capture_time(content: bytes) -> str | None:
    """EXIF DateTimeOriginal of a TIFF-structured RAW (most formats), read from its tags."""
    try:
        value = exif_datetime_original(lambda at, size: content[at : at + size])
    except Exception:  # damaged tags must not cost the image
        return None
    return _parse_exif_datetime(value) if value is not None else None


def _libraw_capture_time(raw: rawpy.RawPy) -> str | None:
    try:
        taken = raw.other.timestamp
    except (AttributeError, OverflowError, OSError, ValueError):
        return None
    if taken.year <= 1970:  # LibRaw's 0: no date in the file
        return None
    return taken.replace(microsecond=0).isoformat()


def _exif_capture_time(image: Image.Image) -> str | None:
    try:
        return _capture_time(image.getexif())
    except Exception:
        return None


def _unreadable(detail: str) -> str:
    return f"A camera RAW file that could not be read (LibRaw: {detail})."


def _too_large() -> ImageLoadError:
    return ImageLoadError(
        ErrorKind.TOO_LARGE, "The camera RAW is too large to decode in the available memory."
    )


def _libraw_error(error: Exception, rawpy: ModuleType) -> ImageLoadError:
    too_big = (rawpy.LibRawTooBigError, rawpy.LibRawUnsufficientMemoryError)
    if isinstance(error, too_big):
        return _too_large()
    detail = error.args[0] if error.args else type(error).__name__
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    detail = " ".join(str(detail).split()).rstrip(".") or type(error).__name__
    unsupported = isinstance(error, rawpy.LibRawFileUnsupportedError)
    kind = ErrorKind.OTHER if unsupported else ErrorKind.CORRUPT
    return ImageLoadError(kind, _unreadable(detail))
