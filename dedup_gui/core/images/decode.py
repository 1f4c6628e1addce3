"""Reduced, oriented, flattened decoding of one image file.

Hashing never needs more than a few hundred pixels a side, so JPEGs are decoded with
Pillow's DCT scaling (`draft`, up to 1/8 of the size at almost no cost) and other
formats are shrunk with `reduce` right after decoding (PNG and WebP while decoding, through
libvips when it is installed: vips_decode.py; a lossy WebP from libwebp's Y'CbCr planes,
webp_yuv.py). The result is always an RGB image
the way a viewer shows it: EXIF orientation applied, transparency flattened onto a fixed
background, first frame of an animation.
"""

from __future__ import annotations

import io
import os
import warnings
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pillow_heif
from PIL import Image, UnidentifiedImageError

from dedup_gui.core.files.bounded_read import FileChangedError, read_all
from dedup_gui.core.files.fileaccess import NotARegularFileError, open_for_reading
from dedup_gui.core.files.imagetypes import SNIFF_BYTES, detect_raw, sniff_file, sniff_image_format
from dedup_gui.core.files.interrupt import CancelFlag, Cancelled
from dedup_gui.core.images import decode_warnings, heif_thumbnails, png_text, vips_decode
from dedup_gui.core.images.decode_cost import DECODE_BYTES_LIMIT, decode_bytes_needed, megabytes
from dedup_gui.core.images.memory_budget import MemoryBudget
from dedup_gui.core.images.provenance import Provenance, read_provenance
from dedup_gui.core.models import ErrorKind

pillow_heif.register_heif_opener(decode_threads=heif_thumbnails.DECODE_THREADS)

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

TEXT_RETRY_MAX_FILE_BYTES = 64 << 20
"""A PNG with a text chunk Pillow refuses is read again without its text, from a copy in
memory, up to this file size."""
TEXT_LEFT_OUT_NOTE = (
    "The photo was read, but a metadata (text) chunk too large to read safely was left out."
)
EXIF_DAMAGED_NOTE = "The photo was read, but its EXIF metadata is damaged."
_STRIP_PIXELS = 1 << 20
"""Pixels converted at a time from 16/32-bit grey (4 MB of float32)."""

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
    warnings: tuple[str, ...] = ()
    """What was wrong with the file although it could be read, one sentence each."""
    provenance: Provenance = field(default_factory=Provenance)
    """JPEG quality, camera, software: read from this same open (provenance.py)."""
    from_thumbnail: bool = False
    """The pixels are the file's embedded thumbnail, not a decode of its image: a thumbnail
    another program failed to update may show another picture (heif_thumbnails.py)."""


def open_reduced(
    path: str | os.PathLike[str],
    min_side: int = REDUCED_MIN_SIDE,
    *,
    data: bytes | None = None,
    stream: BinaryIO | None = None,
    budget: MemoryBudget | None = None,
    cancel: CancelFlag | None = None,
    embedded_long_side: int | None = None,
) -> tuple[Image.Image, ImageInfo]:
    """Decode `path` so that its shorter side is at least `min_side` pixels (or the full
    size, if smaller), oriented and flattened to RGB. `data` (the file's bytes, already read)
    or `stream` (the file, already open) are read instead of opening `path` again.

    With `embedded_long_side`, a HEIF/HEIC's embedded thumbnail whose longer side is at
    least that is decoded instead of the image (ImageInfo.from_thumbnail): a phone's 12 MP
    HEIC has no reduced decode, its 320 px thumbnail costs a hundredth of it.

    The memory the decode needs is estimated from the header first: above
    DECODE_BYTES_LIMIT (or the whole `budget`) the image is refused; with `budget`, the
    decode waits until the scan's other decodes leave room for it (interrupt.Cancelled
    when `cancel` is set meanwhile). Warnings the image library raises about the file
    become ImageInfo.warnings, never output.

    Raises ImageLoadError for anything that is not a usable image.
    """
    if data is not None and not data:
        raise ImageLoadError(ErrorKind.EMPTY, "The file is empty (0 bytes).")
    raw_kind = detect_raw(path, data=data, stream=stream)
    if raw_kind is not None:  # camera RAW: LibRaw, never the TIFF reader (core/raw.py)
        from dedup_gui.core.images.raw import open_raw_reduced

        return open_raw_reduced(
            path, min_side, kind=raw_kind, data=data, stream=stream, budget=budget, cancel=cancel
        )
    limits = _Limits(budget, cancel, embedded_long_side)
    try:
        with decode_warnings.collecting() as noted:
            notes: list[str] = []
            try:
                image, info = _open_and_reduce(path, min_side, data, stream, limits)
            except ValueError as error:
                if not png_text.is_text_chunk_refusal(error):
                    raise
                image, info = _open_without_text(path, min_side, data, limits)
                notes.append(TEXT_LEFT_OUT_NOTE)
        notes.extend(_note_for(message, source, info.format) for _, message, source in noted)
        return image, replace(info, warnings=tuple(dict.fromkeys(notes)))
    except (ImageLoadError, Cancelled):
        raise
    except Exception as error:
        raise _as_load_error(error, path, data) from error


@dataclass(frozen=True, slots=True)
class _Limits:
    budget: MemoryBudget | None
    cancel: CancelFlag | None
    embedded_long_side: int | None = None
    """Also what the decode may take instead of the image (not a limit, but passed along)."""

    @property
    def most_bytes(self) -> int:
        if self.budget is None:
            return DECODE_BYTES_LIMIT
        return min(DECODE_BYTES_LIMIT, self.budget.total_bytes)

    def reserve(self, nbytes: int) -> AbstractContextManager[None]:
        return nullcontext() if self.budget is None else self.budget.reserve(nbytes, self.cancel)


def _open_and_reduce(
    path: str | os.PathLike[str],
    min_side: int,
    data: bytes | None,
    stream: BinaryIO | None,
    limits: _Limits,
) -> tuple[Image.Image, ImageInfo]:
    with ExitStack() as files:
        source: BinaryIO
        if data is not None:
            source = io.BytesIO(data)
        elif stream is not None:
            source = stream
        else:
            source = files.enter_context(open_for_reading(path))
        file_bytes = len(data) if data is not None else _length_of(source)
        with Image.open(source) as opened:
            return _reduce_and_normalise(
                opened, min_side, limits, file_bytes, _FileBytes(data, source, file_bytes)
            )


@dataclass(frozen=True, slots=True)
class _FileBytes:
    """The file's bytes, for a decoder that reads them itself: `data`, or read from
    `source` (all of it, never past `size`) only when asked."""

    data: bytes | None
    source: BinaryIO
    size: int

    def read(self, cancel: CancelFlag | None) -> bytes | None:
        if self.data is not None:
            return self.data
        if self.size <= 0:
            return None
        try:
            self.source.seek(0)
            return read_all(self.source, self.size, cancel)
        except (OSError, FileChangedError, io.UnsupportedOperation):
            return None  # Pillow reads it (and says what is wrong)


def _open_without_text(
    path: str | os.PathLike[str], min_side: int, data: bytes | None, limits: _Limits
) -> tuple[Image.Image, ImageInfo]:
    """A PNG whose text chunk Pillow refuses, read from a copy without its text chunks
    (only for a file small enough to copy in memory)."""
    if data is None:
        with open_for_reading(path) as handle:
            size = os.fstat(handle.fileno()).st_size
            if size <= TEXT_RETRY_MAX_FILE_BYTES:
                data = read_all(handle, size, limits.cancel)
    stripped = png_text.without_text_chunks(data) if data is not None else None
    if stripped is None:
        raise ImageLoadError(
            ErrorKind.TOO_LARGE,
            "A metadata (text) chunk of this PNG is too large to read safely.",
        )
    return _open_and_reduce(path, min_side, stripped, None, limits)


def _length_of(source: BinaryIO) -> int:
    try:
        return os.fstat(source.fileno()).st_size
    except (OSError, AttributeError, io.UnsupportedOperation):
        return 0


def _reduce_and_normalise(
    image: Image.Image,
    min_side: int,
    limits: _Limits,
    file_bytes: int,
    contents: _FileBytes | None = None,
) -> tuple[Image.Image, ImageInfo]:
    full_width, full_height = image.size
    image_format = image.format or "UNKNOWN"
    from_thumbnail = False
    if image_format == "JPEG":
        image.draft(image.mode, (min_side, min_side))
    elif image_format == "HEIF" and limits.embedded_long_side:
        from_thumbnail = heif_thumbnails.use_embedded(image, limits.embedded_long_side)
    _check_pixel_count(full_width, full_height, decoded_pixels=image.width * image.height)
    needed = decode_bytes_needed(image, (full_width, full_height), file_bytes)
    if needed > limits.most_bytes:
        raise ImageLoadError(
            ErrorKind.TOO_LARGE,
            f"The image is too large to open safely (it needs about {megabytes(needed)} "
            "to decode).",
        )
    with limits.reserve(needed):
        reduced = _reduced_while_decoding(image, min_side, contents, limits.cancel)
        if reduced is None:
            image.load()
            exif = image.getexif()
        else:
            # PngImageFile.getexif decodes the image to look for an eXIf chunk after the
            # image data; vips_decode only takes a PNG that has none there.
            exif = Image.Image.getexif(image)
        # HEIF: libheif already applied the irot/imir boxes and pillow-heif reset this tag.
        orientation = exif.get(_ORIENTATION_TAG, 1)
        capture_time = _capture_time(exif)
        provenance = read_provenance(image, exif, full_width, full_height)
        if reduced is None:
            reduced = _reduced_8bit(image, min_side)
    if reduced.mode == "RGBA":
        rgb = _flatten(reduced)
    elif reduced.mode == "L":
        rgb = reduced.convert("RGB")
    else:
        rgb = reduced
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
    return rgb, ImageInfo(
        full_width, full_height, image_format, capture_time, provenance=provenance,
        from_thumbnail=from_thumbnail,
    )


def _check_pixel_count(width: int, height: int, *, decoded_pixels: int) -> None:
    if width * height > HEADER_PIXEL_LIMIT or decoded_pixels > DECODE_PIXEL_LIMIT:
        raise ImageLoadError(
            ErrorKind.TOO_LARGE,
            f"The image is too large to open safely ({width}x{height} pixels; "
            f"the limit is {DECODE_PIXEL_LIMIT:,} decoded pixels).",
        )


def _reduced_while_decoding(
    image: Image.Image, min_side: int, contents: _FileBytes | None, cancel: CancelFlag | None
) -> Image.Image | None:
    """A PNG or WebP decoded and reduced in one go (vips_decode.py), else None."""
    if contents is None or image.format not in vips_decode.FORMATS:
        return None
    factor = _reduce_factor(image.size, min_side)
    if factor < 2:  # nothing to reduce: libvips' set-up per file only costs (0.3 MP WebP: 0.58x)
        return None
    if not vips_decode.available(image.format):
        return None
    data = contents.read(cancel)
    if data is None:
        return None
    return vips_decode.reduced(image, data, factor)


def _reduce_factor(size: tuple[int, int], min_side: int) -> int:
    return max(1, min(size) // max(min_side, 1))


def _reduced_8bit(image: Image.Image, min_side: int) -> Image.Image:
    """RGB, RGBA or L, reduced by a whole factor so its shorter side stays >= min_side.
    Grey stays one byte a pixel until it is small (RGB would be four at full size)."""
    eight_bit = _to_8bit(image)
    factor = _reduce_factor(eight_bit.size, min_side)
    return eight_bit.reduce(factor) if factor >= 2 else eight_bit


def _to_8bit(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode in ("RGB", "RGBA", "L"):
        return image
    if mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if mode in _ALPHA_MODES:
        return image.convert("RGBA")
    if mode == "1":
        return image.convert("L")
    if mode.startswith(("I", "F")):
        return _high_depth_to_8bit(image)
    try:
        return image.convert("RGB")
    except ValueError as error:
        raise ImageLoadError(
            ErrorKind.OTHER, f"The colour mode {mode} is not supported."
        ) from error


def _high_depth_to_8bit(image: Image.Image) -> Image.Image:
    """16-bit and 32-bit grey to 8-bit grey by range, not by clipping (which turns it
    white). Converted in strips of rows, so no full-size wide copy is ever made."""
    width, height = image.size
    grey = np.empty((height, width), np.uint8)
    rows = max(1, _STRIP_PIXELS // max(width, 1))
    scale = None if image.mode.startswith("I;16") else _high_depth_scale(image)
    for top in range(0, height, rows):
        bottom = min(height, top + rows)
        strip = np.asarray(image.crop((0, top, width, bottom)))
        if scale is None:
            grey[top:bottom] = strip >> 8
        else:
            values = strip.astype(np.float32)
            values *= scale
            np.nan_to_num(values, copy=False)
            grey[top:bottom] = np.clip(values, 0, 255, out=values)
    return Image.fromarray(grey, "L")


def _high_depth_scale(image: Image.Image) -> np.float32:
    extrema = image.getextrema()
    top = float(extrema[1]) if isinstance(extrema, tuple) else 0.0  # type: ignore[arg-type]
    if image.mode == "F" and top <= 1.0:
        return np.float32(255.0)
    if top > 255.0:
        return np.float32(255.0 / (65535.0 if top <= 65535.0 else top))
    return np.float32(1.0)


def _note_for(message: str, source: str, image_format: str) -> str:
    """A sentence for what the image library warned about while reading the file."""
    from_tiff_reader = Path(source).name == "TiffImagePlugin.py"
    if "exif" in message.lower() or (from_tiff_reader and image_format != "TIFF"):
        return EXIF_DAMAGED_NOTE
    if from_tiff_reader:
        return "The photo was read, but its metadata (TIFF tags) is damaged."
    text = " ".join(message.split()).rstrip(".")
    return f"The photo was read, with a warning from the image library ({text})."


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
