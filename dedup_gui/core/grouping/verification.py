"""Second opinion on candidate pairs: structure (pHash + dHash) and colour/layout (micro
thumbnail) must both agree before two images count as the same picture.

Grayscale hashes alone confuse smooth images: every left-to-right gradient has nearly the
same pHash whatever its colours, and near-uniform images (skies, dark frames, flat art)
hash almost alike. So each candidate pair is checked against the 16x16 colour thumbnail:
- the luminance layouts must correlate (robust to brightness and gamma edits);
- the chroma must agree, unless one copy is grayscale (a grayscale conversion is a copy);
- if either image is low-detail, layout correlation means little, so the thumbnails must
  match in absolute terms, colour included, and no grayscale allowance applies.

The result per pair is an *effective distance* on the 64-bit scale of the slider: half
the mean of the pHash and dHash distances (pHash shifts more under crops and captions,
dHash more under re-encoding; their mean is steadier than either, measured in
benchmarks/eval_accuracy.py) plus half the layout disagreement of the thumbnails, rounded;
doubled for low-detail pairs. One slider tightens every signal at once. Distance 0 (100%)
is kept for the same picture at the same size: equal dimensions, hashes within the noise
of the decode path and thumbnails equal to within a grey level (a JPEG saved losslessly
as PNG is decoded along another path, so bit-equality would miss it); anything else is at
least 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from dedup_gui.core.grouping.arrays import distinct
from dedup_gui.core.grouping.candidates import hamming, hash_array
from dedup_gui.core.models import MICRO_SIDE, ImageRecord

REJECTED = np.uint8(255)
"""Effective distance of a pair that failed verification."""

LOW_DETAIL_TEXTURE = 1.0
"""Texture (see Signals.texture, 0-255 scale) below which an image is low-detail: flat,
dark or a smooth gradient, so its hashes are noise or shared by every similar gradient.
Measured: generated flat/gradient images stay below 0.5, sample photos above 1.3."""
LOW_DETAIL_MAX_DETAIL_DIFFERENCE = 2.0
"""Largest difference in luminance spread of two low-detail copies, as a fraction of the
smaller spread plus this many grey levels (a flat frame is not a faint picture)."""
GRAYSCALE_CHROMA = 3.0
"""Mean absolute chroma (0-255) below which an image counts as grayscale."""
OUTLIER_CELLS = 6
"""Cells of the 8x8 luminance layout (of 64) left out of the correlation (10%)."""
MIN_LAYOUT_CORRELATION = 0.80
"""Luminance layout correlation every detailed pair must reach."""
MAX_CHROMA_DIFFERENCE = 14.0
"""Mean absolute chroma difference of two coloured, detailed copies."""
LOW_DETAIL_MAX_LUMA_DIFFERENCE = 6.0
LOW_DETAIL_MAX_CHROMA_DIFFERENCE = 4.0
MAX_DETAIL_RATIO = 2.0
"""Largest ratio of the luminance spreads of two detailed copies (brightness and gamma
edits change it by well under 2; a faint picture and a bold one with the same layout
are different pictures)."""
MAX_LUMA_SHIFT = 48.0
"""Largest mean luminance difference (0-255) of two detailed copies: a +25% brightness
edit of a light photo."""
HASH_WEIGHT = 0.5
"""Effective distance = this share of the mean hash distance plus the rest of the layout
disagreement. Candidates still need a mean hash distance within the loosest setting."""
IDENTICAL_MAX_DIFFERENCE = 1.0
"""Largest mean luma and chroma difference (0-255) of two thumbnails at 100%."""
IDENTICAL_MAX_HASH_BITS = 2
"""Largest pHash + dHash distance at 100%: a JPEG's reduced (DCT-scaled) decode and a
full decode of the same pixels saved losslessly differ by up to 2 pHash bits."""
TURNED_PHASH_WEIGHT = 1.5
"""pHash distance of a mirrored/rotated pair counts this much (no dHash to confirm it):
without it, tiles of different photos matched in some orientation (eval: P 0.987)."""
LAYOUT_BITS_PER_CORRELATION = 40.0
"""Correlation shortfall from 1.0 mapped onto pHash bits (0.9 -> 4 bits)."""


SIGNAL_CHUNK = 512
"""Records turned into signals at a time (bounds the temporaries of from_records)."""
BUILD_SIGNAL_THREADS = 2
"""Threads SimilarityIndex.build computes the signals on."""


@dataclass(frozen=True, slots=True)
class Signals:
    """Per-record arrays used to verify pairs (about 100 bytes a record)."""

    phash: np.ndarray
    """uint64 (n,)"""
    dhash: np.ndarray
    """uint64 (n,)"""
    dihedral: np.ndarray | None
    """uint64 (n, 8) pHashes under DIHEDRAL_ORDER, or None when transforms are off."""
    luma: np.ndarray
    """float32 (n, 8, 8) luminance."""
    chroma: np.ndarray
    """float32 (n, 2, 4, 4) Cb/Cr, centred on 0."""
    detail: np.ndarray
    """float32 (n,) luminance standard deviation of the 16x16 thumbnail."""
    colourfulness: np.ndarray
    """float32 (n,) mean absolute chroma."""
    texture: np.ndarray
    """float32 (n,) luminance left after a 3x3 blur of the 16x16 thumbnail (standard
    deviation): near 0 for flat images and smooth gradients, whatever their contrast."""
    dimensions: np.ndarray
    """int64 (n, 2) width and height after EXIF orientation."""

    @classmethod
    def from_records(
        cls,
        records: Sequence[ImageRecord],
        *,
        with_dihedral: bool = False,
        threads: int = 1,
    ) -> Signals:
        """The signals of `records`, computed on up to `threads` threads."""
        count = len(records)
        luma = np.empty((count, 8, 8), np.float32)
        chroma = np.empty((count, 2, 4, 4), np.float32)
        detail, colourfulness, texture = (np.empty(count, np.float32) for _ in range(3))
        # The float temporaries cost ~7 KB a record; in chunks they stay in the CPU's cache.
        def fill(starts: range) -> None:
            for start in starts:
                end = min(start + SIGNAL_CHUNK, count)
                parts = _thumbnail_signals(records[start:end])
                for whole, part in zip((luma, chroma, detail, colourfulness, texture), parts,
                                       strict=True):
                    whole[start:end] = part

        threads = max(1, min(threads, count // SIGNAL_CHUNK))
        pool = ThreadPoolExecutor(max_workers=threads) if threads > 1 else None
        try:
            # Chunks dealt out in turn, each written to its own rows: numpy lets go of the
            # GIL in the heavy loops, and every value is the same as on one thread. The
            # per-record attributes (Python, holding the GIL) are read here meanwhile.
            step = SIGNAL_CHUNK * threads
            jobs = [] if pool is None else [
                pool.submit(fill, range(k * SIGNAL_CHUNK, count, step)) for k in range(threads)
            ]
            phash = hash_array([r.phash for r in records])
            dhash = hash_array([r.dhash for r in records])
            dimensions = np.stack([
                np.fromiter((r.width for r in records), np.int64, count),
                np.fromiter((r.height for r in records), np.int64, count),
            ], axis=1)
            dihedral = None
            if with_dihedral:
                dihedral = np.array([r.phash_dihedral for r in records], dtype=np.uint64)
                dihedral = dihedral.reshape(count, 8)
            if pool is None:
                fill(range(0, count, SIGNAL_CHUNK))
            for job in jobs:
                job.result()
        finally:
            if pool is not None:
                pool.shutdown()
        return cls(
            phash=phash,
            dhash=dhash,
            dihedral=dihedral,
            luma=luma,
            chroma=chroma,
            detail=detail,
            colourfulness=colourfulness,
            texture=texture,
            dimensions=dimensions,
        )

    def __len__(self) -> int:
        return len(self.phash)

    def subset(self, rows: np.ndarray) -> Signals:
        """The signals of `rows` (indices), in that order."""
        return Signals(
            phash=self.phash[rows],
            dhash=self.dhash[rows],
            dihedral=None if self.dihedral is None else self.dihedral[rows],
            luma=self.luma[rows],
            chroma=self.chroma[rows],
            detail=self.detail[rows],
            colourfulness=self.colourfulness[rows],
            texture=self.texture[rows],
            dimensions=self.dimensions[rows],
        )


def _thumbnail_signals(records: Sequence[ImageRecord]) -> tuple[np.ndarray, ...]:
    """(luma 8x8, chroma 2x4x4, detail, colourfulness, texture) from the micro thumbnails."""
    count = len(records)
    micro = np.frombuffer(b"".join(r.micro for r in records), dtype=np.uint8)
    # Planar float32 copies (bytes convert exactly): every pass below then reads
    # contiguous planes and multiplies without casting as it goes.
    rgb = micro.reshape(count, MICRO_SIDE * MICRO_SIDE, 3).transpose(0, 2, 1)
    rgb = np.ascontiguousarray(rgb).astype(np.float32)
    rgb = rgb.reshape(count, 3, MICRO_SIDE, MICRO_SIDE)
    scratch = np.empty((count, MICRO_SIDE, MICRO_SIDE), np.float32)

    def mix(weights: tuple[float, float, float]) -> np.ndarray:
        """weights[0] * red + weights[1] * green + weights[2] * blue in float32, added
        left to right (a - b * x is a + (-b) * x exactly)."""
        out = np.multiply(rgb[:, 0], np.float32(weights[0]))
        for channel in (1, 2):
            np.multiply(rgb[:, channel], np.float32(weights[channel]), out=scratch)
            out += scratch
        return out

    luma16 = mix(_LUMA_WEIGHTS)
    chroma = np.stack([_pool(mix(_CB_WEIGHTS), 4), _pool(mix(_CR_WEIGHTS), 4)], axis=1)
    return (
        _pool(luma16, 2),
        chroma,
        luma16.std(axis=(1, 2)),
        np.abs(chroma).mean(axis=(1, 2, 3)),
        _texture(luma16, scratch),
    )


_LUMA_WEIGHTS = (0.299, 0.587, 0.114)
_CB_WEIGHTS = (-0.168736, -0.331264, 0.5)
_CR_WEIGHTS = (0.5, -0.418688, -0.081312)


def _texture(luma: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    side = luma.shape[1]
    padded = np.empty((len(luma), side + 2, side + 2), np.float32)  # edge mode
    padded[:, 1:-1, 1:-1] = luma
    padded[:, 0, 1:-1] = luma[:, 0]
    padded[:, -1, 1:-1] = luma[:, -1]
    padded[:, :, 0] = padded[:, :, 1]
    padded[:, :, -1] = padded[:, :, -2]
    # Summed in place in the order sum() would: the same float32 values, fewer temporaries.
    # Each 3x3 window is nine offsets into the flat padded array (row y + dy, column
    # x + dx is `dy * (side + 2) + dx` further on): whole-array adds instead of one short
    # loop per image row; the sums that straddle a row or an image are never read.
    flat = padded.reshape(-1)
    width = side + 2
    length = len(flat) - 2 * width - 2
    windows = np.empty_like(flat)
    summed = windows[:length]
    summed[...] = flat[:length]
    for offset in [dy * width + dx for dy in range(3) for dx in range(3)][1:]:
        summed += flat[offset : offset + length]
    summed /= np.float32(9.0)
    blurred = windows.reshape(padded.shape)[:, 0:side, 0:side]
    np.subtract(luma, blurred, out=scratch)
    return scratch.std(axis=(1, 2)).astype(np.float32)


def _pool(planes: np.ndarray, factor: int) -> np.ndarray:
    """The mean of each factor x factor block, added along each row of the block and then
    down it, as numpy's mean over both axes adds them (bit-identical), in strided slices
    instead of one small reduction per block."""
    rows = np.add(planes[:, :, 0::factor], planes[:, :, 1::factor])
    for step in range(2, factor):
        rows += planes[:, :, step::factor]
    summed = np.add(rows[:, 0::factor], rows[:, 1::factor])
    for step in range(2, factor):
        summed += rows[:, step::factor]
    summed /= np.float32(factor * factor)
    return summed


def _turn(planes: np.ndarray, transforms: np.ndarray) -> np.ndarray:
    """Apply DIHEDRAL_ORDER transform `transforms[k]` to square plane(s) `planes[k]`
    (last two axes), the same way signatures.py turns the image before hashing."""
    if not transforms.any():
        return planes
    out = planes.copy()
    for transform in distinct(transforms):
        if transform == 0:
            continue
        rows = transforms == transform
        turned = planes[rows]
        if transform >= 4:
            turned = turned[..., ::-1]  # left-right mirror first
        # PIL's ROTATE_90 is counter-clockwise, like np.rot90 on (row, column) axes.
        out[rows] = np.rot90(turned, k=int(transform) % 4, axes=(-2, -1))
    return out


def _standardise(planes: np.ndarray) -> np.ndarray:
    flat = planes.reshape(len(planes), planes[0].size if len(planes) else 1)
    centred = flat - flat.mean(axis=1, keepdims=True)
    # centred.std(axis=1) as numpy computes it (the mean of the squares, then the root),
    # without centring a second time.
    spread = np.square(centred).sum(axis=1, keepdims=True)
    spread /= flat.shape[1]
    np.sqrt(spread, out=spread)
    centred /= np.maximum(spread, 1e-6)
    return centred


def _stable_row_order(values: np.ndarray) -> np.ndarray:
    """np.argsort(values, axis=1, kind="stable"): the SIMD sort (not stable) gives the same
    order in every row without ties, and only the rows with ties are sorted stably."""
    order = np.argsort(values, axis=1)
    ordered = _take_rows(values, order)
    tied = np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))
    if len(tied):
        order[tied] = np.argsort(values[tied], axis=1, kind="stable")
    return order


def _take_rows(values: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """np.take_along_axis(values, columns, axis=1) through one flat index."""
    return np.take(values, columns + (np.arange(len(columns)) * values.shape[1])[:, None])


def _correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Layout correlation that ignores the cells that disagree most (OUTLIER_CELLS): a
    caption, a logo or a crop's edge changes a few cells a lot, a different picture
    changes them all."""
    za, zb = _standardise(a), _standardise(b)
    if za.shape[1] <= OUTLIER_CELLS:
        return (za * zb).mean(axis=1)
    disagreement = np.abs(za - zb)
    kept = _stable_row_order(disagreement)[:, : za.shape[1] - OUTLIER_CELLS]
    kept += (np.arange(len(kept)) * za.shape[1])[:, None]
    za, zb = np.take(za, kept), np.take(zb, kept)
    za -= za.mean(axis=1, keepdims=True)
    zb -= zb.mean(axis=1, keepdims=True)
    norms = np.sqrt((za * za).sum(axis=1) * (zb * zb).sum(axis=1))
    return (za * zb).sum(axis=1) / np.maximum(norms, 1e-6)


@dataclass(frozen=True, slots=True)
class PairEvidence:
    """What the signals say about pairs (first[k], second[k]); arrays of the same length."""

    phash_distance: np.ndarray
    dhash_distance: np.ndarray
    layout_correlation: np.ndarray
    luma_difference: np.ndarray
    chroma_difference: np.ndarray
    low_detail: np.ndarray
    transformed: np.ndarray
    effective_distance: np.ndarray
    """uint8 effective distance in pHash bits; REJECTED if verification failed."""


def evaluate_pairs(
    left: Signals,
    first: np.ndarray,
    right: Signals,
    second: np.ndarray,
    transforms: np.ndarray | None = None,
) -> PairEvidence:
    """Verify pairs: `left[first[k]]` turned by DIHEDRAL_ORDER `transforms[k]` (0 if None;
    needs left.dihedral) against `right[second[k]]`."""
    if transforms is None:
        transforms = np.zeros(len(first), dtype=np.int8)
    transformed = transforms != 0
    if left.dihedral is not None and transformed.any():
        phash_distance = hamming(left.dihedral[first, transforms], right.phash[second])
    else:
        phash_distance = hamming(left.phash[first], right.phash[second])
    dhash_distance = hamming(left.dhash[first], right.dhash[second])
    luma_left = _turn(left.luma[first], transforms)
    luma_right = right.luma[second]
    chroma_left = _turn(left.chroma[first], transforms)
    chroma_right = right.chroma[second]

    correlation = _correlation(luma_left, luma_right)
    luma_difference = np.abs(luma_left - luma_right).mean(axis=(1, 2))
    chroma_difference = np.abs(chroma_left - chroma_right).mean(axis=(1, 2, 3))
    texture_low = np.minimum(left.texture[first], right.texture[second])
    texture_high = np.maximum(left.texture[first], right.texture[second])
    detail_low = np.minimum(left.detail[first], right.detail[second])
    detail_high = np.maximum(left.detail[first], right.detail[second])
    low_detail = texture_low < LOW_DETAIL_TEXTURE
    grayscale = (
        np.minimum(left.colourfulness[first], right.colourfulness[second]) < GRAYSCALE_CHROMA
    )

    luma_shift = np.abs(luma_left.mean(axis=(1, 2)) - luma_right.mean(axis=(1, 2)))
    detailed_ok = (
        (correlation >= MIN_LAYOUT_CORRELATION)
        & ((chroma_difference <= MAX_CHROMA_DIFFERENCE) | grayscale)
        & (detail_high <= MAX_DETAIL_RATIO * detail_low + LOW_DETAIL_MAX_DETAIL_DIFFERENCE)
        & (luma_shift <= MAX_LUMA_SHIFT)
    )
    low_detail_ok = (
        (luma_difference <= LOW_DETAIL_MAX_LUMA_DIFFERENCE)
        & (chroma_difference <= LOW_DETAIL_MAX_CHROMA_DIFFERENCE)
        & (texture_high < 2 * LOW_DETAIL_TEXTURE)
        & (detail_high - detail_low <= 0.25 * detail_low + LOW_DETAIL_MAX_DETAIL_DIFFERENCE)
    )
    accepted = np.where(low_detail, low_detail_ok, detailed_ok)

    # dHash is not computed per orientation: a turned copy is judged on pHash alone, with
    # its distance weighted up for the missing second opinion.
    hash_bits = np.where(
        transformed,
        TURNED_PHASH_WEIGHT * phash_distance,
        np.ceil((phash_distance.astype(np.float64) + dhash_distance) / 2),
    )
    layout_bits = np.clip(1.0 - correlation, 0.0, 1.0) * LAYOUT_BITS_PER_CORRELATION
    effective = np.floor(HASH_WEIGHT * hash_bits + (1 - HASH_WEIGHT) * layout_bits + 0.5)
    effective = np.where(low_detail, 2 * effective, effective)
    identical = (
        (phash_distance.astype(np.int64) + dhash_distance <= IDENTICAL_MAX_HASH_BITS)
        & ~transformed
        & (left.dimensions[first] == right.dimensions[second]).all(axis=1)
        & (luma_difference <= IDENTICAL_MAX_DIFFERENCE)
        & (chroma_difference <= IDENTICAL_MAX_DIFFERENCE)
    )
    effective = np.where(identical, 0, np.maximum(effective, 1))
    effective = np.minimum(effective, 254).astype(np.uint8)
    effective[~accepted] = REJECTED
    return PairEvidence(
        phash_distance=phash_distance.astype(np.uint8),
        dhash_distance=dhash_distance,
        layout_correlation=correlation.astype(np.float32),
        luma_difference=luma_difference.astype(np.float32),
        chroma_difference=chroma_difference.astype(np.float32),
        low_detail=low_detail,
        transformed=transformed,
        effective_distance=effective,
    )
