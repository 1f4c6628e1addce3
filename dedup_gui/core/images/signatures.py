"""Perceptual signatures of one decoded image: dHash, pHash (and its 8 dihedral forms),
and a 16x16 colour micro thumbnail.

The scanner passes the review thumbnail (about 256 px, made from the reduced, EXIF-oriented,
alpha-flattened decode), so nothing here ever touches a full-resolution bitmap and every
resize starts from a small image. Hashes of that thumbnail stay within 2 bits of imagehash
on a full-size decode (benchmarks/bench_hashing.py measures it).

The hashes are bit-identical to `imagehash` (tests/test_engine_signatures.py checks it):
dhash == imagehash.dhash(image), phash == imagehash.phash(image), and phash_dihedral[k] ==
imagehash.phash of the 32x32 grey pHash input turned by DIHEDRAL_ORDER[k]. Instead of
calling imagehash nine times, the grey conversion and the 32x32 resize happen once and the
eight turned copies go through one DCT as a batch.

The DCT is scipy.fftpack's type-II DCT (what imagehash calls) written as two products with
an 8x32 cosine matrix, since only the 8x8 lowest frequencies are used: importing scipy.fft
costs half a second of every start-up. It agrees with scipy to about 1e-11; coefficients
that scipy computes as exactly zero (a flat image) come out as rounding noise, so values
that small are set to zero. Only an exact tie at the median between two coefficients of a
synthetic, mirror-symmetric picture can still be decided the other way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from dedup_gui.core.images.provenance import content_traits
from dedup_gui.core.images.recipe import RECIPE_VERSION as RECIPE_VERSION  # re-exported
from dedup_gui.core.models import HASH_BITS, MICRO_SIDE

if TYPE_CHECKING:
    import imagehash


HASH_SIDE = 8
PHASH_INPUT_SIDE = 32  # imagehash.phash(hash_size=8, highfreq_factor=4) works on 32x32
_LANCZOS = Image.Resampling.LANCZOS  # what imagehash calls ANTIALIAS


@dataclass(frozen=True, slots=True)
class Signatures:
    dhash: int
    phash: int
    phash_dihedral: tuple[int, ...]
    micro: bytes
    detail: bytes = b""
    pixel_digest: bytes | None = None


def hash_to_int(image_hash: imagehash.ImageHash) -> int:
    """The hash's bits, first bit most significant: the same number as int(str(hash), 16)."""
    return _bits_to_int(image_hash.hash)


def _bits_to_int(bits: np.ndarray) -> int:
    return int.from_bytes(np.packbits(bits.reshape(-1)).tobytes(), "big")


def compute_signatures(image: Image.Image) -> Signatures:
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    gray = rgb.convert("L")

    dhash_pixels = np.asarray(gray.resize((HASH_SIDE + 1, HASH_SIDE), _LANCZOS))
    dhash = _bits_to_int(dhash_pixels[:, 1:] > dhash_pixels[:, :-1])

    pixels = np.asarray(gray.resize((PHASH_INPUT_SIDE, PHASH_INPUT_SIDE), _LANCZOS))
    dihedral = dihedral_phashes(pixels)

    micro = rgb.resize((MICRO_SIDE, MICRO_SIDE), Image.Resampling.BOX).tobytes()
    detail, pixel_digest = content_traits(rgb)
    return Signatures(
        dhash=dhash, phash=dihedral[0], phash_dihedral=dihedral, micro=micro,
        detail=detail, pixel_digest=pixel_digest,
    )


def compute_signatures_many(images: Sequence[Image.Image]) -> list[Signatures]:
    """compute_signatures of each image, the same values: the resizes stay per image (in
    Pillow, without the GIL), the hash bits, the DCTs and the content traits of the whole
    batch go through numpy together, which is most of a small file's Python time."""
    if not images:
        return []
    rgbs = [image if image.mode == "RGB" else image.convert("RGB") for image in images]
    greys = [rgb.convert("L") for rgb in rgbs]
    dhash_pixels = np.stack(
        [np.asarray(grey.resize((HASH_SIDE + 1, HASH_SIDE), _LANCZOS)) for grey in greys]
    )
    dhash_bits = np.packbits(
        (dhash_pixels[:, :, 1:] > dhash_pixels[:, :, :-1]).reshape(len(rgbs), -1), axis=1
    )
    phash_pixels = np.stack([
        np.asarray(grey.resize((PHASH_INPUT_SIDE, PHASH_INPUT_SIDE), _LANCZOS))
        for grey in greys
    ])
    dihedral = dihedral_phashes_many(phash_pixels)
    traits = [content_traits(rgb, grey) for rgb, grey in zip(rgbs, greys, strict=True)]
    return [
        Signatures(
            dhash=int.from_bytes(bits.tobytes(), "big"),
            phash=turned[0],
            phash_dihedral=turned,
            micro=rgb.resize((MICRO_SIDE, MICRO_SIDE), Image.Resampling.BOX).tobytes(),
            detail=detail,
            pixel_digest=pixel_digest,
        )
        for rgb, bits, turned, (detail, pixel_digest) in zip(
            rgbs, dhash_bits, dihedral, traits, strict=True
        )
    ]


def _dihedral_gather_index(side: int) -> np.ndarray:
    """Flat indices that turn a side x side image into its 8 DIHEDRAL_ORDER copies at once."""
    grid = np.arange(side * side).reshape(side, side)
    mirrored = grid[:, ::-1]
    turned = [np.rot90(grid, k) for k in range(4)] + [np.rot90(mirrored, k) for k in range(4)]
    return np.stack(turned)


_DIHEDRAL_INDEX = _dihedral_gather_index(PHASH_INPUT_SIDE)
_MIDDLE = HASH_BITS // 2


def dihedral_phashes(pixels: np.ndarray) -> tuple[int, ...]:
    """pHash of a 32x32 grey array under each transform of models.DIHEDRAL_ORDER."""
    return dihedral_phashes_many(pixels[None])[0]


def dihedral_phashes_many(pixels: np.ndarray) -> list[tuple[int, ...]]:
    """dihedral_phashes of each of n 32x32 grey arrays (shape n x 32 x 32), in one batch."""
    count = len(pixels)
    stack = pixels.reshape(count, -1)[:, _DIHEDRAL_INDEX].astype(np.float64)
    stack = stack.reshape(count * len(_DIHEDRAL_INDEX), PHASH_INPUT_SIDE, PHASH_INPUT_SIDE)
    low = low_frequency_dct(stack).reshape(len(stack), HASH_BITS)
    # np.median of 64 values is the mean of the two middle ones: the same arithmetic here.
    ordered = np.sort(low, axis=1)
    medians = (ordered[:, _MIDDLE - 1 : _MIDDLE] + ordered[:, _MIDDLE : _MIDDLE + 1]) / 2
    packed = np.packbits(low > medians, axis=1).reshape(count, len(_DIHEDRAL_INDEX), 8)
    return [tuple(int.from_bytes(row.tobytes(), "big") for row in image) for image in packed]


def _dct_matrix(side: int, rows: int) -> np.ndarray:
    """scipy.fftpack.dct(type=2, norm=None) as a matrix: y[k] = 2 sum x[n] cos(pi k (2n+1) / 2N),
    first `rows` frequencies only."""
    frequency = np.arange(rows, dtype=np.float64)[:, None]
    sample = np.arange(side, dtype=np.float64)[None, :]
    matrix = 2.0 * np.cos(np.pi * frequency * (2.0 * sample + 1.0) / (2.0 * side))
    matrix[0] = 2.0  # cos(0) exactly
    return matrix


_DCT_LOW = _dct_matrix(PHASH_INPUT_SIDE, HASH_SIDE)
_ZERO_BELOW = 1e-13
"""Relative to the largest possible coefficient: smaller results are rounding noise of a 0."""


def low_frequency_dct(stack: np.ndarray) -> np.ndarray:
    """The HASH_SIDE x HASH_SIDE low corner of dct(dct(image, axis=0), axis=1) for each
    image of `stack` (n x 32 x 32 float64), as imagehash.phash computes it."""
    low = _DCT_LOW @ stack @ _DCT_LOW.T
    brightest = np.maximum(np.abs(stack).max(axis=(1, 2)), 1.0)[:, None, None]
    largest = 4.0 * PHASH_INPUT_SIDE * PHASH_INPUT_SIDE * brightest
    low[np.abs(low) < largest * _ZERO_BELOW] = 0.0
    return low
