"""The user-facing similarity scale (percent) and its mapping to Hamming distances.

Similarity is linear in the Hamming distance of a hash: ``100 * (1 - distance / bits)``,
so the same percentage means the same fraction of differing bits whatever the hash length.
100% is distance 0 on every signature (the same pixels, or the same bytes).

MIN_SIMILARITY is the loosest setting the slider offers; the candidate search is run once
down to it, so every slider position only re-filters cached pairs. Its distance (8 of 64
bits) is also the largest radius for which the exact candidate search stays within the
time and memory budget at a million images (see candidates.py).
"""

from __future__ import annotations

import math

from dedup_gui.core.models import HASH_BITS

MIN_SIMILARITY = 87
"""Loosest slider setting: 8 differing bits of 64."""

DEFAULT_SIMILARITY = 90
"""Default setting: 6 differing bits of 64, chosen with benchmarks/eval_accuracy.py."""

STRICT_SIMILARITY = 95
"""3 differing bits of 64: re-encodes and resizes, not edits."""

NAMED_STEPS: dict[str, int] = {
    "identical": 100,
    "strict": STRICT_SIMILARITY,
    "default": DEFAULT_SIMILARITY,
    "loose": MIN_SIMILARITY,
}
"""Named slider stops, each with the percentage behind it."""


def similarity_to_distance(percent: float, bits: int = HASH_BITS) -> int:
    """The largest Hamming distance of `bits`-bit hashes still counted `percent` similar."""
    clamped = min(max(float(percent), 0.0), 100.0)
    # The epsilon keeps exact decimal settings (e.g. 87.5% of 64 bits = 8) from rounding down.
    return math.floor((100.0 - clamped) * bits / 100.0 + 1e-9)


def distance_to_similarity(distance: int, bits: int = HASH_BITS) -> float:
    """Similarity in percent of two `bits`-bit hashes that differ in `distance` bits."""
    clamped = min(max(distance, 0), bits)
    return 100.0 * (1.0 - clamped / bits)
