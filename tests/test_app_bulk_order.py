"""The list's fast sort and filter (over the members' arrays) show exactly the groups, in
exactly the order, that `group_order.ordered_rows` gives."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest
from test_keeper_chain import generated_groups

from dedup_gui.core.decisions.apply_rules import ReviewColumns
from dedup_gui.core.decisions.column_order import ordered_positions
from dedup_gui.core.decisions.group_order import GroupFilter, GroupKind, GroupSort, ordered_rows
from dedup_gui.core.models import MatchKind

FILTERS = [
    GroupFilter(),
    GroupFilter(kind=GroupKind.EXACT),
    GroupFilter(kind=GroupKind.VISUAL, min_similarity=90, max_similarity=97),
    GroupFilter(folder="/lib/2020"),
    GroupFilter(folder="/lib/20"),  # whole folder names only: matches nothing
    GroupFilter(only_unreviewed=True),
]


def varied_groups():
    rng = random.Random(5)
    groups = []
    for g in generated_groups(300):
        exact = rng.random() < 0.3
        keeper, *others = g.members
        groups.append(replace(g, members=(keeper, *(
            replace(m, match=MatchKind.EXACT if exact else MatchKind.VISUAL,
                    similarity=100.0 if exact else rng.uniform(85, 99.9))
            for m in others))))
    return groups


@pytest.mark.parametrize("sort", list(GroupSort))
@pytest.mark.parametrize("group_filter", FILTERS)
def test_the_fast_order_is_the_reference_order(sort, group_filter):
    groups = varied_groups()
    columns = ReviewColumns.of(groups)
    rng = np.random.default_rng(2)
    keeps = rng.random(columns.member_count) < 0.6
    keeps[columns.is_reference] = True
    members = [m for g in groups for m in g.members]
    kept = {id(m): bool(k) for m, k in zip(members, keeps, strict=True)}
    reviewed = set(range(0, 300, 3))
    expected = ordered_rows(groups, sort, group_filter, is_kept=lambda m: kept[id(m)],
                            reviewed=reviewed)
    assert ordered_positions(columns, sort, group_filter, keeps, reviewed) == expected
    if group_filter.folder == "/lib/20":
        assert expected == []
