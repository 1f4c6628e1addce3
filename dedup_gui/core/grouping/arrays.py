"""np.unique and np.median of small integer and float arrays, by one sort.

Not numpy's own: from numpy 2.3 the first plain np.unique or np.median call imports
numpy.ma (12 ms, a twentieth of a warm `dedup-cli scan` of 100 photos), and np.unique's
hash table is 30x slower than a sort on the integer ids grouping passes it (2M ids:
930 ms against 32 ms). Same values as numpy's for finite input (NaNs not collapsed).
"""

from __future__ import annotations

import numpy as np


def distinct(values: np.ndarray) -> np.ndarray:
    """np.unique(values): the distinct values, ascending, in its dtype."""
    ordered = np.sort(np.ravel(values))
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def median_of_sorted(ordered: np.ndarray) -> np.ndarray:
    """np.median along the last axis of values sorted along it: the middle one, or the
    mean of the two middle ones (the same arithmetic as np.median)."""
    middle = ordered.shape[-1] // 2
    if ordered.shape[-1] % 2:
        return ordered[..., middle]
    return (ordered[..., middle - 1] + ordered[..., middle]) / 2
