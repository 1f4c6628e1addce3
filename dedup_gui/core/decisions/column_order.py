"""`group_order.ordered_rows` over `ReviewColumns`: the same order and filters from flat
arrays, with no Python loop over the groups (30,000 groups in milliseconds; the date sort,
which compares formatted times, is left to `ordered_rows`)."""

from __future__ import annotations

import os
from collections.abc import Collection

import numpy as np

from dedup_gui.core.decisions.apply_rules import ReviewColumns
from dedup_gui.core.decisions.group_order import GroupFilter, GroupKind, GroupSort, ordered_rows


def ordered_positions(
    columns: ReviewColumns,
    sort: GroupSort,
    group_filter: GroupFilter,
    keeps: np.ndarray,
    reviewed: Collection[int] = (),
) -> list[int]:
    """As `ordered_rows(columns.groups, sort, group_filter, ...)`; `keeps` is every
    member's current mark (kept or not)."""
    count = len(columns.groups)
    if not count:
        return []
    if sort is GroupSort.DATE:
        flat_keeps = keeps.tolist()
        members = [m for g in columns.groups for m in g.members]
        kept = {id(m): k for m, k in zip(members, flat_keeps, strict=True)}
        return ordered_rows(columns.groups, sort, group_filter,
                            is_kept=lambda m: kept[id(m)], reviewed=reviewed)
    firsts = columns.starts[:-1]
    shown = np.ones(count, bool) if group_filter.is_everything else _filter(
        columns, group_filter, reviewed)
    keeper_rank = columns.path_rank[firsts]
    if sort is GroupSort.SPACE_SAVED:
        freed = np.add.reduceat(np.where(keeps, 0, columns.size), firsts)
        keys: tuple[np.ndarray, ...] = (keeper_rank, -freed)
    elif sort is GroupSort.COPIES:
        keys = (keeper_rank, -np.diff(columns.starts))
    elif sort is GroupSort.SIMILARITY:
        keys = (keeper_rank, _lowest_similarity(columns))
    else:
        keys = (keeper_rank,)
    rows = np.flatnonzero(shown)
    order = np.lexsort(tuple(key[rows] for key in keys))
    return rows[order].tolist()


def _filter(
    columns: ReviewColumns, group_filter: GroupFilter, reviewed: Collection[int]
) -> np.ndarray:
    firsts = columns.starts[:-1]
    shown = np.ones(len(firsts), bool)
    if group_filter.only_unreviewed and reviewed:
        shown[np.fromiter(reviewed, np.int64, len(reviewed))] = False
    if group_filter.kind is not GroupKind.ANY:
        leading = np.zeros(columns.member_count, bool)
        leading[firsts] = True
        exact = np.logical_and.reduceat(columns.exact | leading, firsts)
        shown &= exact if group_filter.kind is GroupKind.EXACT else ~exact
    if group_filter.min_similarity > 0 or group_filter.max_similarity < 100:
        lowest = _lowest_similarity(columns)
        shown &= (lowest >= group_filter.min_similarity) & (
            lowest <= group_filter.max_similarity
        )
    if group_filter.folder:
        prefix = os.path.join(os.path.normpath(group_filter.folder), "")  # noqa: PTH118
        inside = np.array([(folder + os.sep).startswith(prefix) for folder in columns.folders],
                          bool)
        member_inside = inside[columns.folder_code] if len(inside) else np.zeros(0, bool)
        shown &= np.logical_or.reduceat(member_inside, firsts)
    return shown


def _lowest_similarity(columns: ReviewColumns) -> np.ndarray:
    return np.minimum.reduceat(columns.similarity, columns.starts[:-1])
