"""Whether a lossless file holds a lossy file's decode: both decoded at full size.

The scan's pixel digest (ImageRecord.pixel_digest) is taken from the reduced decode, and
above REDUCED_MIN_SIDE * 2 a JPEG is reduced by its DCT (draft) while a PNG is
box-shrunk, so a 12 MP JPEG and the PNG made from it never share one. Here both are
decoded whole (EXIF orientation applied, alpha flattened, as the scan shows them) and
compared value by value.

Exact equality is too strict: the PNG may come from another JPEG decoder (another IDCT,
another chroma upsampling). The rule is on the share of colour values exactly equal, in
the 8x8 blocks of the lossless image that have texture (grey std > TEXTURE_STD): flat
blocks (a background, a clipped sky) come out of any decoder and any high-quality
encode alike and say nothing. Measured on corpus photos (benchmarks/photo_corpus.py,
4 photos at 1600x1200, each also blurred, pasted small on a flat card and brightened to
clip; JPEGs at q75-q100, 4:2:0 and 4:4:4), against Pillow's decode of the JPEG
(benchmarks/eval_decode_match.py):

  PNG decoded from the JPEG (a conversion)      share equal in textured blocks
    libjpeg-turbo defaults (ImageMagick 6.9)      1.000 (every one)
    float IDCT                                    0.919 - 0.983
    no fancy upsampling, 4:4:4                    1.000
    no fancy upsampling, 4:2:0: photo             0.795 - 0.935  (mostly recognised)
                     blurred, card, clipped       0.52 - 0.96    (partly)
    ifast IDCT                                    0.24 - 0.45    (not recognised)
  JPEG exported from the PNG (the PNG is the original; Pillow's encoder, ImageMagick's
  at 4:4:4 gave the same values)
    q90 4:2:0 / 4:4:4                             0.14 - 0.46
    q95                                           0.18 - 0.53
    q98                                           0.26 - 0.58
    q100 4:2:0                                    0.33 - 0.56
    q100 4:4:4                                    0.58 - 0.674  (the highest)

MIN_EQUAL_SHARE = 0.80 sits between the best export (0.674, q100 4:4:4: margin 0.126)
and the lowest decoder difference we recognise (float IDCT, 0.919: margin 0.119). A
decoder that differs more (ifast; no fancy upsampling on flat or clipped colour) is not
recognised, as before this pass: the keeper's later steps decide. HEIF/AVIF go through
the same rule but were not measured against another decoder (libheif is the only one
here).
"""

from __future__ import annotations

import os
from contextlib import nullcontext

import numpy as np
from PIL import Image

from dedup_gui.core.files.fileaccess import open_for_reading
from dedup_gui.core.files.interrupt import CancelFlag
from dedup_gui.core.images.decode import ImageLoadError, open_reduced
from dedup_gui.core.images.decode_cost import decode_bytes_needed
from dedup_gui.core.images.memory_budget import MemoryBudget

MIN_EQUAL_SHARE = 0.80
"""Share of colour values exactly equal, in textured blocks, for the lossless file to
hold the lossy one's decode (the module docstring has the measurements). Changing the
rule: bump recipe.CONVERSION_RULE_VERSION, so cached verdicts are made again."""
TEXTURE_STD = 2.0
"""An 8x8 block of the lossless image whose grey values spread more than this has texture."""
MIN_TEXTURED_BLOCKS = 64
"""Fewer textured blocks than this (a nearly flat picture) are no evidence: only exactly
equal pixels then count as holding the decode."""
_BLOCK = 8
_STRIP_ROWS = 64 * _BLOCK
_FULL_SIZE = 1 << 30
"""open_reduced's min_side for "no reduction": no JPEG draft, no shrink."""


def holds_decode(
    lossless: str,
    lossy: str,
    *,
    budget: MemoryBudget | None = None,
    cancel: CancelFlag | None = None,
) -> bool | None:
    """True when the file `lossless` holds the decoded pixels of the file `lossy`, False
    when it does not, None when it cannot be told (a file unreadable, too large for the
    budget). Both full decodes are held at once, inside one `budget` reservation.
    Raises interrupt.Cancelled when `cancel` is set while waiting for memory."""
    try:
        need = _decode_bytes(lossless) + _decode_bytes(lossy)
    except (OSError, ValueError, Image.DecompressionBombError, Image.UnidentifiedImageError):
        return None
    if budget is not None and need > budget.total_bytes:
        return None
    with budget.reserve(need, cancel) if budget is not None else nullcontext():
        try:
            held, _ = open_reduced(lossless, _FULL_SIZE, cancel=cancel)
            decoded, _ = open_reduced(lossy, _FULL_SIZE, cancel=cancel)
        except ImageLoadError:
            return None
        if held.size != decoded.size:
            return False
        return equal_share_holds(held, decoded)


def equal_share_holds(held: Image.Image, decoded: Image.Image) -> bool:
    """The rule on two RGB images of one size (strip by strip: no full-size arrays)."""
    width, height = held.size
    equal = blocks = 0
    identical = True
    for top in range(0, height, _STRIP_ROWS):
        box = (0, top, width, min(height, top + _STRIP_ROWS))
        a = np.asarray(held.crop(box))
        b = np.asarray(decoded.crop(box))
        same = a == b
        identical = identical and bool(same.all())
        mask = _textured(a)
        if mask is None:
            continue
        rows, cols = mask.shape[0] * _BLOCK, mask.shape[1] * _BLOCK
        per_block = (
            same[:rows, :cols]
            .reshape(mask.shape[0], _BLOCK, mask.shape[1], _BLOCK, 3)
            .sum(axis=(1, 3, 4))
        )
        equal += int(per_block[mask].sum())
        blocks += int(mask.sum())
    if identical:
        return True
    textured = blocks * _BLOCK * _BLOCK * 3
    return blocks >= MIN_TEXTURED_BLOCKS and equal >= MIN_EQUAL_SHARE * textured


def _textured(rgb: np.ndarray) -> np.ndarray | None:
    """Per whole 8x8 block of the strip: its grey values (the channels' mean) spread more
    than TEXTURE_STD. In integers: with g = r + g + b and n = 64 values a block,
    std(g / 3) > T  <=>  n * sum(g^2) - sum(g)^2 > (3 T n)^2."""
    rows, cols = rgb.shape[0] // _BLOCK, rgb.shape[1] // _BLOCK
    if rows == 0 or cols == 0:
        return None
    whole = rgb[: rows * _BLOCK, : cols * _BLOCK]
    grey = whole[..., 0].astype(np.int32)
    grey += whole[..., 1]
    grey += whole[..., 2]
    squares = grey * grey  # at most 765^2: int32 holds it, the block sums are int64
    total = _block_sums(grey, rows, cols)
    square_sums = _block_sums(squares, rows, cols)
    n = _BLOCK * _BLOCK
    return n * square_sums - total * total > (3 * TEXTURE_STD * n) ** 2


def _block_sums(values: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Sums of the 8x8 blocks: down each block's rows first (contiguous), then across its
    columns, 3x faster than one sum over two axes of a 4-d view."""
    down = values.reshape(rows, _BLOCK, cols * _BLOCK).sum(axis=1, dtype=np.int64)
    return down.reshape(rows, cols, _BLOCK).sum(axis=2)


def _decode_bytes(path: str) -> int:
    with open_for_reading(path) as handle, Image.open(handle) as image:
        return decode_bytes_needed(image, image.size, os.fstat(handle.fileno()).st_size)
