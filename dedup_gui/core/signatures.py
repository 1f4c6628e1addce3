"""Perceptual signatures of one decoded image: dHash, pHash (and its 8 dihedral forms),
and a 16x16 colour micro thumbnail.

Input is the already-reduced, EXIF-oriented, alpha-flattened RGB image from `decode`,
so nothing here ever touches a full-resolution bitmap.
"""

from __future__ import annotations

from dataclasses import dataclass

import imagehash
import numpy as np
from PIL import Image

from dedup_gui.core.models import MICRO_SIDE

PHASH_INPUT_SIDE = 32  # imagehash.phash(hash_size=8, highfreq_factor=4) works on 32x32

_DIHEDRAL_TRANSFORMS: tuple[tuple[Image.Transpose, ...], ...] = (
    (),
    (Image.Transpose.ROTATE_90,),
    (Image.Transpose.ROTATE_180,),
    (Image.Transpose.ROTATE_270,),
    (Image.Transpose.FLIP_LEFT_RIGHT,),
    (Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_90),
    (Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_180),
    (Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_270),
)


@dataclass(frozen=True, slots=True)
class Signatures:
    dhash: int
    phash: int
    phash_dihedral: tuple[int, ...]
    micro: bytes


def hash_to_int(image_hash: imagehash.ImageHash) -> int:
    """The hash's bits, first bit most significant: the same number as int(str(hash), 16)."""
    return int.from_bytes(np.packbits(image_hash.hash.flatten()).tobytes(), "big")


def compute_signatures(image: Image.Image) -> Signatures:
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    dhash = hash_to_int(imagehash.dhash(rgb))
    # One resize to pHash's 32x32 input; the eight orientations are exact transposes of it,
    # so phash_dihedral[0] is bit-identical to imagehash.phash(rgb).
    gray = rgb.convert("L").resize(
        (PHASH_INPUT_SIDE, PHASH_INPUT_SIDE), Image.Resampling.LANCZOS
    )
    dihedral = []
    for steps in _DIHEDRAL_TRANSFORMS:
        turned = gray
        for step in steps:
            turned = turned.transpose(step)
        dihedral.append(hash_to_int(imagehash.phash(turned)))
    micro = rgb.resize((MICRO_SIDE, MICRO_SIDE), Image.Resampling.BOX).tobytes()
    return Signatures(dhash=dhash, phash=dihedral[0], phash_dihedral=tuple(dihedral), micro=micro)
