"""Deep candidates -> verified links. The descriptor proposes; this decides:

1. Low-detail images (flat, dark, smooth gradients: verification.LOW_DETAIL_TEXTURE and
   a margin) are never matched by the descriptor: they collide in descriptor space.
2. Keypoints must agree on an affine (geometry.py) under which one picture lies inside
   the other (a crop, a border, a turn): a burst neighbour, the same scene shifted, has
   parts in neither and fails here.
3. After that alignment, the existing colour and layout agreement (verification.py) on
   the overlapping part: luminance layout must correlate; colours must agree, or differ
   by one global colour mapping (a grade), not region by region (the same layout in
   other colours).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from dedup_gui.core.deep import geometry
from dedup_gui.core.deep.descriptors import DescriptorSet
from dedup_gui.core.deep.links import LOOSEST_COSINE, DeepLink, DeepLinks
from dedup_gui.core.deep.search import SearchCancelled, candidate_pairs
from dedup_gui.core.grouping.verification import (
    LOW_DETAIL_TEXTURE,
    MAX_CHROMA_DIFFERENCE,
    Signals,
    evaluate_pairs,
)
from dedup_gui.core.images.signatures import compute_signatures
from dedup_gui.core.models import CancelToken, ImageRecord
from dedup_gui.core.scanning.scanner import usable_cores

MIN_TEXTURE = 2.5 * LOW_DETAIL_TEXTURE
"""Below this texture (Signals.texture) an image is never matched by the descriptor.
eval_deep.py: smooth distractors (blurred blobs, gradients) reach 1.9 (95th percentile;
3.0 at most), photos and their hard copies start at 3.4."""
MIN_CONTAINED = 0.93
"""Share of the smaller picture's footprint that must lie inside the larger one."""
CROP_AREA = 0.9
"""A contained picture covering less than this share of the other is a crop."""
TURNED_DEGREES = 2.0
MIN_ALIGNED_CORRELATION = 0.75
"""Luminance layout correlation of the aligned pair (16x16, see TRIMMED_SHARE)."""
TRIMMED_SHARE = 0.25
"""Share of the cells that disagree most left out of the aligned comparison: a sticker or
a watermark changes a quarter of the picture at most; another palette changes it all."""
MAX_GRADE_RESIDUAL = 12.0
"""RMS (0-255) left after one global colour mapping (3x3 + offset) of the aligned pair
(the TRIMMED_SHARE worst pixels left out)."""

VERIFY_CHUNK = 1024
"""Candidate pairs verified at a time (in parallel, best cosine first)."""

ThumbnailSource = Callable[[ImageRecord], Image.Image | None]
Progress = Callable[[int, int], None]


def find_links(
    records: Sequence[ImageRecord],
    signals: Signals,
    descriptors: DescriptorSet,
    thumbnails: ThumbnailSource,
    *,
    connected: np.ndarray | None = None,
    min_cosine: float = LOOSEST_COSINE,
    cancel: CancelToken | None = None,
    progress: Progress | None = None,
) -> DeepLinks:
    """Every verified deep link among `records` at cosine >= min_cosine. `connected`: a
    label per record, equal for records the hashes already link (directly or through
    others): pairs within one are not checked (the hashes group them)."""
    matrix, present = descriptors.matrix(records)
    present &= signals.texture >= MIN_TEXTURE
    first, second, cosine = candidate_pairs(matrix, min_cosine, present=present, cancel=cancel)
    if connected is not None and len(first):
        fresh = connected[first] != connected[second]
        first, second, cosine = first[fresh], second[fresh], cosine[fresh]
    verifier = PairVerifier(thumbnails)
    links: dict[tuple[str, str], DeepLink] = {}
    order = np.argsort(-cosine, kind="stable").tolist()

    def check(k: int) -> tuple[ImageRecord, ImageRecord, DeepLink | None]:
        a, b = records[int(first[k])], records[int(second[k])]
        return a, b, verifier.verify(a, b, float(cosine[k]))

    # OpenCV releases the GIL: the keypoint work of several pairs runs at once.
    with ThreadPoolExecutor(max_workers=usable_cores(), thread_name_prefix="dedup-verify") as pool:
        for start in range(0, len(order), VERIFY_CHUNK):
            if cancel is not None and cancel.cancelled:
                raise SearchCancelled
            for a, b, link in pool.map(check, order[start : start + VERIFY_CHUNK]):
                if link is not None:
                    links[(a.path, b.path) if a.path <= b.path else (b.path, a.path)] = link
            if progress is not None:
                progress(min(start + VERIFY_CHUNK, len(order)), len(order))
    return DeepLinks(links, descriptors.model, candidates=len(order))


class PairVerifier:
    """Checks pairs one at a time, extracting each thumbnail's keypoints once."""

    def __init__(self, thumbnails: ThumbnailSource) -> None:
        self._thumbnails = thumbnails
        self._images: dict[str, np.ndarray | None] = {}
        self._images_lock = threading.Lock()
        self._features = geometry.FeatureCache()

    def verify(self, a: ImageRecord, b: ImageRecord, cosine: float) -> DeepLink | None:
        a_features = self._features.get(a.path, lambda: self._grey(a))
        b_features = self._features.get(b.path, lambda: self._grey(b))
        if a_features is None or b_features is None:
            return None
        alignment = geometry.align(a_features, b_features)
        if alignment is None:  # RANSAC from the other side may find the few inliers
            backwards_fit = geometry.align(b_features, a_features)
            alignment = None if backwards_fit is None else geometry.inverse(backwards_fit)
        if alignment is None:
            mirrored = self._features.get(a.path, lambda: self._grey(a), mirrored=True)
            if mirrored is not None:
                alignment = geometry.fit(mirrored, b_features, mirrored=True)
        if alignment is None:
            return None
        # Which picture lies inside the other: that one is the "contained" side.
        a_in_b = _inside_share(geometry.footprint(alignment, a_features.size), b_features.size)
        backwards = geometry.inverse(alignment)
        b_in_a = _inside_share(geometry.footprint(backwards, b_features.size), a_features.size)
        if max(a_in_b, b_in_a) < MIN_CONTAINED:
            return None
        if a_in_b >= b_in_a:
            small, large, to_large = a, b, alignment
        else:
            small, large, to_large = b, a, backwards
        small_size = a_features.size if small is a else b_features.size
        large_size = b_features.size if small is a else a_features.size
        corners = geometry.footprint(to_large, small_size)
        if not self._colours_agree(small, large, to_large, small_size):
            return None
        area = _polygon_area(corners) / float(large_size[0] * large_size[1])
        turned = alignment.mirrored or abs(alignment.rotation_degrees) > TURNED_DEGREES
        kind = "turned" if turned else "crop" if area < CROP_AREA else "edited"
        normalised = corners / np.array(large_size, np.float64)
        region = tuple(float(v) for v in np.clip(normalised, 0.0, 1.0).ravel())
        return DeepLink(kind, cosine, region, large.path)

    def _rgb(self, record: ImageRecord) -> np.ndarray | None:
        with self._images_lock:
            if record.path in self._images:
                return self._images[record.path]
        image = self._thumbnails(record)
        rgb = None if image is None else np.asarray(image.convert("RGB"), np.uint8)
        with self._images_lock:
            self._images[record.path] = rgb
            if len(self._images) > 4096:
                self._images.pop(next(iter(self._images)))
        return rgb

    def _grey(self, record: ImageRecord) -> np.ndarray | None:
        rgb = self._rgb(record)
        if rgb is None:
            return None
        weights = np.array([0.299, 0.587, 0.114], np.float32)
        return np.clip(rgb.astype(np.float32) @ weights + 0.5, 0, 255).astype(np.uint8)

    def _colours_agree(
        self, small: ImageRecord, large: ImageRecord, to_large: geometry.Alignment,
        small_size: tuple[int, int],
    ) -> bool:
        import cv2

        small_rgb, large_rgb = self._rgb(small), self._rgb(large)
        if small_rgb is None or large_rgb is None:
            return False
        # The large image's part under the small one, in the small one's frame.
        warped = cv2.warpAffine(
            large_rgb, to_large.matrix, small_size,
            flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE,
        )
        pair = [_as_record(small_rgb), _as_record(warped)]
        signals = Signals.from_records(pair)
        zero, one = np.zeros(1, np.int64), np.ones(1, np.int64)
        evidence = evaluate_pairs(signals, zero, signals, one)
        if _trimmed_correlation(pair[0].micro, pair[1].micro) < MIN_ALIGNED_CORRELATION:
            return False
        if float(evidence.chroma_difference[0]) <= MAX_CHROMA_DIFFERENCE:
            return True
        return _grade_residual(small_rgb, warped) <= MAX_GRADE_RESIDUAL


def _as_record(rgb: np.ndarray) -> ImageRecord:
    signatures = compute_signatures(Image.fromarray(rgb))
    return ImageRecord(
        path="", size=0, mtime_ns=0, width=rgb.shape[1], height=rgb.shape[0], format="",
        capture_time=None, dhash=signatures.dhash, phash=signatures.phash,
        phash_dihedral=signatures.phash_dihedral, micro=signatures.micro,
    )


def _trimmed_correlation(micro_a: bytes, micro_b: bytes) -> float:
    """Luminance correlation of two micro thumbnails (16x16) without the TRIMMED_SHARE
    of cells that disagree most."""
    weights = np.array([0.299, 0.587, 0.114], np.float32)
    lumas = [np.frombuffer(m, np.uint8).reshape(-1, 3).astype(np.float32) @ weights
             for m in (micro_a, micro_b)]
    za, zb = ((v - v.mean()) / max(float(v.std()), 1e-6) for v in lumas)
    kept = np.argsort(np.abs(za - zb))[: round(len(za) * (1 - TRIMMED_SHARE))]
    a, b = za[kept] - za[kept].mean(), zb[kept] - zb[kept].mean()
    return float((a * b).sum() / max(float(np.sqrt((a * a).sum() * (b * b).sum())), 1e-6))


def _grade_residual(source: np.ndarray, target: np.ndarray) -> float:
    """RMS of `target` after the best single colour mapping (3x3 + offset) from `source`,
    on 32x32 versions: a grade leaves little, different colours per region leave a lot."""
    import cv2

    small = cv2.resize(source, (32, 32), interpolation=cv2.INTER_AREA).reshape(-1, 3)
    other = cv2.resize(target, (32, 32), interpolation=cv2.INTER_AREA).reshape(-1, 3)
    design = np.hstack([small.astype(np.float64), np.ones((len(small), 1))])
    mapping, *_ = np.linalg.lstsq(design, other.astype(np.float64), rcond=None)
    error = ((other - design @ mapping) ** 2).sum(axis=1)
    kept = np.sort(error)[: round(len(error) * (1 - TRIMMED_SHARE))]
    return float(np.sqrt(kept.mean() / 3))


def _inside_share(corners: np.ndarray, size: tuple[int, int]) -> float:
    """Share of the quadrilateral `corners` that lies inside [0, w] x [0, h]."""
    import cv2

    area = _polygon_area(corners)
    if area <= 0:
        return 0.0
    width, height = size
    frame = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    overlap, _ = cv2.intersectConvexConvex(corners.astype(np.float32), frame)
    return float(overlap) / area


def _polygon_area(corners: np.ndarray) -> float:
    x, y = corners[:, 0], corners[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


class DeepSearch:
    """What the similarity index needs to add deep links: the scan's descriptors and where
    the review thumbnails come from (the cache, else a reduced decode)."""

    def __init__(
        self,
        descriptors: DescriptorSet,
        thumbnails: ThumbnailSource,
        *,
        min_cosine: float = LOOSEST_COSINE,
    ) -> None:
        self.descriptors = descriptors
        self.thumbnails = thumbnails
        self.min_cosine = min_cosine

    def links(
        self,
        records: Sequence[ImageRecord],
        signals: Signals,
        connected: np.ndarray,
        cancel: CancelToken | None = None,
        progress: Progress | None = None,
    ) -> DeepLinks:
        """Verified links; `progress(done, total)` counts the candidate pairs checked."""
        return find_links(
            records, signals, self.descriptors, self.thumbnails, connected=connected,
            min_cosine=self.min_cosine, cancel=cancel, progress=progress,
        )
