"""The accuracy evaluation's image set, written to a folder: near-duplicate variants of
scikit-image's sample photos, distinct images that share style, ~1,000 distractors and
mirrored/rotated copies. Every file's ground-truth group is in its name:
"<kind>__<truth id>__<half>__<variant>.<ext>"; files sharing a truth id are copies.

Half "a" or "b" splits the source photos in two, so thresholds tuned on one half can be
checked on the other (see eval_accuracy.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import skimage
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps

SAMPLE_DIR = Path(skimage.__file__).parent / "data"
# A stereo pair and a colour copy of a grayscale chart would be near-duplicates of other
# samples, not distinct pictures; skimage.data.cat is chelsea.
EXCLUDED = {"motorcycle_right", "chessboard_RGB", "lfw_subset", "motorcycle_disp"}
MAX_SIDE = 640
TILES_PER_SOURCE = 50
TRANSFORMS = {
    "mirror": (Image.Transpose.FLIP_LEFT_RIGHT,),
    "rot90": (Image.Transpose.ROTATE_90,),
    "rot180": (Image.Transpose.ROTATE_180,),
    "rot270": (Image.Transpose.ROTATE_270,),
}
EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class EvalFile:
    path: Path
    kind: str
    """original | variant | transformed | style | tile | lowdetail"""
    truth: str
    half: str
    variant: str


def parse_name(path: Path) -> EvalFile:
    kind, truth, half, variant = path.stem.split("__")
    return EvalFile(path, kind, truth, half, variant)


def sample_photos() -> dict[str, Image.Image]:
    photos = {}
    for file in sorted(SAMPLE_DIR.iterdir()):
        if file.suffix not in {".png", ".jpg"} or file.stem in EXCLUDED:
            continue
        image = Image.open(file)
        image = _flatten(image)
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        if min(image.size) >= 96:
            photos[file.stem] = image
    return photos


def _flatten(image: Image.Image) -> Image.Image:
    if image.mode in {"RGBA", "LA", "P"}:
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image.convert("RGB")


def originals(photos: dict[str, Image.Image]) -> list[tuple[str, str, Image.Image]]:
    """(truth id, half, image): each photo, and the left and right halves of wide ones
    (crops of one scene: distinct pictures that share style)."""
    out = []
    for k, (name, image) in enumerate(sorted(photos.items())):
        half = "ab"[k % 2]
        out.append((name, half, image))
        width, height = image.size
        if width >= 400:
            out.append((f"{name}-left", half, image.crop((0, 0, width // 2, height))))
            out.append((f"{name}-right", half, image.crop((width // 2, 0, width, height))))
    return out


def _caption(image: Image.Image) -> Image.Image:
    out = image.copy()
    draw = ImageDraw.Draw(out)
    size = max(10, image.height // 20)  # a date stamp or signature, not a banner
    font = ImageFont.load_default(size=size)
    draw.text(
        (image.width // 20, image.height - 2 * size),
        "Summer 2023 (c) Family",
        fill=(255, 255, 255),
        font=font,
        stroke_width=2,
        stroke_fill=(0, 0, 0),
    )
    return out


def _gamma(image: Image.Image, gamma: float) -> Image.Image:
    table = [round(255 * (v / 255) ** gamma) for v in range(256)] * 3
    return image.point(table)


def _crop_3_percent(image: Image.Image) -> Image.Image:
    width, height = image.size
    return image.crop(
        (round(0.02 * width), round(0.01 * height), round(0.99 * width), round(0.98 * height))
    )


def write_variants(folder: Path, truth: str, half: str, image: Image.Image) -> None:
    def name(kind: str, variant: str, ext: str) -> Path:
        return folder / f"{kind}__{truth}__{half}__{variant}.{ext}"

    image.save(name("original", "original", "jpg"), quality=92)
    width, height = image.size
    image.resize((width // 2, height // 2), Image.Resampling.LANCZOS).save(
        name("variant", "resize50", "jpg"), quality=90
    )
    image.save(name("variant", "jpeg-q15", "jpg"), quality=15)
    image.save(name("variant", "png", "png"))
    image.save(name("variant", "webp", "webp"), quality=75)
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6  # viewers turn it 90 degrees clockwise to display
    image.transpose(Image.Transpose.ROTATE_90).save(
        name("variant", "exif-rotated", "jpg"), quality=90, exif=exif.tobytes()
    )
    _crop_3_percent(image).save(name("variant", "crop3", "jpg"), quality=90)
    ImageEnhance.Brightness(image).enhance(1.25).save(
        name("variant", "brightness", "jpg"), quality=90
    )
    _gamma(image, 0.7).save(name("variant", "gamma", "jpg"), quality=90)
    _caption(image).save(name("variant", "text", "jpg"), quality=90)
    ImageOps.grayscale(image).save(name("variant", "grayscale", "jpg"), quality=90)
    for label, steps in TRANSFORMS.items():
        turned = image
        for step in steps:
            turned = turned.transpose(step)
        turned.save(name("transformed", label, "jpg"), quality=90)


def write_tiles(folder: Path, photos: dict[str, Image.Image]) -> None:
    """Non-overlapping tiles of every photo: ~1,000 distinct distractors that share the
    photos' colours and textures. A tile with the same pixels as one already written (the
    blank margins of a scan, the flat background of a silhouette) is the same picture, so
    it is left out rather than counted as distinct."""
    seen: set[bytes] = set()
    for k, (name, image) in enumerate(sorted(photos.items())):
        width, height = image.size
        side = max(32, int(math.sqrt(width * height / TILES_PER_SOURCE)))
        for top in range(0, height - side + 1, side):
            for left in range(0, width - side + 1, side):
                tile = image.crop((left, top, left + side, top + side))
                if tile.tobytes() in seen:
                    continue
                seen.add(tile.tobytes())
                path = folder / f"tile__{name}-{top}-{left}__{'ab'[k % 2]}__tile.png"
                tile.save(path)


def _gradient(side: int, start: np.ndarray, end: np.ndarray, angle: float) -> np.ndarray:
    ys, xs = np.mgrid[0:side, 0:side] / (side - 1)
    t = np.cos(angle) * xs + np.sin(angle) * ys
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    return start[None, None, :] * (1 - t[..., None]) + end[None, None, :] * t[..., None]


def write_low_detail_and_style(folder: Path, seed: int = 7) -> None:
    """Smooth and flat images that hash alike in grayscale: gradients, flat colours with
    noise, dark frames, and light/dark pairs of one layout (distinct pictures)."""
    rng = np.random.default_rng(seed)
    side = 256
    for k in range(120):
        half = "ab"[k % 2]
        style = k % 4
        if style == 0:  # gradient in a random direction and palette
            pixels = _gradient(side, rng.random(3) * 255, rng.random(3) * 255,
                               rng.random() * 2 * math.pi)
        elif style == 1:  # flat colour with sensor noise
            pixels = np.full((side, side, 3), rng.random(3) * 255)
        elif style == 2:  # dark frame
            pixels = np.full((side, side, 3), rng.random(3) * 30)
        else:  # sky-like: soft vertical gradient of one hue
            base = rng.random(3) * 255
            pixels = _gradient(side, base, np.clip(base * 1.3 + 20, 0, 255), math.pi / 2)
        pixels = pixels + rng.normal(0, 2.5, pixels.shape)
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        image.save(folder / f"lowdetail__smooth{k}__{half}__lowdetail.png")
    # Light and dark versions of one layout: different pictures, same structure.
    for k in range(30):
        half = "ab"[k % 2]
        angle = rng.random() * 2 * math.pi
        hue = rng.random(3)
        for tone, scale in (("light", 1.0), ("dark", 0.35)):
            pixels = _gradient(side, hue * 255 * scale, (1 - hue) * 255 * scale, angle)
            image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
            draw = ImageDraw.Draw(image)
            colour = tuple(int(v) for v in (rng.random(3) * 255 * scale))
            box = tuple(int(v) for v in sorted(rng.integers(20, 236, 2))) * 2
            draw.ellipse(box, fill=colour)
            image.save(folder / f"style__gradient{k}-{tone}__{half}__{tone}.png")


def build(folder: Path) -> list[EvalFile]:
    folder.mkdir(parents=True, exist_ok=True)
    if not any(folder.iterdir()):
        photos = sample_photos()
        for truth, half, image in originals(photos):
            write_variants(folder, truth, half, image)
        write_tiles(folder, photos)
        write_low_detail_and_style(folder)
    return [parse_name(path) for path in sorted(folder.iterdir())]
