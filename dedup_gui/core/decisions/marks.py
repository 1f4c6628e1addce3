"""The user's keep/trash marks over the suggested ones, and the bulk selection helpers.

Suggestions come from the core (`GroupMember.keep`); what the user changes is kept per path,
so it survives regrouping (the slider) and can be saved (`saved_marks`). Rules every helper
keeps: a file in a protected folder is always kept, so is a RAW+JPEG pair kept together
(`GroupMember.pair_kept`) unless the user clicks it, and no helper leaves a group with
nothing kept — only the user's own click on the last kept copy can do that, and the trash
then asks again ("every copy").
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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
