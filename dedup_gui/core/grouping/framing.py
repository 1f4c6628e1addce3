"""Edits that change a picture's framing, told from the micro thumbnails of two copies whose
layouts do not line up (originals._ALIGNED): a crop, or an overlay big enough to move the
correlation of the whole picture (a caption bar across the bottom).

Both are losses the other copy does not share, so they say which way the edit went:
- an overlay covers one region and leaves the rest as it was: the two thumbnails line up
  outside that region, and the copy has pixels there painted clipped white or black where
  the other has not: a good part of the region (a bar, a box), or fewer around more edges
  (a thin bar and its text; edges alone say nothing, a bar removes the picture's);
- a crop keeps part of the other's field of view: the other, cut to some box and scaled,
  matches the copy much better than the two do as they are, and no box of the copy
  scaled up matches the other (the other has picture the copy lacks).

Each pair is decided by `edited_by_framing` alone, in float64 on the records' own bytes,
so the per-group (originals.py) and the stacked (keeper_batch.py) keepers call it alike.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from dedup_gui.core.grouping.arrays import median_of_sorted
from dedup_gui.core.images.provenance import DETAIL_CELLS, GRID
from dedup_gui.core.models import MICRO_SIDE, ImageRecord

ALIGNED = 0.97
"""The same as originals._ALIGNED: lumas correlated this well line up."""
_REGION_FACTOR = 3.0
"""A cell differs locally when its mean difference is this many times the median cell's."""
_REGION_MIN_DIFF = 4.0
_CLIP_MARGIN = 2
_MORE_EDGES = 1.15
_PAINTED_SHARE = 0.25
"""A bar or a box paints at least this share of the region where the copies differ (a
few clipped pixels more or less are the picture's own, moved by a re-save or text)."""
_CROP_FIT = 0.8
"""A crop: the other's best box fits the copy this much better than the copies as they
are, and than any box of the copy fits the other."""
_CROP_MIN_RMS = 3.0
"""Below this the copies are alike as they are: no crop to find."""
_CROP_SCALES = np.linspace(0.55, 0.96, 14)
"""Shares of the other's width a crop may keep (a 2% crop is not told from a re-save)."""
_CROP_POSITIONS = 5
_SIDE = MICRO_SIDE
_DETAIL_LENGTH = DETAIL_CELLS + 2


def edited_by_framing(copy: ImageRecord, other: ImageRecord) -> bool:
    """`copy` looks made from `other` by an overlay or a crop. For pairs that do not line
    up as they are; False when either thumbnail is missing."""
    expected = _SIDE * _SIDE * 3
    if len(copy.micro) != expected or len(other.micro) != expected:
        return False
    return _edited(copy.micro, other.micro, copy.detail, other.detail,
                   (copy.width, copy.height), (other.width, other.height))


@lru_cache(maxsize=65_536)
def _edited(
    copy_micro: bytes, other_micro: bytes, copy_detail: bytes, other_detail: bytes,
    copy_size: tuple[int, int], other_size: tuple[int, int],
) -> bool:  # fmt: skip
    a = np.frombuffer(copy_micro, np.uint8).reshape(_SIDE, _SIDE, 3).astype(np.float64)
    b = np.frombuffer(other_micro, np.uint8).reshape(_SIDE, _SIDE, 3).astype(np.float64)
    region = _local_region(a, b)
    if region is not None:
        return _overlaid(copy_detail, other_detail, region)
    return _is_crop(a.mean(axis=2), b.mean(axis=2), copy_size, other_size)


def _local_region(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """The GRID cells (flat mask) `a` and `b` differ in when they line up everywhere else
    (None: they differ all over, or in more than an overlay covers)."""
    side = _SIDE // GRID
    cells = np.abs(a - b).mean(axis=2).reshape(GRID, side, GRID, side).mean(axis=(1, 3))
    typical = max(median_of_sorted(np.sort(cells, axis=None)), 0.5)
    region = (cells > _REGION_MIN_DIFF) & (cells > _REGION_FACTOR * typical)
    if not 1 <= region.sum() <= GRID:  # an overlay covers at most a quarter of the picture
        return None
    outside = ~np.kron(region, np.ones((side, side), dtype=bool))
    if _correlation(a.mean(axis=2)[outside], b.mean(axis=2)[outside]) < ALIGNED:
        return None
    return region.reshape(-1)


def _overlaid(copy_detail: bytes, other_detail: bytes, region: np.ndarray) -> bool:
    """`copy` has pixels painted clipped white or black in the region where the two
    differ: over a good part of it (a bar, a box), or fewer of them around more edges (a
    thin bar with its text)."""
    if len(copy_detail) != _DETAIL_LENGTH or len(other_detail) != _DETAIL_LENGTH:
        return False
    copy, other = np.frombuffer(copy_detail, np.uint8), np.frombuffer(other_detail, np.uint8)
    high, low = DETAIL_CELLS, DETAIL_CELLS + 1
    painted = max(int(copy[k]) - int(other[k]) for k in (high, low))
    if painted <= _CLIP_MARGIN:
        return False
    if painted >= _PAINTED_SHARE * region.sum() / DETAIL_CELLS * 255:
        return True
    copy_edges = float(copy[:DETAIL_CELLS][region].sum())
    return copy_edges > _MORE_EDGES * float(other[:DETAIL_CELLS][region].sum()) + 1


def _correlation(x: np.ndarray, y: np.ndarray) -> float:
    x, y = x - x.mean(), y - y.mean()
    norm = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum()) / norm if norm > 0 else 1.0


def _is_crop(
    copy: np.ndarray, other: np.ndarray, copy_size: tuple[int, int], other_size: tuple[int, int]
) -> bool:
    centred_copy, centred_other = copy - copy.mean(), other - other.mean()
    as_they_are = float(np.sqrt(((centred_copy - centred_other) ** 2).mean()))
    if as_they_are < _CROP_MIN_RMS:
        return False
    forward = _best_box(centred_copy, other, copy_size, other_size)
    if forward >= _CROP_FIT * as_they_are:
        return False
    return forward < _CROP_FIT * _best_box(centred_other, copy, other_size, copy_size)


def _best_box(
    target: np.ndarray, source: np.ndarray, target_size: tuple[int, int],
    source_size: tuple[int, int],
) -> float:  # fmt: skip
    """The least RMS between `target` (centred) and a box of `source` scaled to it, the
    box's shape that of `target` in `source`'s pixels."""
    (tw, th), (sw, sh) = target_size, source_size
    if min(tw, th, sw, sh) <= 0:
        return float("inf")
    y_share = (sw * th) / (sh * tw)
    boxes = _boxes(round(y_share, 6))
    if boxes is None:
        return float("inf")
    # Box (k, p, q) is rows[k, p] @ source @ cols[k, q].T (SIDE x SIDE). Its error is
    # sum((box - mean(box) - target)^2), the target centred: sum(box^2) - n mean^2
    # - 2 sum(box * target) + sum(target^2). Each sum is a product of per-row-position
    # and per-column-position factors, so no box is ever made (~10x faster than making the
    # 14 x 25 boxes; equal to 1e-13).
    rows, turned_rows, row_sums, col_sums, col_cross, col_squares = boxes
    count, positions, side = len(rows), _CROP_POSITIONS, _SIDE
    pixels = side * side
    sampled = rows @ source  # (k, p, sample row, source column)
    across = source.T @ turned_rows  # its transpose, made contiguous by the product
    total = (row_sums @ source) @ col_sums
    cross = (across @ target).reshape(count, positions, pixels) @ col_cross
    squares = (across @ sampled).reshape(count, positions, pixels) @ col_squares
    errors = squares - total * total / pixels - 2 * cross + float((target * target).sum())
    return float(np.sqrt(max(float(errors.min()), 0.0) / pixels))


_Boxes = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@lru_cache(maxsize=256)
def _boxes(y_share: float) -> _Boxes | None:
    """For boxes whose height share is `y_share` times their width share (the copy's
    shape in the source's pixels), at every scale that fits: the row sampling matrices
    (k, p, SIDE, SIDE), their transposes and their sums over the samples; and from the
    column ones, indexed [k, ..., q]: their sums over the samples, their transposes
    flattened, and their Gram matrices flattened."""
    y_scales = _CROP_SCALES * y_share
    keep = y_scales <= _CROP_SCALES[-1]
    if not keep.any():
        return None
    rows, cols = _sampling(y_scales[keep]), _sampling(_CROP_SCALES[keep])
    count, positions = len(cols), _CROP_POSITIONS
    turned = cols.transpose(0, 1, 3, 2)

    def by_position(values: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(values.reshape(count, positions, -1).transpose(0, 2, 1))

    turned_rows = np.ascontiguousarray(rows.transpose(0, 1, 3, 2))
    return (rows, turned_rows, rows.sum(axis=2), by_position(cols.sum(axis=2)),
            by_position(turned), by_position(turned @ cols))


def _sampling(scales: np.ndarray) -> np.ndarray:
    """Bilinear sampling matrices: [k, p] maps a source row to the SIDE samples of a box
    keeping share scales[k] of it, at the p-th of _CROP_POSITIONS positions."""
    u = (np.arange(_SIDE) + 0.5) / _SIDE - 0.5
    steps = np.linspace(-0.5, 0.5, _CROP_POSITIONS)
    centres = steps[None, :] * (1 - scales[:, None])  # (k, p)
    coords = (0.5 + centres[:, :, None] + u[None, None, :] * scales[:, None, None]) * _SIDE - 0.5
    coords = np.clip(coords, 0, _SIDE - 1)
    return np.maximum(0.0, 1 - np.abs(coords[..., None] - np.arange(_SIDE)))
