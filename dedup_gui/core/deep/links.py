"""Verified deep links as the similarity index takes them (numpy only).

A link joins the index's pairs at an effective distance on the slider's scale, from its
cosine: LOOSEST_COSINE maps to the default setting's distance and 1.0 to 1, so the
default shows every verified deep match (the verification, not the cosine, keeps the
precision: benchmarks/eval_deep.py), stricter settings only the closer ones, and the
slider stays a cut of pairs found once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from dedup_gui.core.grouping.similarity import (
    DEFAULT_SIMILARITY,
    MIN_SIMILARITY,
    similarity_to_distance,
)
from dedup_gui.core.models import DeepMatch, ImageRecord

LOOSEST_COSINE = 0.45
"""Candidates are verified down to this cosine (benchmarks/eval_deep.py: verification
keeps precision there, and the crops and turns it adds need it)."""


def cosine_to_distance(cosine: float) -> int:
    """Effective distance (pHash bits, 1..the default's) of a deep link at `cosine`."""
    default = similarity_to_distance(DEFAULT_SIMILARITY)
    share = (1.0 - cosine) / (1.0 - LOOSEST_COSINE)
    return int(min(max(math.ceil(share * default - 1e-9), 1), default))


@dataclass(frozen=True, slots=True)
class DeepLink:
    kind: str
    """"crop", "turned" or "edited"."""
    cosine: float
    region: tuple[float, ...]
    """Corners of the contained picture in `container` (see models.DeepMatch.region)."""
    container: str
    """Path of the image the region lies in (the larger, uncropped one)."""

    @property
    def distance(self) -> int:
        return cosine_to_distance(self.cosine)

    @property
    def similarity(self) -> float:
        """What the user is shown: the cosine in percent (never 100)."""
        return round(min(99.0, 100.0 * self.cosine), 1)

    def as_match(self, keeper_path: str) -> DeepMatch:
        return DeepMatch(self.kind, self.region, region_in_keeper=self.container == keeper_path)


@dataclass(frozen=True, slots=True)
class DeepLinks:
    """Verified deep links by (path, path), the smaller path first: paths, not rows, so an
    index without some records keeps them as they are."""

    by_pair: dict[tuple[str, str], DeepLink] = field(default_factory=dict)
    model: str = ""
    candidates: int = 0
    """Candidate pairs the descriptor gave (before verification), for reports."""

    def __len__(self) -> int:
        return len(self.by_pair)

    def get(self, a: str, b: str) -> DeepLink | None:
        return self.by_pair.get((a, b) if a <= b else (b, a))

    def pair_rows(
        self, records: Sequence[ImageRecord]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(first, second, pHash distance, effective distance) rows for the index; the
        pHash distance of a deep link is the loosest (the hashes did not find it)."""
        row = {record.path: k for k, record in enumerate(records)}
        found = [
            (row[a], row[b], link.distance)
            for (a, b), link in self.by_pair.items()
            if a in row and b in row
        ]
        first = np.array([min(f[0], f[1]) for f in found], np.int64)
        second = np.array([max(f[0], f[1]) for f in found], np.int64)
        effective = np.array([f[2] for f in found], np.uint8)
        loosest = similarity_to_distance(MIN_SIMILARITY)
        return first, second, np.full(len(found), loosest, np.uint8), effective
