"""The model's input from the scan's reduced decode: RGB, short side SHORT_SIDE, long side
rounded to a multiple of SIZE_STEP (at most a 3% squash), so that images of similar shape
share an input size and can be run as one batch. Pure Pillow and numpy: runs in the hash
workers (threads or processes), right where the reduced image exists."""

from __future__ import annotations

import numpy as np
from PIL import Image

SHORT_SIDE = 288
"""SSCD's evaluation size (short side); the measured 21-50 ms an image on 2 threads."""
SIZE_STEP = 32
MAX_ASPECT = 3.0
"""Longer panoramas are squashed to this aspect (the descriptor tolerates a squash)."""
PREPROCESS_VERSION = 1
"""Part of a descriptor's identity in the cache: bump when the input changes."""


def input_size(width: int, height: int) -> tuple[int, int]:
    """(width, height) of the model input for an image of this size."""
    short, long = min(width, height), max(width, height)
    aspect = min(long / max(short, 1), MAX_ASPECT)
    long_side = max(SHORT_SIDE, round(SHORT_SIDE * aspect / SIZE_STEP) * SIZE_STEP)
    return (long_side, SHORT_SIDE) if width >= height else (SHORT_SIDE, long_side)


def prepare_input(image: Image.Image) -> np.ndarray:
    """uint8 (H, W, 3) RGB, ready for the model (it normalises inside)."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    size = input_size(*rgb.size)
    if rgb.size != size:
        rgb = rgb.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(rgb, dtype=np.uint8)
