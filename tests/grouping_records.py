"""ImageRecords for grouping tests, made in memory from generated images (no scanning)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

from dedup_gui.core.images.signatures import compute_signatures
from dedup_gui.core.models import ImageRecord


def record(
    image: Image.Image,
    path: str,
    *,
    size: int | None = None,
    digest: bytes | None = None,
    capture_time: str | None = None,
) -> ImageRecord:
    signatures = compute_signatures(image)
    return ImageRecord(
        path=path,
        size=size if size is not None else image.width * image.height,
        mtime_ns=0,
        width=image.width,
        height=image.height,
        format="PNG",
        capture_time=capture_time,
        dhash=signatures.dhash,
        phash=signatures.phash,
        phash_dihedral=signatures.phash_dihedral,
        micro=signatures.micro,
        content_digest=digest,
    )


def jpeg(image: Image.Image, quality: int) -> Image.Image:
    import io

    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def variants(image: Image.Image) -> dict[str, Image.Image]:
    """Edits a user still calls the same photo."""
    width, height = image.size
    return {
        "half-size": image.resize((width // 2, height // 2), Image.Resampling.LANCZOS),
        "jpeg-q30": jpeg(image, 30),
        "grayscale": ImageOps.grayscale(image).convert("RGB"),
        "brighter": ImageEnhance.Brightness(image).enhance(1.2),
        "crop-2pct": image.crop((width // 100, height // 100, width - width // 100, height)),
    }


def gradient(size: int, start: tuple[int, int, int], end: tuple[int, int, int]) -> Image.Image:
    """A left-to-right colour gradient with faint noise (a sky, a studio backdrop)."""
    t = np.linspace(0.0, 1.0, size)[None, :, None]
    pixels = np.asarray(start, float) * (1 - t) + np.asarray(end, float) * t
    pixels = np.repeat(pixels, size, axis=0)
    pixels += np.random.default_rng(sum(start) + 7 * sum(end)).normal(0, 1.0, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def flat(size: int, colour: tuple[int, int, int], seed: int) -> Image.Image:
    """A near-uniform frame (a lens-cap shot, a blank wall) with sensor noise."""
    pixels = np.full((size, size, 3), colour, float)
    pixels += np.random.default_rng(seed).normal(0, 2.0, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def with_caption(image: Image.Image, text: str) -> Image.Image:
    out = image.copy()
    ImageDraw.Draw(out).text((8, out.height - 20), text, fill=(255, 255, 255))
    return out
