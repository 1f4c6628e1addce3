"""The user's keep/trash marks over the suggested ones, and the bulk selection helpers.

Suggestions come from the core (`GroupMember.keep`); what the user changes is kept per path,
so it survives regrouping (the slider) and can be saved (`saved_marks`). Rules every helper
keeps: a file in a protected folder is always kept, so is a RAW+JPEG pair kept together
(`GroupMember.pair_kept`) unless the user clicks it, and no helper leaves a group with
nothing kept — only the user's own click on the last kept copy can do that, and the trash
then asks again ("every copy").
"""

from __future__ import annotations

import collections
import itertools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from dedup_gui.core.models import DuplicateGroup, GroupMember


@dataclass(frozen=True, slots=True)
class MarkChange:
    """What a bulk helper did: copies whose mark changed, groups it spared a last copy in."""

    changed: int
    spared: int = 0


class ReviewMarks:
    def __init__(self) -> None:
        self._override: dict[str, bool] = {}

    @property
    def overrides(self) -> dict[str, bool]:
        """path -> keep, for the files whose mark differs from the suggestion."""
        return dict(self._override)

    def load(self, marks: dict[str, bool], groups: Sequence[DuplicateGroup]) -> None:
        """Take saved marks (path -> keep) for the members of `groups`."""
        for group in groups:
            for member in group.members:
                keep = marks.get(member.record.path)
                if keep is not None:
                    self.set(member, keep)

    def is_kept(self, member: GroupMember) -> bool:
        # A trash mark made before the file's folder was protected no longer applies.
        if member.is_reference:
            return True
        return self._override.get(member.record.path, member.keep)

    def set(self, member: GroupMember, keep: bool) -> bool:
        """Returns whether the mark changed (a protected file is never marked for trash)."""
        if member.is_reference and not keep:
            return False
        changed = keep != self.is_kept(member)
        if keep == member.keep:
            self._override.pop(member.record.path, None)
        else:
            self._override[member.record.path] = keep
        return changed

    def put_many(self, overridden: Iterable[tuple[str, bool]], back: Iterable[str]) -> None:
        """`set` for many files at once, with no checks (`GroupingMarks.assign` has kept
        protected files kept): `overridden` (path, keep) differ from the suggestion, the
        paths `back` are at their suggestion again. C-level loops: a bulk helper changes
        up to every copy."""
        override = self._override
        override.update(overridden)
        collections.deque(map(override.pop, back, itertools.repeat(None)), maxlen=0)

    def kept_count(self, group: DuplicateGroup) -> int:
        return sum(self.is_kept(member) for member in group.members)

    def loses_every_copy(self, group: DuplicateGroup) -> bool:
        return self.kept_count(group) == 0

    # ----- bulk helpers ------------------------------------------------------------------

    def reset(self, groups: Iterable[DuplicateGroup]) -> MarkChange:
        """Back to the suggested marks."""
        changed = 0
        for group in groups:
            for member in group.members:
                changed += self.set(member, member.keep)
        return MarkChange(changed)

    def trash_all_but_keeper(self, groups: Iterable[DuplicateGroup]) -> MarkChange:
        """Keep each group's keeper, mark every other copy (outside protected folders)."""
        changed = 0
        for group in groups:
            for position, member in enumerate(group.members):
                changed += self.set(
                    member, position == 0 or member.is_reference or member.pair_kept
                )
        return MarkChange(changed)

    def invert(self, group: DuplicateGroup) -> MarkChange:
        """Kept copies to the trash and the others kept; a group whose copies are all kept
        keeps its keeper (inverting must not put every copy in the trash)."""
        wanted = [self.is_kept(m) if m.pair_kept else not self.is_kept(m) for m in group.members]
        spared = 0
        if not any(wanted[k] or m.is_reference for k, m in enumerate(group.members)):
            wanted[0] = True
            spared = 1
        changed = sum(self.set(m, keep) for m, keep in zip(group.members, wanted, strict=True))
        return MarkChange(changed, spared)

    def mark_folder(
        self, groups: Iterable[DuplicateGroup], folder: str, *, keep: bool
    ) -> MarkChange:
        """Keep, or mark for the trash, every copy directly in `folder`, in every group.
        Marking never leaves a group with nothing kept: where all its kept copies are in
        `folder`, the first of them (in keeper order) stays."""
        changed = spared = 0
        for group in groups:
            in_folder = [
                m for m in group.members
                if os.path.dirname(m.record.path) == folder  # noqa: PTH120 (per record)
            ]
            if not in_folder:
                continue
            if not keep:
                in_folder = [m for m in in_folder if not (m.is_reference or m.pair_kept)]
                marked = {id(m) for m in in_folder}
                kept_elsewhere = any(self.is_kept(m) for m in group.members if id(m) not in marked)
                if not kept_elsewhere and any(self.is_kept(m) for m in in_folder):
                    first_kept = next(m for m in in_folder if self.is_kept(m))
                    in_folder = [m for m in in_folder if m is not first_kept]
                    spared += 1
            for member in in_folder:
                changed += self.set(member, keep)
        return MarkChange(changed, spared)

    def next_losing_every_copy(
        self, groups: Sequence[DuplicateGroup], after: int = -1
    ) -> int | None:
        """Position of the next group (after `after`, wrapping around) whose every copy is
        marked for the trash, or None."""
        count = len(groups)
        for step in range(1, count + 1):
            position = (after + step) % count
            if self.loses_every_copy(groups[position]):
                return position
        return None


@dataclass(frozen=True, eq=False)
class MemberArrays:
    """What the marks need of one grouping's members, as flat arrays in group order (the
    same order as `apply_rules.ReviewColumns`). Built once per grouping, off the GUI thread
    where it can be."""

    groups: Sequence[DuplicateGroup]
    members: list[GroupMember]
    paths: list[str]
    starts: np.ndarray
    """Index of each group's first member; one more entry: the member count."""
    suggested: np.ndarray
    is_reference: np.ndarray
    pair_kept: np.ndarray
    size: np.ndarray

    @classmethod
    def of(cls, groups: Sequence[DuplicateGroup]) -> MemberArrays:
        members = [m for g in groups for m in g.members]
        count = len(members)
        lengths = np.fromiter((len(g.members) for g in groups), np.int64, len(groups))
        starts = np.zeros(len(groups) + 1, np.int64)
        np.cumsum(lengths, out=starts[1:])
        flags = np.fromiter(
            itertools.chain.from_iterable((m.keep, m.is_reference, m.pair_kept) for m in members),
            bool, 3 * count,
        ).reshape(count, 3)
        return cls(
            groups=groups, members=members, paths=[m.record.path for m in members],
            starts=starts,
            suggested=flags[:, 0].copy(), is_reference=flags[:, 1].copy(),
            pair_kept=flags[:, 2].copy(),
            size=np.fromiter((m.record.size for m in members), np.int64, count),
        )

    @property
    def member_count(self) -> int:
        return int(self.starts[-1])

    def flat_of(self, positions: Sequence[int] | None) -> np.ndarray:
        """Flat member indices of the groups at `positions` (every group when None)."""
        if positions is None:
            return np.arange(self.member_count)
        chosen = np.asarray(positions, np.int64)
        lengths = self.starts[chosen + 1] - self.starts[chosen]
        total = int(lengths.sum())
        if not total:
            return np.zeros(0, np.int64)
        offsets = np.repeat(self.starts[chosen] - np.r_[0, np.cumsum(lengths)[:-1]], lengths)
        return np.arange(total) + offsets

    def group_of(self) -> np.ndarray:
        """Per member, its group's position."""
        return np.repeat(np.arange(len(self.groups)), np.diff(self.starts))


class GroupingMarks:
    """Every member's effective mark in one grouping (`keeps`, as `ReviewMarks.is_kept`
    says), kept in step with the `ReviewMarks` it was made over. Bulk helpers work on the
    arrays and touch the per-path marks only for the copies whose mark changes, so a helper
    over 100,000 files takes milliseconds. Each returns the flat indices it changed."""

    def __init__(self, arrays: MemberArrays, marks: ReviewMarks) -> None:
        self.arrays = arrays
        self.marks = marks
        self.keeps = arrays.suggested | arrays.is_reference
        if marks.overrides:
            self.resync()

    def resync(self, flat: np.ndarray | None = None) -> np.ndarray:
        """Read the marks of these members (all when None) back from `marks`, after a
        helper of `ReviewMarks` changed them; returns the indices whose mark changed."""
        members = self.arrays.members
        chosen = np.arange(len(members)) if flat is None else np.asarray(flat, np.int64)
        is_kept = self.marks.is_kept
        now = np.fromiter((is_kept(members[i]) for i in chosen.tolist()), bool, len(chosen))
        changed = chosen[now != self.keeps[chosen]]
        self.keeps[chosen] = now
        return changed

    def assign(self, flat: np.ndarray, wanted: np.ndarray) -> np.ndarray:
        """Mark members `flat` kept or not as `wanted` says (protected ones stay kept)."""
        flat = np.asarray(flat, np.int64)
        wanted = np.asarray(wanted, bool) | self.arrays.is_reference[flat]
        differs = wanted != self.keeps[flat]
        changed, values = flat[differs], wanted[differs]
        if len(changed):
            self.keeps[changed] = values
            path_of = self.arrays.paths.__getitem__
            overridden = values != self.arrays.suggested[changed]
            self.marks.put_many(
                zip(map(path_of, changed[overridden].tolist()), values[overridden].tolist(),
                    strict=True),
                map(path_of, changed[~overridden].tolist()),
            )
        return changed

    def reset(self, positions: Sequence[int] | None = None) -> np.ndarray:
        flat = self.arrays.flat_of(positions)
        return self.assign(flat, self.arrays.suggested[flat])

    def trash_all_but_keeper(self, positions: Sequence[int] | None = None) -> np.ndarray:
        """As `ReviewMarks.trash_all_but_keeper`."""
        arrays = self.arrays
        flat = arrays.flat_of(positions)
        keeper = np.zeros(arrays.member_count, bool)
        keeper[arrays.starts[:-1]] = True
        return self.assign(flat, keeper[flat] | arrays.pair_kept[flat])

    def marked_totals(self) -> tuple[int, int]:
        """(files, bytes) marked for the trash."""
        marked = ~self.keeps
        return int(marked.sum()), int(self.arrays.size[marked].sum())

    def kept_per_group(self) -> np.ndarray:
        starts = self.arrays.starts
        if len(starts) < 2:
            return np.zeros(0, np.int64)
        return np.add.reduceat(self.keeps.astype(np.int64), starts[:-1])
