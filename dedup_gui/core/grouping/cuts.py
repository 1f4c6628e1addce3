"""Cuts of the merge list as arrays, and the groups already built from them.

A cut at a height is the connected components of the merges up to it (a prefix of the merge
list, which is sorted by height). Only the photos some merge names can be grouped, so the
components are labelled over those alone (a fraction of a large library), and each cut is
labelled once per index: the slider has a handful of distinct heights.

Components of a prefix only ever join as the prefix grows, so a group (a set of members) is
named at every cut by its smallest member and its size: two groups of different cuts with
the same smallest member are nested, and nested sets of one size are the same set. That
integer key lets a slider move reuse the groups built at other positions with a vectorised
lookup instead of a Python dictionary of member tuples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dedup_gui.core.grouping.arrays import distinct
from dedup_gui.core.grouping.components import component_labels
from dedup_gui.core.models import DuplicateGroup


@dataclass(frozen=True, slots=True)
class Cut:
    """The groups (two members or more) of one cut."""

    members: np.ndarray
    """Record rows, group after group, each group's in index order."""
    starts: np.ndarray
    """Where each group starts in `members`."""
    sizes: np.ndarray
    keys: np.ndarray
    """Per group: smallest member * (records + 1) + size, the same at every cut."""

    @staticmethod
    def union(cuts: list[Cut]) -> Cut:
        """The groups of several cuts, each once (by key)."""
        if not cuts:
            return Cut(*(np.zeros(0, np.int64) for _ in range(4)))
        sizes = np.concatenate([cut.sizes for cut in cuts])
        keys = np.concatenate([cut.keys for cut in cuts])
        members = np.concatenate([cut.members for cut in cuts])
        whole = Cut(members, np.cumsum(sizes) - sizes, sizes, keys)
        return whole.subset(np.unique(keys, return_index=True)[1])

    def subset(self, chosen: np.ndarray) -> Cut:
        """The groups at positions `chosen` (in that order), packed."""
        sizes = self.sizes[chosen]
        starts = np.cumsum(sizes) - sizes
        offsets = np.arange(int(sizes.sum())) - np.repeat(starts, sizes)
        rows = np.repeat(self.starts[chosen], sizes) + offsets
        return Cut(self.members[rows], starts, sizes, self.keys[chosen])


class Cuts:
    """The cuts of one merge list (first, second sorted by height), labelled on demand."""

    def __init__(self, count: int, merge_first: np.ndarray, merge_second: np.ndarray) -> None:
        self._count = count
        self._nodes = distinct(np.concatenate([merge_first, merge_second]))
        self._first = np.searchsorted(self._nodes, merge_first).astype(np.int32)
        self._second = np.searchsorted(self._nodes, merge_second).astype(np.int32)
        self._cuts: dict[int, Cut] = {}

    @property
    def nodes(self) -> np.ndarray:
        """The rows some merge names, ascending: the only ones any cut can group."""
        return self._nodes

    def at(self, merges: int) -> Cut:
        """The cut made by the first `merges` merges."""
        cut = self._cuts.get(merges)
        if cut is None:
            cut = self._cuts[merges] = self._label(merges)
        return cut

    def _label(self, merges: int) -> Cut:
        labels = component_labels(
            len(self._nodes), self._first[:merges], self._second[:merges], forest=True
        )
        grouped = np.flatnonzero(np.bincount(labels)[labels] > 1)
        # Labels number components by their smallest node, as the rows are sorted: a stable
        # sort by label keeps each group's members in index order.
        grouped = grouped[np.argsort(labels[grouped], kind="stable")]
        group_labels = labels[grouped]
        starts = np.flatnonzero(np.r_[True, group_labels[1:] != group_labels[:-1]])
        sizes = np.diff(np.r_[starts, len(grouped)])
        members = self._nodes[grouped].astype(np.int64)
        keys = members[starts] * (self._count + 1) + sizes
        return Cut(members, starts, sizes, keys)


@dataclass(slots=True)
class BuiltGroups:
    """Every group built so far for one keeper ranking and RAW+JPEG policy, by key, and
    each cut's groups in their shown order."""

    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """Sorted."""
    groups: np.ndarray = field(default_factory=lambda: np.zeros(0, object))
    reclaimable: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    keeper_path_rank: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    by_cut: dict[int, list[DuplicateGroup]] = field(default_factory=dict)

    def missing(self, keys: np.ndarray) -> np.ndarray:
        """Positions in `keys` of the groups not built yet."""
        where = np.searchsorted(self.keys, keys)
        found = np.zeros(len(keys), dtype=bool)
        inside = where < len(self.keys)
        found[inside] = self.keys[where[inside]] == keys[inside]
        return np.flatnonzero(~found)

    def add(
        self,
        keys: np.ndarray,
        groups: list[DuplicateGroup],
        reclaimable: np.ndarray,
        keeper_path_rank: np.ndarray,
    ) -> None:
        built = np.empty(len(groups), dtype=object)
        built[:] = groups
        keys = np.concatenate([self.keys, keys])
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.groups = np.concatenate([self.groups, built])[order]
        self.reclaimable = np.concatenate([self.reclaimable, reclaimable])[order]
        self.keeper_path_rank = np.concatenate([self.keeper_path_rank, keeper_path_rank])[order]

    def ordered(self, keys: np.ndarray) -> list[DuplicateGroup]:
        """The built groups of `keys`, largest saving first (ties: the keeper's path)."""
        where = np.searchsorted(self.keys, keys)
        order = np.lexsort((self.keeper_path_rank[where], -self.reclaimable[where]))
        return self.groups[where[order]].tolist()
