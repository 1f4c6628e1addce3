"""Everything the review needs of one grouping, made in one go off the GUI thread: the
groups in review order (most space freed first), the members' mark arrays and the flat
columns for sorting, filtering and rule chains."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dedup_gui.core.decisions.apply_rules import ReviewColumns
from dedup_gui.core.decisions.marks import MemberArrays
from dedup_gui.core.models import DuplicateGroup


@dataclass(frozen=True, eq=False)
class ReviewData:
    groups: list[DuplicateGroup]
    """In review order: the most reclaimable space first (ties keep the core's order)."""
    arrays: MemberArrays
    columns: ReviewColumns | None = None
    """None when not built yet (built on first use, or by a background task)."""


def prepare_review(groups: Sequence[DuplicateGroup], *, with_columns: bool) -> ReviewData:
    ordered = list(groups)
    arrays = MemberArrays.of(ordered)
    if len(ordered) > 1:
        freed = np.add.reduceat(np.where(arrays.suggested, 0, arrays.size), arrays.starts[:-1])
        if np.any(np.diff(freed) > 0):  # not the core's usual order already
            order = np.argsort(-freed, kind="stable")
            ordered = [ordered[i] for i in order.tolist()]
            arrays = MemberArrays.of(ordered)
    return ReviewData(ordered, arrays, ReviewColumns.of(ordered) if with_columns else None)
