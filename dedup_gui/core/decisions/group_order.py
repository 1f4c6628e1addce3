"""Sorting and filtering the duplicate groups for review (Qt-free; vectorised, so 30,000
groups sort or filter in well under 100 ms — benchmarks/bench_review.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np

from dedup_gui.core.models import DuplicateGroup, GroupMember, MatchKind


class GroupSort(str, Enum):
    SPACE_SAVED = "space-saved"
    """Most space freed first (with the current marks)."""
    COPIES = "copies"
    """Most copies first."""
    SIMILARITY = "similarity"
    """Least alike first: the groups most worth a careful look."""
    FOLDER = "folder"
    """By the keeper's folder, then name."""
    DATE = "date"
    """Newest capture date (else modification time) first."""


class GroupKind(str, Enum):
    ANY = "any"
    EXACT = "exact"
    """Every copy is byte-identical to the keeper."""
    VISUAL = "visual"
    """At least one copy only looks the same."""


@dataclass(frozen=True, slots=True)
class GroupFilter:
    folder: str | None = None
    """Only groups with a copy inside this folder (at any depth)."""
    kind: GroupKind = GroupKind.ANY
    min_similarity: float = 0.0
    max_similarity: float = 100.0
    """The group's least similar copy lies in this range."""
    only_unreviewed: bool = False

    @property
    def is_everything(self) -> bool:
        return self == GroupFilter()


KeptTest = Callable[[GroupMember], bool]


def ordered_rows(
    groups: Sequence[DuplicateGroup],
    sort: GroupSort = GroupSort.SPACE_SAVED,
    keep_filter: GroupFilter | None = None,
    *,
    is_kept: KeptTest | None = None,
    reviewed: Collection[int] = (),
) -> list[int]:
    """Positions into `groups` to show, in order."""
    count = len(groups)
    if not count:
        return []
    kept = is_kept if is_kept is not None else (lambda member: member.keep)
    shown = np.ones(count, dtype=bool)
    group_filter = keep_filter or GroupFilter()
    if not group_filter.is_everything:
        shown = _filter(groups, group_filter, reviewed)
    rows = np.flatnonzero(shown)
    if not len(rows):
        return []
    chosen = [groups[row] for row in rows.tolist()]
    keys = _sort_keys(chosen, sort, kept)
    order = np.lexsort((*keys[::-1],)) if keys else np.arange(len(rows))
    return rows[order].tolist()


def _filter(
    groups: Sequence[DuplicateGroup], group_filter: GroupFilter, reviewed: Collection[int]
) -> np.ndarray:
    shown = np.ones(len(groups), dtype=bool)
    if group_filter.only_unreviewed and reviewed:
        shown[np.fromiter(reviewed, np.int64, len(reviewed))] = False
    if group_filter.kind is not GroupKind.ANY:
        exact = np.fromiter((g.kind is MatchKind.EXACT for g in groups), bool, len(groups))
        shown &= exact if group_filter.kind is GroupKind.EXACT else ~exact
    if group_filter.min_similarity > 0 or group_filter.max_similarity < 100:
        lowest = _lowest_similarity(groups)
        shown &= (lowest >= group_filter.min_similarity) & (
            lowest <= group_filter.max_similarity
        )
    if group_filter.folder:
        prefix = os.path.join(os.path.normpath(group_filter.folder), "")  # noqa: PTH118
        shown &= np.fromiter(
            (any(m.record.path.startswith(prefix) for m in g.members) for g in groups),
            bool, len(groups),
        )
    return shown


def _sort_keys(
    groups: Sequence[DuplicateGroup], sort: GroupSort, kept: KeptTest
) -> list[np.ndarray]:
    """Keys, most significant first; every sort ends on the keeper's path (stable order)."""
    keeper_paths = [g.keeper.record.path for g in groups]
    path_rank = np.unique(np.array(keeper_paths, dtype=object), return_inverse=True)[1]
    if sort is GroupSort.SPACE_SAVED:
        freed = np.fromiter(
            (sum(m.record.size for m in g.members if not kept(m)) for g in groups),
            np.int64, len(groups),
        )
        return [-freed, path_rank]
    if sort is GroupSort.COPIES:
        copies = np.fromiter((len(g.members) for g in groups), np.int64, len(groups))
        return [-copies, path_rank]
    if sort is GroupSort.SIMILARITY:
        return [_lowest_similarity(groups), path_rank]
    if sort is GroupSort.FOLDER:
        return [path_rank]
    dates = np.array(
        [g.keeper.record.capture_time or _mtime_text(g.keeper.record.mtime_ns) for g in groups],
        dtype=object,
    )
    date_rank = np.unique(dates, return_inverse=True)[1]
    return [-date_rank, path_rank]


def _lowest_similarity(groups: Sequence[DuplicateGroup]) -> np.ndarray:
    return np.fromiter(
        (min(m.similarity for m in g.members) for g in groups), np.float64, len(groups)
    )


def _mtime_text(mtime_ns: int) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(mtime_ns / 1e9))
