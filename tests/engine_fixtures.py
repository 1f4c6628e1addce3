"""Image files for the engine tests, written from tests/imagegen.make_photo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from tests.imagegen import make_photo

# Extension -> Pillow save arguments. Every format the scanner promises to read.
FORMATS: dict[str, dict[str, object]] = {
    "jpg": {"quality": 92},
    "png": {},
    "webp": {"quality": 95},
    "gif": {},
    "bmp": {},
    "tiff": {},
    "avif": {"quality": 90},
    "heic": {"quality": 90},
}

# EXIF orientation -> how the stored pixels are turned so that the viewer's upright result
# is the original picture (the inverse of what the tag asks a viewer to do).
STORED_FOR_ORIENTATION: dict[int, tuple[Image.Transpose, ...]] = {
    1: (),
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_90,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_270,),
}


def write_photo(path: Path, seed: int = 1, size: tuple[int, int] = (320, 240), **save) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    make_photo(seed, *size).save(path, **save)
    return path


def write_in_format(path: Path, image: Image.Image, extension: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    picture = image.convert("P") if extension == "gif" else image
    picture.save(path, **FORMATS[extension])
    return path


def write_rotated_copy(
    path: Path, upright: Image.Image, orientation: int, capture: str | None = None
) -> Path:
    """Pixels stored turned, with the EXIF orientation tag that turns them upright again."""
    stored = upright
    for step in STORED_FOR_ORIENTATION[orientation]:
        stored = stored.transpose(step)
    exif = Image.Exif()
    exif[0x0112] = orientation
    if capture is not None:
        exif.get_ifd(0x8769)[0x9003] = capture
    stored.save(path, quality=95, exif=exif)
    return path


def with_alpha(image: Image.Image) -> Image.Image:
    """RGBA: a transparent band across the top quarter, opaque elsewhere."""
    rgba = np.asarray(image.convert("RGBA")).copy()
    rgba[: rgba.shape[0] // 4, :, 3] = 0
    return Image.fromarray(rgba, "RGBA")


def flattened(image_with_alpha: Image.Image) -> Image.Image:
    background = Image.new("RGB", image_with_alpha.size, (255, 255, 255))
    background.paste(image_with_alpha, mask=image_with_alpha.getchannel("A"))
    return background


def grey_16bit(image: Image.Image) -> Image.Image:
    grey = np.asarray(image.convert("L")).astype(np.uint16) * 257
    return Image.fromarray(grey)


def file_snapshot(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """(size, mtime_ns, bytes) of every file under `folder`: proof that nothing changed."""
    snapshot = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            info = path.stat()
            snapshot[str(path)] = (info.st_size, info.st_mtime_ns, path.read_bytes())
    return snapshot
