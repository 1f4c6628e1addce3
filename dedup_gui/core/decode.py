"""Reduced, oriented, flattened decoding of one image file.

Hashing never needs more than a few hundred pixels a side, so JPEGs are decoded with
Pillow's DCT scaling (`draft`, up to 1/8 of the size at almost no cost) and other
formats are shrunk with `reduce` right after decoding. The result is always an RGB image
the way a viewer shows it: EXIF orientation applied, transparency flattened onto a fixed
background, first frame of an animation.
"""

from __future__ import annotations

import io
import os
import warnings
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pillow_heif
from PIL import Image, UnidentifiedImageError

from dedup_gui.core.fileaccess import NotARegularFileError, open_for_reading
from dedup_gui.core.imagetypes import SNIFF_BYTES, sniff_file, sniff_image_format
from dedup_gui.core.models import ErrorKind
from dedup_gui.core.provenance import Provenance, read_provenance

pillow_heif.register_heif_opener()

DECODE_PIXEL_LIMIT = 89_478_485
"""Most pixels a decode may produce: Pillow's default MAX_IMAGE_PIXELS (about 270 MB of
RGB). Checked on the size actually decoded, after a JPEG's DCT scaling."""
HEADER_PIXEL_LIMIT = 1 << 30
"""Most pixels a file may declare. A JPEG decodes at up to 1/8 scale, so a 100 MP camera
photo or a 500 MP panorama is cheap to hash; what it declares matters only up to here."""

# Pillow's open-time check guards the header size; `_check_pixel_count` guards the decode.
# A decompression bomb must be an error, never a warning that decodes anyway.
Image.MAX_IMAGE_PIXELS = HEADER_PIXEL_LIMIT
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)

FLATTEN_BACKGROUND = (255, 255, 255)
"""Transparent pixels are composited onto white, so a PNG and its JPEG export match."""

REDUCED_MIN_SIDE = 256
"""Default shortest side of a reduced decode. A 12 MP JPEG decodes at 1/8 (500x375): enough
for the 256 px review thumbnail, and its hashes stay within a few bits of a full decode's
(benchmarks/bench_hashing.py measures both the time and the Hamming distances)."""

_ORIENTATION_TAG = 0x0112
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_DATETIME_DIGITIZED = 0x9004

_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})


class ImageLoadError(Exception):
    """A file that cannot be used as an image, with the reason a user can act on."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class ImageInfo:
    width: int
    """Full-size width after the EXIF orientation is applied."""
    height: int
    format: str
    capture_time: str | None
    """EXIF DateTimeOriginal (else DateTimeDigitized) as "YYYY-MM-DDTHH:MM:SS"."""
    provenance: Provenance = field(default_factory=Provenance)
    """JPEG quality, camera, software: read from this same open (provenance.py)."""


def open_reduced(
    path: str | os.PathLike[str],
    min_side: int = REDUCED_MIN_SIDE,
    *,
    data: bytes | None = None,
    stream: BinaryIO | None = None,
) -> tuple[Image.Image, ImageInfo]:
    """Decode `path` so that its shorter side is at least `min_side` pixels (or the full
    size, if smaller), oriented and flattened to RGB. `data` (the file's bytes, already read)
    or `stream` (the file, already open) are read instead of opening `path` again.

    Raises ImageLoadError for anything that is not a usable image.
    """
    if data is not None and not data:
        raise ImageLoadError(ErrorKind.EMPTY, "The file is empty (0 bytes).")
    try:
        with ExitStack() as files:
            source: BinaryIO
            if data is not None:
                source = io.BytesIO(data)
            elif stream is not None:
                source = stream
            else:
                source = files.enter_context(open_for_reading(path))
            with Image.open(source) as opened:
                return _reduce_and_normalise(opened, min_side)
    except ImageLoadError:
        raise
    except Exception as error:
        raise _as_load_error(error, path, data) from error


def _reduce_and_normalise(image: Image.Image, min_side: int) -> tuple[Image.Image, ImageInfo]:
    full_width, full_height = image.size
    image_format = image.format or "UNKNOWN"
    if image_format == "JPEG":
        image.draft(image.mode, (min_side, min_side))
    _check_pixel_count(full_width, full_height, decoded_pixels=image.width * image.height)
    image.load()
    exif = image.getexif()
    # HEIF: libheif already applied the irot/imir boxes and pillow-heif reset this tag to 1.
    orientation = exif.get(_ORIENTATION_TAG, 1)
    capture_time = _capture_time(exif)
    provenance = read_provenance(image, exif, full_width, full_height)

    rgb_or_rgba = _to_rgb_or_rgba(image)
    factor = min(rgb_or_rgba.size) // max(min_side, 1)
    if factor >= 2:
        rgb_or_rgba = rgb_or_rgba.reduce(factor)
    rgb = _flatten(rgb_or_rgba) if rgb_or_rgba.mode == "RGBA" else rgb_or_rgba
    transpose = _ORIENTATION_TRANSPOSE.get(orientation) if isinstance(orientation, int) else None
    if transpose is not None:
        rgb = rgb.transpose(transpose)
        if transpose in (
            Image.Transpose.TRANSPOSE,
            Image.Transpose.TRANSVERSE,
            Image.Transpose.ROTATE_90,
            Image.Transpose.ROTATE_270,
        ):
            full_width, full_height = full_height, full_width
    return rgb, ImageInfo(full_width, full_height, image_format, capture_time, provenance)


def _check_pixel_count(width: int, height: int, *, decoded_pixels: int) -> None:
    if width * height > HEADER_PIXEL_LIMIT or decoded_pixels > DECODE_PIXEL_LIMIT:
        raise ImageLoadError(
            ErrorKind.TOO_LARGE,
            f"The image is too large to open safely ({width}x{height} pixels; "
            f"the limit is {DECODE_PIXEL_LIMIT:,} decoded pixels).",
        )


def _to_rgb_or_rgba(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode in ("RGB", "RGBA"):
        return image
    if mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if mode in _ALPHA_MODES:
        return image.convert("RGBA")
    if mode.startswith(("I", "F")):
        return Image.fromarray(_high_depth_to_8bit(image), "L").convert("RGB")
    try:
        return image.convert("RGB")
    except ValueError as error:
        raise ImageLoadError(
            ErrorKind.OTHER, f"The colour mode {mode} is not supported."
        ) from error


def _high_depth_to_8bit(image: Image.Image) -> np.ndarray:
    """16-bit and 32-bit grey to 8-bit by range, not by clipping (which turns it white)."""
    pixels = np.asarray(image)
    if image.mode.startswith("I;16"):
        return (pixels.astype(np.uint16) >> 8).astype(np.uint8)
    values = pixels.astype(np.float64)
    top = float(values.max()) if values.size else 0.0
    if image.mode == "F" and top <= 1.0:
        values = values * 255.0
    elif top > 255.0:
        values = values / (65535.0 if top <= 65535.0 else top) * 255.0
    return np.clip(values, 0, 255).astype(np.uint8)


def _flatten(rgba: Image.Image) -> Image.Image:
    background = Image.new("RGB", rgba.size, FLATTEN_BACKGROUND)
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _capture_time(exif: Image.Exif) -> str | None:
    try:
        sub_ifd = exif.get_ifd(_EXIF_IFD)
    except Exception:  # a malformed EXIF block must not cost the image
        return None
    for tag in (_DATETIME_ORIGINAL, _DATETIME_DIGITIZED):
        parsed = _parse_exif_datetime(sub_ifd.get(tag))
        if parsed is not None:
            return parsed
    return None


def _parse_exif_datetime(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    text = value.strip().rstrip("\x00")
    if len(text) < 19 or text[4] != ":" or text[7] != ":" or text[10] not in " T":
        return None
    date, clock = text[:10].replace(":", "-"), text[11:19]
    digits = (date + clock).replace("-", "").replace(":", "")
    if not digits.isdigit() or date.startswith("0000") or date[5:7] == "00":
        return None
    return f"{date}T{clock}"


def _as_load_error(
    error: Exception, path: str | os.PathLike[str], data: bytes | None
) -> ImageLoadError:
    kind, message = _describe(error, path, data)
    return ImageLoadError(kind, message)


def _describe(
    error: Exception, path: str | os.PathLike[str], data: bytes | None
) -> tuple[ErrorKind, str]:
    if isinstance(error, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return ErrorKind.TOO_LARGE, "The image has too many pixels to open safely."
    if isinstance(error, MemoryError):
        return ErrorKind.TOO_LARGE, "The image is too large to decode in the available memory."
    if isinstance(
        error,
        (FileNotFoundError, PermissionError, IsADirectoryError, NotARegularFileError),
    ):
        return file_access_problem(error)
    if isinstance(error, UnidentifiedImageError):
        if _is_empty(path, data):
            return ErrorKind.EMPTY, "The file is empty (0 bytes)."
        announced = sniff_image_format(data[:SNIFF_BYTES]) if data else sniff_file(path)
        if announced is not None:
            return ErrorKind.CORRUPT, f"The file starts like a {announced} image but is damaged."
        return ErrorKind.NOT_AN_IMAGE, "The file is not an image in a supported format."
    text = " ".join(str(error).split())
    if "truncated" in text or "end of file" in text.lower() or isinstance(error, EOFError):
        return ErrorKind.TRUNCATED, "The file ends early (truncated image data)."
    if isinstance(error, OSError) and error.errno is not None:
        return ErrorKind.OTHER, f"The file could not be read ({error.strerror})."
    detail = (text or type(error).__name__).rstrip(".")
    return ErrorKind.CORRUPT, f"The image data is damaged ({detail})."


def file_access_problem(error: OSError) -> tuple[ErrorKind, str]:
    """What a failed open or read of an image file means to the user."""
    if isinstance(error, FileNotFoundError):
        return ErrorKind.VANISHED, "The file was removed or renamed during the scan."
    if isinstance(error, PermissionError):
        return ErrorKind.PERMISSION, "The file cannot be read (permission denied)."
    if isinstance(error, IsADirectoryError):
        return ErrorKind.NOT_AN_IMAGE, "This is a folder, not an image file."
    if isinstance(error, NotARegularFileError):
        return ErrorKind.NOT_AN_IMAGE, "This is a pipe, device or socket, not a file; not read."
    return ErrorKind.OTHER, f"The file could not be read ({error.strerror or error})."


def _is_empty(path: str | os.PathLike[str], data: bytes | None) -> bool:
    if data is not None:
        return not data
    try:
        return Path(path).stat().st_size == 0
    except OSError:
        return False
