"""Apply a keeper rule chain to many groups at once: the new keep/trash marks.

The members' attributes are laid out once per grouping as flat arrays (`ReviewColumns`);
a chain then narrows every group's candidates at once, one numpy pass a rule, so 30,000
groups take milliseconds (benchmarks/bench_review.py). The ORIGINAL
rule compares the copies of one group with each other (`originals.most_original`), so it
runs per group, only where the rules before it leave a tie, and each verdict is kept for
the next application of a chain.

The keeper is kept and every other copy marked for the trash, except a copy in a protected
folder, which is always kept.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from dedup_gui.core.files.imagetypes import is_raw_format
from dedup_gui.core.grouping.keeper import (
    DEFAULT_FORMAT_ORDER,
    ChainRule,
    KeeperRule,
    RuleOrder,
    rule_kind,
)
from dedup_gui.core.grouping.originals import most_original
from dedup_gui.core.models import DuplicateGroup, MatchKind


@dataclass(eq=False)
class ReviewColumns:
    """Every member of `groups`, in group order, as flat arrays."""

    groups: Sequence[DuplicateGroup]
    starts: np.ndarray
    """Index of each group's first member; one more entry: the member count."""
    group_of: np.ndarray
    is_reference: np.ndarray
    is_raw: np.ndarray
    pixels: np.ndarray
    size: np.ndarray
    mtime_ns: np.ndarray
    capture_missing: np.ndarray
    capture_rank: np.ndarray
    path_length: np.ndarray
    path_rank: np.ndarray
    format_code: np.ndarray
    formats: tuple[str, ...]
    folder_code: np.ndarray
    folders: tuple[str, ...]
    suggested: np.ndarray
    """The core's suggested mark of each member (`GroupMember.keep`)."""
    similarity: np.ndarray
    exact: np.ndarray
    """Per member: a byte copy of its group's keeper."""
    _flat_of_path: dict[str, int] | None = field(default=None, repr=False)
    _original_keys: dict[tuple[ChainRule, ...], tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, repr=False
    )
    _originals: dict[tuple[int, tuple[int, ...]], tuple[int, ...]] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def of(cls, groups: Sequence[DuplicateGroup]) -> ReviewColumns:
        members = [m for g in groups for m in g.members]
        records = [m.record for m in members]
        count = len(members)
        lengths = np.fromiter((len(g.members) for g in groups), np.int64, len(groups))
        starts = np.zeros(len(groups) + 1, np.int64)
        np.cumsum(lengths, out=starts[1:])
        paths = [r.path for r in records]
        formats, format_code = _codes([r.format for r in records])
        folders, folder_code = _codes([path.rpartition(os.sep)[0] for path in paths])
        captures = [r.capture_time for r in records]
        _, capture_rank = _codes([c or "" for c in captures])
        # One pass a type: a pass over 100,000 records costs more than its numpy work.
        numbers = np.array(
            [(r.size, r.mtime_ns, r.width * r.height, len(r.path)) for r in records], np.int64
        ).reshape(count, 4)
        flags = np.array(
            [(m.is_reference, m.keep, m.match is MatchKind.EXACT, m.record.capture_time is None)
             for m in members], bool,
        ).reshape(count, 4)
        return cls(
            groups=groups,
            starts=starts,
            group_of=np.repeat(np.arange(len(groups)), lengths),
            is_reference=flags[:, 0].copy(),
            is_raw=np.array([is_raw_format(name) for name in formats], bool)[format_code]
            if count else np.zeros(0, bool),
            pixels=numbers[:, 2].copy(),
            size=numbers[:, 0].copy(),
            mtime_ns=numbers[:, 1].copy(),
            capture_missing=flags[:, 3].copy(),
            capture_rank=capture_rank,
            path_length=numbers[:, 3].copy(),
            path_rank=_ranks(paths),
            format_code=format_code,
            formats=formats,
            folder_code=folder_code,
            folders=folders,
            suggested=flags[:, 1].copy(),
            similarity=np.fromiter((m.similarity for m in members), np.float64, count),
            exact=flags[:, 2].copy(),
        )

    @property
    def member_count(self) -> int:
        return int(self.starts[-1])

    def flat_index(self, path: str) -> int | None:
        """The member index of `path` (the first, if it is in several groups)."""
        if self._flat_of_path is None:
            flat: dict[str, int] = {}
            for index, group_member in enumerate(m for g in self.groups for m in g.members):
                flat.setdefault(group_member.record.path, index)
            self._flat_of_path = flat
        return self._flat_of_path.get(path)


@dataclass(frozen=True, slots=True)
class ChainMarks:
    """The marks a chain gives the chosen groups."""

    rows: np.ndarray
    """Positions of the chosen groups."""
    keeper: np.ndarray
    """Per chosen group, the keeper's position among its members."""
    members: np.ndarray
    """Flat member indices (into `ReviewColumns`) of the chosen groups, group by group."""
    keep: np.ndarray
    """Per entry of `members`: kept (the keeper, or in a protected folder) or trashed."""


def apply_chain(
    columns: ReviewColumns, rules: Sequence[ChainRule], rows: Sequence[int] | None = None
) -> ChainMarks:
    """The keeper of each chosen group (all when `rows` is None) under `rules`, and the
    marks that follow: keep the keeper and protected copies, trash the others.

    As `keeper.choose_in_group`, rule by rule each group's candidates narrow to those
    with its best key; here one numpy pass a key serves every group at once."""
    chosen = (
        np.arange(len(columns.groups)) if rows is None else np.unique(np.asarray(rows, np.int64))
    )
    lengths = columns.starts[chosen + 1] - columns.starts[chosen]
    members = _ranges(columns.starts[chosen], lengths)
    if not len(members):
        empty = np.zeros(0, np.int64)
        return ChainMarks(chosen, empty, empty, np.zeros(0, bool))
    groups = _Chosen(chosen, lengths, members)
    candidates = np.ones(len(members), bool)
    for position, rule in enumerate(rules):
        if rule is KeeperRule.ORIGINAL:
            keys = [_remembered_original_key(columns, groups, candidates, tuple(rules[:position]))]
        else:
            keys = [key[members] for key in _rule_keys(columns, rule)]
        for key in keys:
            candidates = groups.narrow(candidates, key)
    candidates = groups.narrow(candidates, columns.path_rank[members])  # unique: one left
    best = np.flatnonzero(candidates)
    keep = columns.is_reference[members].copy()
    keep[best] = True
    return ChainMarks(chosen, best - groups.firsts, members, keep)


@dataclass(frozen=True, slots=True)
class _Chosen:
    """The chosen groups' members laid end to end."""

    rows: np.ndarray
    lengths: np.ndarray
    members: np.ndarray

    @property
    def firsts(self) -> np.ndarray:
        return np.r_[0, np.cumsum(self.lengths)[:-1]]

    @property
    def group(self) -> np.ndarray:
        """Per member, the index of its group among the chosen."""
        return np.repeat(np.arange(len(self.rows)), self.lengths)

    def narrow(self, candidates: np.ndarray, key: np.ndarray) -> np.ndarray:
        """The candidates whose key is their group's smallest among its candidates."""
        values = key.astype(np.int64, copy=False)
        masked = np.where(candidates, values, np.iinfo(np.int64).max)
        smallest = np.minimum.reduceat(masked, self.firsts)
        return candidates & (values == smallest[self.group])


def _rule_keys(columns: ReviewColumns, rule: ChainRule) -> list[np.ndarray]:
    """Sort keys over all members for one rule: smaller is preferred (as `keeper_key`)."""
    kind = rule_kind(rule)
    if kind is KeeperRule.REFERENCE_FOLDER:
        return [~columns.is_reference]
    if kind is KeeperRule.RAW_FIRST:
        return [~columns.is_raw]
    if kind is KeeperRule.RESOLUTION:
        return [-columns.pixels]
    if kind is KeeperRule.FILE_SIZE:
        return [-columns.size]
    if kind is KeeperRule.CAPTURE_DATE:
        return [columns.capture_missing, columns.capture_rank]
    if kind is KeeperRule.SHORTER_PATH:
        return [columns.path_length]
    if kind is KeeperRule.MODIFICATION_DATE:
        return [columns.mtime_ns]
    if kind is KeeperRule.FOLDER_PRIORITY:
        order = _listed(rule)
        positions = np.array([_folder_position(f, order) for f in columns.folders], np.int64)
        return [positions[columns.folder_code]] if len(positions) else [columns.folder_code]
    if kind is KeeperRule.FORMAT_PREFERENCE:
        order = tuple(name.upper() for name in _listed(rule))
        positions = np.array(
            [order.index(f.upper()) if f.upper() in order else len(order)
             for f in columns.formats], np.int64,
        )
        return [positions[columns.format_code]] if len(positions) else [columns.format_code]
    return []


def _listed(rule: ChainRule) -> tuple[str, ...]:
    if isinstance(rule, RuleOrder):
        return rule.order
    return DEFAULT_FORMAT_ORDER if rule is KeeperRule.FORMAT_PREFERENCE else ()


def _folder_position(folder: str, order: Sequence[str]) -> int:
    for position, listed in enumerate(order):
        if folder == listed or folder.startswith(listed.rstrip(os.sep) + os.sep):
            return position
    return len(order)


def _remembered_original_key(
    columns: ReviewColumns, groups: _Chosen, candidates: np.ndarray,
    prefix: tuple[ChainRule, ...],
) -> np.ndarray:
    """`_original_key`, remembered per group for the rules before ORIGINAL: a group's
    candidates depend only on its own copies, so applying a chain again compares no
    thumbnails."""
    memo = columns._original_keys.get(prefix)
    if memo is None:
        memo = (np.ones(columns.member_count, np.int64), np.zeros(len(columns.groups), bool))
        columns._original_keys[prefix] = memo
    full, done = memo
    todo = np.flatnonzero(~done[groups.rows])
    if len(todo):
        firsts = groups.firsts
        for g in todo.tolist():
            start, length = int(firsts[g]), int(groups.lengths[g])
            row = int(groups.rows[g])
            local = np.flatnonzero(candidates[start:start + length])
            full[groups.members[start:start + length]] = _original_key(columns, row, local)
        done[groups.rows[todo]] = True
    return full[groups.members]


def _original_key(columns: ReviewColumns, row: int, candidates: np.ndarray) -> np.ndarray:
    """0 for the copies of group `row` that ORIGINAL keeps among `candidates` (their
    positions in the group), 1 for the others."""
    key = np.ones(len(columns.groups[row].members), np.int64)
    if len(candidates) < 2:
        key[candidates] = 0
        return key
    chosen = tuple(candidates.tolist())
    verdict = columns._originals.get((row, chosen))
    if verdict is None:
        records = [m.record for m in columns.groups[row].members]
        verdict = most_original(records, chosen).candidates
        columns._originals[(row, chosen)] = verdict
    key[list(verdict)] = 0
    return key


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenated aranges [start, start + length) for each pair."""
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, np.int64)
    offsets = np.repeat(starts - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
    return np.arange(total) + offsets


def _codes(values: Sequence[str]) -> tuple[tuple[str, ...], np.ndarray]:
    """The distinct values in sorted order, and each value's position among them (a dict
    pass: far faster than sorting objects when values repeat, as folders and dates do)."""
    first_seen: dict[str, int] = {}
    seen = np.fromiter(
        (first_seen.setdefault(v, len(first_seen)) for v in values), np.int64, len(values)
    )
    distinct = sorted(first_seen)
    rank_of_seen = np.empty(len(first_seen), np.int64)
    rank_of_seen[[first_seen[v] for v in distinct]] = np.arange(len(distinct))
    return tuple(distinct), rank_of_seen[seen] if len(values) else np.zeros(0, np.int64)


def _ranks(values: Sequence[str]) -> np.ndarray:
    """Each value's rank in plain string order (ties by position)."""
    order = sorted(range(len(values)), key=values.__getitem__)
    rank = np.empty(len(values), np.int64)
    rank[order] = np.arange(len(values))
    return rank
