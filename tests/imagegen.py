"""Deterministic, photo-like test images (textured, coloured, with edges; never flat)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw


def make_photo(seed: int, width: int = 640, height: int = 480) -> Image.Image:
    """A distinct RGB 'photo' per seed: smooth colour fields, shapes with edges, fine noise."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    xs /= width
    ys /= height
    canvas = np.zeros((height, width, 3), np.float32)
    for _ in range(6):
        cx, cy = rng.random(2)
        radius = 0.1 + 0.4 * rng.random()
        colour = rng.random(3) * 255
        weight = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * radius**2))
        canvas += weight[..., None] * colour
    canvas = canvas / max(float(canvas.max()), 1.0) * 220
    image = Image.fromarray(canvas.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1 = x0 + int(rng.integers(width // 20, width // 3))
        y1 = y0 + int(rng.integers(height // 20, height // 3))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=fill)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=fill)
    noise = rng.normal(0, 6, (height, width, 3))
    pixels = np.clip(np.asarray(image, np.float32) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")
