"""Bulk selection helpers: fast to use, and none of them can make a group lose every copy."""

from __future__ import annotations

from dedup_gui.core.decisions.marks import ReviewMarks
from dedup_gui.core.models import DuplicateGroup, GroupMember, ImageRecord, MatchKind


def record(path: str, size: int = 1000) -> ImageRecord:
    return ImageRecord(
        path=path, size=size, mtime_ns=0, width=10, height=10, format="JPEG",
        capture_time=None, dhash=0, phash=0, phash_dihedral=(0,) * 8, micro=bytes(768),
    )


def group(*paths: str, reference: tuple[str, ...] = ()) -> DuplicateGroup:
    return DuplicateGroup(tuple(
        GroupMember(record(path), keep=k == 0 or path in reference,
                    is_reference=path in reference, distance=0, similarity=100.0,
                    match=MatchKind.VISUAL)
        for k, path in enumerate(paths)
    ))


def kept(marks: ReviewMarks, g: DuplicateGroup) -> list[bool]:
    return [marks.is_kept(m) for m in g.members]


def test_invert_swaps_the_marks_but_never_trashes_every_copy():
    g = group("/a/1.jpg", "/b/1.jpg", "/c/1.jpg")
    marks = ReviewMarks()
    assert marks.invert(g).changed == 3
    assert kept(marks, g) == [False, True, True]
    for member in g.members:
        marks.set(member, True)
    change = marks.invert(g)  # every copy kept: inverting keeps the keeper
    assert kept(marks, g) == [True, False, False] and change.spared == 1


def test_trash_all_but_the_keeper_leaves_protected_copies_kept():
    groups = [group("/a/1.jpg", "/lib/1.jpg", "/c/1.jpg", reference=("/lib/1.jpg",)),
              group("/a/2.jpg", "/b/2.jpg")]
    marks = ReviewMarks()
    marks.set(groups[0].members[2], True)
    marks.set(groups[1].members[1], True)
    marks.trash_all_but_keeper(groups)
    assert kept(marks, groups[0]) == [True, True, False]
    assert kept(marks, groups[1]) == [True, False]
    assert marks.set(groups[0].members[1], False) is False  # protected: never trashed


def test_reset_goes_back_to_the_suggestions_and_next_finds_groups_losing_every_copy():
    groups = [group("/a/1.jpg", "/b/1.jpg"), group("/a/2.jpg", "/b/2.jpg"),
              group("/a/3.jpg", "/b/3.jpg")]
    marks = ReviewMarks()
    assert marks.next_losing_every_copy(groups) is None
    marks.set(groups[0].members[0], False)
    marks.set(groups[2].members[0], False)
    assert marks.next_losing_every_copy(groups) == 0
    assert marks.next_losing_every_copy(groups, after=0) == 2
    assert marks.next_losing_every_copy(groups, after=2) == 0  # wraps around
    assert marks.reset(groups[:1]).changed == 1
    assert marks.next_losing_every_copy(groups) == 2
    marks.reset(groups)
    assert marks.overrides == {}


def test_trashing_a_folder_keeps_one_copy_where_it_holds_every_kept_one():
    groups = [group("/x/1.jpg", "/y/1.jpg"), group("/x/2.jpg", "/x/2 copy.jpg")]
    marks = ReviewMarks()
    marks.set(groups[0].members[1], True)  # the user keeps the copy in /y
    change = marks.mark_folder(groups, "/x", keep=False)
    assert kept(marks, groups[0]) == [False, True]
    assert kept(marks, groups[1]) == [True, False]  # all its copies are in /x: one stays
    assert (change.changed, change.spared) == (1, 1)


def test_saved_marks_load_onto_the_groups_shown():
    groups = [group("/a/1.jpg", "/b/1.jpg")]
    marks = ReviewMarks()
    marks.load({"/a/1.jpg": False, "/b/1.jpg": True, "/elsewhere.jpg": False}, groups)
    assert kept(marks, groups[0]) == [False, True]
    assert marks.overrides == {"/a/1.jpg": False, "/b/1.jpg": True}
