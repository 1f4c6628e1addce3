"""Where one picture lies in another: SIFT keypoints on the two review thumbnails, ratio-
tested matches and a RANSAC affine fit (6 degrees of freedom: a crop, a turn, a squash,
a scale; no perspective, which random matches between different pictures fit too easily).
A mirrored copy is tried once more with one side mirrored.

SIFT rather than ORB (both on the doubled thumbnail, 500 features, eval_deep.py's 256
original ~ hard-copy pairs and 300 negative candidates): SIFT confirmed 236 and accepted
2 negatives, ORB 227 and 1, 4x faster; the recall won. SIFT at its default contrast
threshold found 22-71 keypoints on the generated test photos and failed half their crops
and turns; at CONTRAST 94-277, and all passed. ~25 ms an image, extracted once per
image. A lower threshold still, for images with few keypoints (a colour chart, a blurred
shot), and a template-matching fallback were tried in eval_deep.py and dropped: neither
found those copies, and the template fallback matched tiles of text pages and
silhouettes (precision 0.98).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np

MIN_INLIERS = 10
MIN_INLIER_SHARE = 0.25
"""Of the ratio-tested matches."""
RATIO = 0.8
RANSAC_PIXELS = 4.0
MIN_SCALE, MAX_SCALE = 0.2, 5.0
MAX_ANISOTROPY = 1.6
"""Largest ratio of the two axis scales: a squash, not a smear."""
DETECTOR_FEATURES = 500
CONTRAST = 0.01
"""SIFT contrast threshold (default 0.04): a thumbnail has little contrast to spare."""
UPSCALE = 2
"""Thumbnails are doubled before detection: SIFT finds 3-4x the keypoints on 256 px."""


@dataclass(frozen=True, slots=True)
class Features:
    points: np.ndarray
    """float32 (k, 2) keypoint positions in thumbnail pixels."""
    descriptors: np.ndarray | None
    size: tuple[int, int]
    """(width, height) of the thumbnail."""


@dataclass(frozen=True, slots=True)
class Alignment:
    matrix: np.ndarray
    """2x3 affine from the first thumbnail's pixels to the second's."""
    inliers: int
    share: float
    mirrored: bool
    """The first image was mirrored left-right before `matrix` applies."""

    @property
    def rotation_degrees(self) -> float:
        return math.degrees(math.atan2(self.matrix[1, 0], self.matrix[0, 0]))


def features(grey: np.ndarray) -> Features:
    """SIFT features of a uint8 grey thumbnail."""
    import cv2

    height, width = grey.shape
    enlarged = cv2.resize(grey, (width * UPSCALE, height * UPSCALE),
                          interpolation=cv2.INTER_LINEAR)
    detector = cv2.SIFT_create(nfeatures=DETECTOR_FEATURES, contrastThreshold=CONTRAST)
    keypoints, descriptors = detector.detectAndCompute(enlarged, None)
    points = np.array([k.pt for k in keypoints], np.float32).reshape(-1, 2) / UPSCALE
    return Features(points, descriptors, (width, height))


def align(first: Features, second: Features, first_mirrored: Features | None = None
          ) -> Alignment | None:
    """The affine that maps `first` onto `second`, or None when the keypoints do not
    agree on one. `first_mirrored`: features of the mirrored first image, tried next."""
    found = fit(first, second, mirrored=False)
    if found is None and first_mirrored is not None:
        found = fit(first_mirrored, second, mirrored=True)
    return found


def fit(first: Features, second: Features, *, mirrored: bool) -> Alignment | None:
    import cv2

    if (
        first.descriptors is None or second.descriptors is None
        or len(first.points) < MIN_INLIERS or len(second.points) < MIN_INLIERS
    ):
        return None
    matcher = cv2.BFMatcher(cv2.NORM_L2)
    pairs = matcher.knnMatch(first.descriptors, second.descriptors, k=2)
    good = [
        best for best, *rest in (p for p in pairs if p)
        if not rest or best.distance < RATIO * rest[0].distance
    ]
    if len(good) < MIN_INLIERS:
        return None
    source = first.points[[m.queryIdx for m in good]]
    target = second.points[[m.trainIdx for m in good]]
    matrix, inlier_mask = cv2.estimateAffine2D(
        source, target, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_PIXELS,
        maxIters=2000, confidence=0.995,
    )
    if matrix is None or inlier_mask is None:
        return None
    inliers = int(inlier_mask.sum())
    share = inliers / len(good)
    if inliers < MIN_INLIERS or share < MIN_INLIER_SHARE or not _plausible(matrix):
        return None
    if mirrored:  # express in the unmirrored first image's pixels: x -> (w - 1) - x
        flip = np.array([[-1.0, 0.0, first.size[0] - 1.0], [0.0, 1.0, 0.0], [0, 0, 1]])
        matrix = (np.vstack([matrix, [0, 0, 1]]) @ flip)[:2]
    return Alignment(matrix.astype(np.float64), inliers, share, mirrored)


def _plausible(matrix: np.ndarray) -> bool:
    linear = matrix[:, :2]
    singular = np.linalg.svd(linear, compute_uv=False)
    if singular[1] <= 0:
        return False
    if np.linalg.det(linear) <= 0:  # a reflection (the mirrored try handles those)
        return False
    return bool(
        singular[1] >= MIN_SCALE and singular[0] <= MAX_SCALE
        and singular[0] / singular[1] <= MAX_ANISOTROPY
    )


def footprint(alignment: Alignment, first_size: tuple[int, int]) -> np.ndarray:
    """The first thumbnail's corners (4, 2) in the second's pixels, clockwise from the
    top-left (of the unmirrored first image)."""
    width, height = first_size
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64)
    return corners @ alignment.matrix[:, :2].T + alignment.matrix[:, 2]


def inverse(alignment: Alignment) -> Alignment:
    full = np.linalg.inv(np.vstack([alignment.matrix, [0, 0, 1]]))
    return Alignment(full[:2], alignment.inliers, alignment.share, alignment.mirrored)


class FeatureCache:
    """Features per image (and of its mirror image, when first asked for), extracted once
    per index build; an LRU of `capacity` images."""

    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._items: OrderedDict[Hashable, list[object]] = OrderedDict()
        self._lock = threading.Lock()
        """Guards the dict only: extraction runs outside it, on several threads at once."""

    def get(
        self, key: Hashable, load: Callable[[], np.ndarray | None], *, mirrored: bool = False
    ) -> Features | None:
        """Features of the grey thumbnail `load` gives (mirrored left-right if asked).
        Safe to call from several threads (an image may then be extracted twice)."""
        with self._lock:
            entry = self._items.get(key)
            if entry is not None:
                self._items.move_to_end(key)
        if entry is None:
            grey = load()
            entry = [grey, None if grey is None else features(grey), None]
            with self._lock:
                self._items[key] = entry
                if len(self._items) > self._capacity:
                    self._items.popitem(last=False)
        grey = entry[0]
        if not isinstance(grey, np.ndarray):
            return None
        if mirrored and entry[2] is None:
            entry[2] = features(np.ascontiguousarray(grey[:, ::-1]))
        found = entry[2] if mirrored else entry[1]
        assert found is None or isinstance(found, Features)
        return found
