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
from typing import TYPE_CHECKING

from dedup_gui.core.models import HASH_BITS, MICRO_SIDE

if TYPE_CHECKING:  # imported where used: the CLI's parser reads the settings above numpy
    import numpy as np

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


def thumbnail_similarities(
    keeper_micro: bytes, micros: list[bytes], *, any_turn: bool = False
) -> np.ndarray:
    """What the user is shown, for each of `micros` against the keeper's: 100% minus the
    RMS difference of the 16x16 colour thumbnails as a share of full scale (a grey copy of
    a colour photo, a caption or a brightened copy lands visibly lower; a re-encode stays
    near 100). With `any_turn`, the best of the 8 turns and mirrors (turned matches)."""
    import numpy as np

    expected = MICRO_SIDE * MICRO_SIDE * 3
    valid = np.array([len(m) == expected for m in micros], dtype=bool)
    if len(keeper_micro) != expected or not valid.any():
        return np.zeros(len(micros))
    shape = (MICRO_SIDE, MICRO_SIDE, 3)
    keeper = np.frombuffer(keeper_micro, np.uint8).reshape(shape).astype(np.float32)
    blob = b"".join(m if len(m) == expected else bytes(expected) for m in micros)
    others = np.frombuffer(blob, np.uint8).reshape(len(micros), *shape).astype(np.float32)
    turns = [others]
    if any_turn:
        mirrored = others[:, :, ::-1]
        turns = [np.rot90(others, k, axes=(1, 2)) for k in range(4)]
        turns += [np.rot90(mirrored, k, axes=(1, 2)) for k in range(4)]
    rms = np.min(
        [np.sqrt(((turned - keeper) ** 2).mean(axis=(1, 2, 3))) for turned in turns], axis=0
    )
    return np.where(valid, np.maximum(0.0, 100.0 * (1.0 - rms / 255.0)), 0.0)


_PAIRED_CHUNK = 512


def paired_thumbnail_similarities(
    keeper_micros: list[bytes], micros: list[bytes], *, any_turn: bool = False
) -> np.ndarray:
    """`thumbnail_similarities` of each of `micros` against its own keeper
    (`keeper_micros[k]`), for many groups in one pass; the same values."""
    import numpy as np

    if len(micros) > _PAIRED_CHUNK:
        # In chunks that stay in the CPU cache: one pass over 100k thumbnails is slower.
        return np.concatenate([
            paired_thumbnail_similarities(
                keeper_micros[at : at + _PAIRED_CHUNK], micros[at : at + _PAIRED_CHUNK],
                any_turn=any_turn,
            )
            for at in range(0, len(micros), _PAIRED_CHUNK)
        ])
    expected = MICRO_SIDE * MICRO_SIDE * 3
    if not micros:
        return np.zeros(0)
    valid = np.array(
        [len(m) == expected and len(k) == expected for m, k in zip(micros, keeper_micros,
                                                                     strict=True)],
        dtype=bool,
    )
    shape = (MICRO_SIDE, MICRO_SIDE, 3)

    def stacked(blobs: list[bytes]) -> np.ndarray:
        blob = b"".join(m if len(m) == expected else bytes(expected) for m in blobs)
        return np.frombuffer(blob, np.uint8).reshape(len(blobs), *shape).astype(np.float32)

    keepers, others = stacked(keeper_micros), stacked(micros)
    turns = [others]
    if any_turn:
        mirrored = others[:, :, ::-1]
        turns = [np.rot90(others, k, axes=(1, 2)) for k in range(4)]
        turns += [np.rot90(mirrored, k, axes=(1, 2)) for k in range(4)]
    rms = np.min(
        [np.sqrt(((turned - keepers) ** 2).mean(axis=(1, 2, 3))) for turned in turns], axis=0
    )
    return np.where(valid, np.maximum(0.0, 100.0 * (1.0 - rms / 255.0)), 0.0)


def shown_similarity(hash_similarity: float, finer: float) -> float:
    """The similarity shown for a copy that is not the same pixels as the keeper: the
    finer thumbnail measure, never above the hashes' nor SAME_PICTURE_CAP."""
    return min(hash_similarity, finer, SAME_PICTURE_CAP)
