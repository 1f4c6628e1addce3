"""Descriptors of a set of records: one float16 row per path (numpy only)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from dedup_gui.core.models import ImageRecord


@dataclass(frozen=True, slots=True)
class DescriptorSet:
    """Unit descriptors by path (float16, D wide), and the model that made them."""

    vectors: Mapping[str, np.ndarray]
    model: str = ""

    def __len__(self) -> int:
        return len(self.vectors)

    def matrix(self, records: Sequence[ImageRecord]) -> tuple[np.ndarray, np.ndarray]:
        """(float16 (n, D) rows in `records` order, bool (n,) which rows have one); a
        record without a descriptor has a zero row (similar to nothing)."""
        dimensions = next((len(v) for v in self.vectors.values()), 0)
        out = np.zeros((len(records), dimensions), np.float16)
        present = np.zeros(len(records), bool)
        for row, record in enumerate(records):
            vector = self.vectors.get(record.path)
            if vector is not None and len(vector) == dimensions:
                out[row] = vector
                present[row] = True
        return out, present
