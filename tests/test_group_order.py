"""Sorting and filtering groups the way a reviewer asks for them."""

from __future__ import annotations

from dataclasses import replace

from test_review_marks import group, record

from dedup_gui.core.decisions.group_order import GroupFilter, GroupKind, GroupSort, ordered_rows
from dedup_gui.core.models import DuplicateGroup, MatchKind


def with_similarity(g: DuplicateGroup, similarity: float, match=MatchKind.VISUAL):
    keeper, *others = g.members
    return DuplicateGroup((keeper, *(replace(m, similarity=similarity, match=match)
                                     for m in others)))


def sized(g: DuplicateGroup, size: int) -> DuplicateGroup:
    return DuplicateGroup(tuple(replace(m, record=replace(m.record, size=size))
                                for m in g.members))


GROUPS = [
    sized(with_similarity(group("/lib/b.jpg", "/old/b.jpg"), 95.0), 5_000),
    sized(with_similarity(group("/lib/a.jpg", "/old/a.jpg", "/dl/a.jpg"), 91.0), 1_000),
    sized(with_similarity(group("/dl/c.jpg", "/dl/c (1).jpg"), 100.0, MatchKind.EXACT), 9_000),
]


def test_each_sort_puts_the_groups_a_reviewer_expects_first():
    assert ordered_rows(GROUPS, GroupSort.SPACE_SAVED) == [2, 0, 1]
    assert ordered_rows(GROUPS, GroupSort.COPIES)[0] == 1
    assert ordered_rows(GROUPS, GroupSort.SIMILARITY) == [1, 0, 2]  # least alike first
    assert ordered_rows(GROUPS, GroupSort.FOLDER) == [2, 1, 0]  # /dl, /lib/a, /lib/b


def test_space_saved_follows_the_users_marks():
    everything_kept = ordered_rows(GROUPS, GroupSort.SPACE_SAVED, is_kept=lambda m: True)
    assert everything_kept == ordered_rows(GROUPS, GroupSort.FOLDER)  # all free 0: by path


def test_filters_by_folder_kind_similarity_and_review():
    assert ordered_rows(GROUPS, keep_filter=GroupFilter(folder="/old")) == [0, 1]
    assert ordered_rows(GROUPS, keep_filter=GroupFilter(folder="/ol")) == []  # whole names
    assert ordered_rows(GROUPS, keep_filter=GroupFilter(kind=GroupKind.EXACT)) == [2]
    assert ordered_rows(GROUPS, keep_filter=GroupFilter(kind=GroupKind.VISUAL)) == [0, 1]
    assert ordered_rows(
        GROUPS, keep_filter=GroupFilter(min_similarity=90, max_similarity=96)
    ) == [0, 1]
    assert ordered_rows(
        GROUPS, keep_filter=GroupFilter(only_unreviewed=True), reviewed={0, 2}
    ) == [1]


def test_the_date_sort_puts_the_newest_first():
    newer = replace(GROUPS[1].members[0], record=replace(
        record("/lib/a.jpg"), capture_time="2024-05-01T10:00:00"))
    older = replace(GROUPS[0].members[0], record=replace(
        record("/lib/b.jpg"), capture_time="2011-05-01T10:00:00"))
    groups = [DuplicateGroup((older, *GROUPS[0].members[1:])),
              DuplicateGroup((newer, *GROUPS[1].members[1:]))]
    assert ordered_rows(groups, GroupSort.DATE) == [1, 0]
