"""The benchmark photos (photo_corpus.py) in every format a phone or an export writes them in.

From each upright 12 MP corpus photo: the photo at 12 MP as JPEG (quality 90), HEIC with a
320 px embedded thumbnail as an iPhone writes it (512 px grid tiles, quality 60), the same
HEIC without a thumbnail, AVIF, PNG and WebP (quality 90); and 10 distinct 640x480 (0.3 MP)
crops of it in each of those formats. Generated once into benchmarks/_data/formats/.

    python benchmarks/format_corpus.py [--count 12]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pillow_heif
from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent))

from photo_corpus import DATA_DIR, ensure_corpus

FORMATS_DIR = DATA_DIR / "formats"
SMALL_SIZE = (640, 480)
SMALL_PER_PHOTO = 10
HEIC_THUMBNAIL_BOX = 320
"""An iPhone's HEIC carries a 320x240 thumbnail of its 4032x3024 picture."""
FORMATS: dict[str, tuple[str, str, dict[str, object]]] = {
    # name: (extension, Pillow format, save options)
    "jpeg": ("jpg", "JPEG", {"quality": 90}),
    "heic_thumbnail": ("heic", "HEIF", {"quality": 60, "thumbnails": [HEIC_THUMBNAIL_BOX]}),
    "heic": ("heic", "HEIF", {"quality": 60}),
    "avif": ("avif", "AVIF", {"quality": 60, "speed": 8}),
    "png": ("png", "PNG", {}),
    "webp": ("webp", "WEBP", {"quality": 90}),
}
SIZES = ("12mp", "0.3mp")


def folder_for(name: str, size: str) -> Path:
    return FORMATS_DIR / f"{name}_{size}"


def ensure_formats(count: int = 12) -> dict[tuple[str, str], list[Path]]:
    """(format name, size) -> its files, generating what is missing."""
    sources = ensure_corpus(count)
    files: dict[tuple[str, str], list[Path]] = {key: [] for key in _keys()}
    for index, source in enumerate(sources):
        upright: Image.Image | None = None
        for name, size in _keys():
            _extension, pillow_format, options = FORMATS[name]
            for crop in _crops(size):
                path = _path((name, size), index, crop)
                if not path.exists():
                    if upright is None:
                        with Image.open(source) as opened:
                            upright = ImageOps.exif_transpose(opened).convert("RGB")
                    image = upright if size == "12mp" else _small_crop(upright, index, crop)
                    _save(image, path, pillow_format, options)
                files[(name, size)].append(path)
    return files


def _keys() -> Iterator[tuple[str, str]]:
    return ((name, size) for name in FORMATS for size in SIZES)


def _crops(size: str) -> range:
    return range(1) if size == "12mp" else range(SMALL_PER_PHOTO)


def _path(key: tuple[str, str], index: int, crop: int) -> Path:
    name, size = key
    extension = FORMATS[name][0]
    suffix = "" if size == "12mp" else f"_{crop:02}"
    return folder_for(name, size) / f"photo_{index:03}{suffix}.{extension}"


def _small_crop(image: Image.Image, index: int, crop: int) -> Image.Image:
    """A distinct 0.3 MP picture: one of SMALL_PER_PHOTO boxes (40-90% of the photo)."""
    width, height = image.size
    share = 0.4 + 0.05 * crop
    box_width, box_height = int(width * share), int(height * share)
    left = (width - box_width) * ((index * 7 + crop * 3) % 10) // 9
    top = (height - box_height) * ((index * 3 + crop * 7) % 10) // 9
    box = (left, top, left + box_width, top + box_height)
    return image.resize(SMALL_SIZE, Image.Resampling.LANCZOS, box=box)


def _save(image: Image.Image, path: Path, pillow_format: str, options: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    with _heif_grid(pillow_format == "HEIF"):
        image.save(partial, pillow_format, **options)
    partial.replace(path)


@contextlib.contextmanager
def _heif_grid(enabled: bool) -> Iterator[None]:
    """Phones store a HEIC as a grid of 512x512 tiles."""
    before = pillow_heif.options.GRID_TILE_SIZE
    pillow_heif.options.GRID_TILE_SIZE = 512 if enabled else before
    try:
        yield
    finally:
        pillow_heif.options.GRID_TILE_SIZE = before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=12)
    args = parser.parse_args()
    for (name, size), paths in ensure_formats(args.count).items():
        total = sum(path.stat().st_size for path in paths)
        print(f"{name:15} {size:6} {len(paths):4} files {total / len(paths) / 1e6:6.2f} MB each")


if __name__ == "__main__":
    pillow_heif.register_heif_opener()
    main()
