"""The user-facing similarity scale (percent) and its mapping to Hamming distances.

The slider's similarity is linear in the Hamming distance of a hash: ``100 * (1 - distance
/ bits)``, so the same percentage means the same fraction of differing bits whatever the hash
length. The similarity *shown* for a group member (`shown_similarity`) is finer: it is also
capped by the difference of the 16x16 colour thumbnails, and 100% only for the same pixels
or the same bytes; a caption, a watermark or a grey copy, which leave the hashes alone,
show visibly less.

MIN_SIMILARITY is the loosest setting the slider offers; the candidate search is run once
down to it, so every slider position only re-filters cached pairs. Its distance (8 of 64
bits) is also the largest radius for which the exact candidate search stays within the
time and memory budget at a million images (see candidates.py).
"""

from __future__ import annotations

import math

import numpy as np

from dedup_gui.core.models import HASH_BITS, MICRO_SIDE

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


SAME_PICTURE_CAP = 99.0
"""The most a copy with other pixels than the keeper is shown as: 100% is kept for the
same pixels (or the same bytes), so a caption or re-encode never reads "100%"."""


def thumbnail_similarity(micro_a: bytes, micro_b: bytes, *, any_turn: bool = False) -> float:
    """What the user is shown: 100% minus the RMS difference of the two 16x16 colour
    thumbnails as a share of full scale (a grey copy of a colour photo, a caption or a
    brightened copy lands visibly lower; a re-encode stays near 100). With `any_turn`,
    the best of the 8 turns and mirrors of `micro_b` (matches of turned copies)."""
    expected = MICRO_SIDE * MICRO_SIDE * 3
    if len(micro_a) != expected or len(micro_b) != expected:
        return 0.0
    a = np.frombuffer(micro_a, np.uint8).reshape(MICRO_SIDE, MICRO_SIDE, 3).astype(np.float32)
    b = np.frombuffer(micro_b, np.uint8).reshape(MICRO_SIDE, MICRO_SIDE, 3).astype(np.float32)
    turns = [b]
    if any_turn:
        mirrored = b[:, ::-1]
        turns = [np.rot90(b, k) for k in range(4)] + [np.rot90(mirrored, k) for k in range(4)]
    rms = min(float(np.sqrt(np.mean((a - t) ** 2))) for t in turns)
    return max(0.0, 100.0 * (1.0 - rms / 255.0))


def shown_similarity(
    hash_similarity: float, micro_a: bytes, micro_b: bytes, *, any_turn: bool
) -> float:
    """The similarity shown for a copy that is not the same pixels as the keeper."""
    finer = thumbnail_similarity(micro_a, micro_b, any_turn=any_turn)
    return min(hash_similarity, finer, SAME_PICTURE_CAP)
