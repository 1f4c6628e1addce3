"""A camera original in library/ and its edits elsewhere, written as real JPEG files."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.similarity import MIN_SIMILARITY
from dedup_gui.core.models import DuplicateGroup
from dedup_gui.core.scanning import scanner
from tests.imagegen import make_photo

SIZE = (480, 360)
ORIGINAL_TIME = 1_600_000_000
EDIT_TIME = ORIGINAL_TIME + 86_400


def camera_exif(width: int, height: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS 80D"
    exif[0x0131] = "Firmware Version 1.0.2"
    exif[0x0132] = "2021:06:01 10:00:00"
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2021:06:01 10:00:00"
    sub[0xA002], sub[0xA003] = width, height
    return exif


def editor_exif(exif: Image.Exif) -> Image.Exif:
    """The camera EXIF as a photo editor writes it back: its name, a modify date."""
    edited = Image.Exif()
    edited.load(exif.tobytes())
    edited[0x0131] = "GIMP 2.10.34"
    edited[0x0132] = "2023:05:01 18:00:00"
    return edited


def jpeg_bytes(image: Image.Image, quality: int, exif: Image.Exif | None = None) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, **({"exif": exif} if exif is not None else {}))
    return buffer.getvalue()


def without_exif(jpeg: bytes) -> bytes:
    """The same JPEG without its APP1 segments: the same pixels, losslessly."""
    out, at = bytearray(jpeg[:2]), 2
    while at + 4 <= len(jpeg) and jpeg[at] == 0xFF and jpeg[at + 1] not in (0xDA, 0xD9):
        length = struct.unpack(">H", jpeg[at + 2 : at + 4])[0]
        if jpeg[at + 1] != 0xE1:
            out += jpeg[at : at + 2 + length]
        at += 2 + length
    return bytes(out + jpeg[at:])


def padded(jpeg: bytes, at_least: int) -> bytes:
    """`jpeg` with a comment segment making it larger than `at_least` bytes (as the XMP
    packet an editor embeds does)."""
    extra = max(0, at_least - len(jpeg)) + 1500
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", extra + 2) + b"x" * extra + jpeg[2:]


def edit(kind: str, image: Image.Image) -> tuple[Image.Image, int]:
    """The pixels of edit `kind` and the quality it is saved at."""
    width, height = image.size
    pixels = np.asarray(image, np.float32)
    if kind == "brighten":
        return _image(pixels + 30), 95
    if kind == "gamma":
        return _image(255 * (pixels / 255) ** 0.7), 95
    if kind == "grayscale":
        return image.convert("L").convert("RGB"), 97
    if kind == "caption":
        out = image.copy()
        draw = ImageDraw.Draw(out)
        draw.rectangle((0, height - 24, width // 2, height - 6), fill=(0, 0, 0))
        draw.text((8, height - 20), "Summer 2021 - with love", fill=(255, 255, 255))
        return out, 95
    if kind == "watermark":
        layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
        ImageDraw.Draw(layer).rectangle(
            (width * 3 // 5, height // 10, width * 7 // 8, height // 4), fill=(255, 255, 255, 120)
        )
        return Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB"), 95
    if kind == "crop":
        box = (width * 0.05, height * 0.05, width * 0.95, height * 0.95)
        return image.resize(image.size, Image.Resampling.LANCZOS, box=box), 96
    if kind == "reencode-lower":
        return image, 70
    if kind == "reencode-higher":
        return image, 98
    if kind == "resize-down":
        return image.resize((width * 3 // 5, height * 3 // 5), Image.Resampling.LANCZOS), 95
    if kind == "resize-up":
        return image.resize((width * 3 // 2, height * 3 // 2), Image.Resampling.BICUBIC), 92
    raise ValueError(kind)


def write(path: Path, data: bytes, mtime: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return path


def original_and_edit(
    folder: Path, kind: str, *, saved_by: str = "editor", seed: int = 5
) -> tuple[Path, Path]:
    """library/photo.jpg (camera EXIF) and downloads/photo-KIND.jpg, larger in bytes.
    `saved_by`: "editor" (EXIF kept, editor's name and modify date), "strip" (no EXIF),
    "verbatim" (the camera's EXIF copied unchanged, and the original's mtime)."""
    image = make_photo(seed, *SIZE)
    exif = camera_exif(*SIZE)
    original_data = jpeg_bytes(image, 90, exif)
    original = write(folder / "library" / "photo.jpg", original_data, ORIGINAL_TIME)
    decoded = Image.open(io.BytesIO(original_data)).convert("RGB")
    if kind == "stripped":
        data = without_exif(original_data)
    else:
        pixels, quality = edit(kind, decoded)
        kept = {"editor": editor_exif(exif), "strip": None, "verbatim": exif}[saved_by]
        data = jpeg_bytes(pixels, quality, kept)
    if kind != "resize-down" and len(data) <= len(original_data):
        data = padded(data, len(original_data))
    mtime = ORIGINAL_TIME if saved_by == "verbatim" else EDIT_TIME
    copy = write(folder / "downloads" / f"photo-{kind}.jpg", data, mtime)
    return original, copy


def groups_of(folder: Path) -> list[DuplicateGroup]:
    result = scanner.scan([folder])
    return SimilarityIndex.build(result.records).groups(MIN_SIMILARITY)


def _image(pixels: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
