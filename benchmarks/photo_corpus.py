"""Realistic 12-megapixel JPEG test photos for the benchmarks, made from real photo content.

Each photo starts from one of scikit-image's bundled sample photographs, randomly cropped,
upscaled to 4000x3000, colour-jittered, given real high-frequency texture (from the bundled
grass/gravel/brick photos at native scale) and sensor-like grain, and saved as a quality-90
JPEG with EXIF (capture date, and for every fourth photo an orientation tag with the pixels
stored turned, as phones do). File sizes land around real camera JPEGs (a few MB), so decoding
costs what it costs on a real library. Generated once and kept in benchmarks/_data/.

    python benchmarks/photo_corpus.py [--count 48]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

DATA_DIR = Path(__file__).resolve().parent / "_data"
PHOTO_SIZE = (4000, 3000)
JPEG_QUALITY = 90
_SOURCES = (
    "astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field",
    "immunohistochemistry", "retina", "cat", "camera", "moon",
)  # fmt: skip
_TEXTURES = ("grass", "gravel", "brick")


def ensure_corpus(count: int = 48, folder: Path | None = None) -> list[Path]:
    """Paths of `count` corpus photos, generating the missing ones."""
    folder = folder or DATA_DIR / "photos_4000x3000_q90"
    folder.mkdir(parents=True, exist_ok=True)
    for partial in folder.glob("*.tmp"):  # left by an interrupted run
        partial.unlink()
    paths = []
    for index in range(count):
        path = folder / f"photo_{index:03}.jpg"
        if not path.exists():
            partial = path.with_suffix(".tmp")
            make_photo(index).save(partial, "JPEG", **_save_options(index))
            partial.replace(path)
        paths.append(path)
    return paths


def make_photo(index: int) -> Image.Image:
    """The stored pixels of corpus photo `index` (turned when it carries an orientation tag)."""
    import skimage.data

    rng = np.random.default_rng(1000 + index)
    source = getattr(skimage.data, _SOURCES[index % len(_SOURCES)])()
    if source.ndim == 2:
        tint = 0.75 + 0.5 * rng.random(3)
        source = np.clip(source[..., None] * tint, 0, 255).astype(np.uint8)
    picture = Image.fromarray(source[..., :3]).resize(
        PHOTO_SIZE, Image.Resampling.BICUBIC, box=_random_box(rng, source)
    )
    pixels = np.asarray(picture, np.float32)
    gains = 0.85 + 0.3 * rng.random(3)
    pixels = pixels * gains + rng.normal(0, 8)
    pixels += 0.18 * (_texture(rng) - 128.0)[..., None]
    grain = rng.standard_normal(pixels.shape[:2], dtype=np.float32) * 3.5
    pixels += grain[..., None]
    photo = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    if index % 4 == 3:
        photo = photo.transpose(Image.Transpose.ROTATE_90)  # EXIF orientation 6 turns it back
    return photo


def _random_box(rng: np.random.Generator, source: np.ndarray) -> tuple[float, float, float, float]:
    height, width = source.shape[:2]
    box_width = min(width, height * 4 / 3) * (0.7 + 0.3 * rng.random())
    box_height = box_width * 3 / 4
    left = rng.random() * (width - box_width)
    top = rng.random() * (height - box_height)
    return (left, top, left + box_width, top + box_height)


def _texture(rng: np.random.Generator) -> np.ndarray:
    import skimage.data

    tile = getattr(skimage.data, _TEXTURES[int(rng.integers(len(_TEXTURES)))])()
    tile = np.rot90(tile, int(rng.integers(4))).astype(np.float32)
    reps = (PHOTO_SIZE[1] // tile.shape[0] + 1, PHOTO_SIZE[0] // tile.shape[1] + 1)
    return np.tile(tile, reps)[: PHOTO_SIZE[1], : PHOTO_SIZE[0]]


def _save_options(index: int) -> dict[str, object]:
    exif = Image.Exif()
    exif[0x0110] = "Benchmark Camera"
    exif.get_ifd(0x8769)[0x9003] = (
        f"2023:{index % 12 + 1:02}:{index % 28 + 1:02} 12:00:{index % 60:02}"
    )
    if index % 4 == 3:
        exif[0x0112] = 6
    return {"quality": JPEG_QUALITY, "exif": exif}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=48)
    args = parser.parse_args()
    paths = ensure_corpus(args.count)
    sizes = [path.stat().st_size for path in paths]
    print(f"{len(paths)} photos in {paths[0].parent}, {np.mean(sizes) / 1e6:.1f} MB on average")


if __name__ == "__main__":
    main()
