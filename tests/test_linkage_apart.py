"""Cannot-link pairs ("not duplicates"): never in one group, at any cut, by any route."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from dedup_gui.core.grouping import linkage
from dedup_gui.core.grouping.linkage import minimax_linkage


def groups_at(count: int, merges, height: int) -> list[set[int]]:
    first, second, heights = merges
    cut = heights <= height
    graph = coo_matrix(
        (np.ones(int(cut.sum()), np.int8), (first[cut], second[cut])), shape=(count, count)
    )
    _, labels = connected_components(graph, directed=False)
    return [set(np.flatnonzero(labels == label).tolist()) for label in np.unique(labels)]


def test_two_photos_marked_apart_stay_apart_even_through_a_third_they_both_resemble():
    # A~B 2, B~C 2, A~C 3: without the constraint, B is the centre of one group of three.
    first, second, distance = np.array([0, 1, 0]), np.array([1, 2, 2]), np.array([2, 2, 3])
    together = groups_at(3, minimax_linkage(3, first, second, distance), 10)
    assert {0, 1, 2} in together
    apart = minimax_linkage(3, first, second, distance, apart=(np.array([2]), np.array([0])))
    for height in range(11):
        for group in groups_at(3, apart, height):
            assert not {0, 2} <= group
    assert {0, 1} in groups_at(3, apart, 10)  # B still joins one of them


@st.composite
def graphs(draw: st.DrawFn):
    count = draw(st.integers(3, 14))
    pairs = draw(st.lists(
        st.tuples(st.integers(0, count - 1), st.integers(0, count - 1), st.integers(0, 12)),
        min_size=1, max_size=60,
    ))
    edges = {(min(a, b), max(a, b)): d for a, b, d in pairs if a != b}
    apart = draw(st.lists(
        st.tuples(st.integers(0, count - 1), st.integers(0, count - 1)), max_size=6,
    ))
    apart = [(a, b) for a, b in apart if a != b]
    return count, edges, apart


@settings(max_examples=150, deadline=None)
@given(graphs(), st.booleans())
def test_no_cut_ever_joins_a_pair_marked_apart(graph, complete):
    count, edges, apart = graph
    first = np.array([a for a, _ in edges], np.int64)
    second = np.array([b for _, b in edges], np.int64)
    distance = np.array(list(edges.values()), np.int64)
    apart_pairs = (np.array([a for a, _ in apart], np.int64),
                   np.array([b for _, b in apart], np.int64))
    limit = linkage.DENSE_COMPONENT_LIMIT
    try:
        if complete:  # the path taken by very large components
            linkage.DENSE_COMPONENT_LIMIT = 2
        merges = minimax_linkage(count, first, second, distance, apart=apart_pairs)
    finally:
        linkage.DENSE_COMPONENT_LIMIT = limit
    heights = merges[2]
    assert (np.diff(heights) >= 0).all()
    for height in sorted(set(heights.tolist())):
        for group in groups_at(count, merges, height):
            for a, b in apart:
                assert not {a, b} <= group
            if not complete and len(group) > 1:
                # Still a star: some member is within `height` of every other member.
                assert any(
                    all(c == m or edges.get((min(c, m), max(c, m)), 99) <= height
                        for m in group)
                    for c in group
                )


@settings(max_examples=60, deadline=None)
@given(graphs())
def test_without_constraints_the_merges_are_unchanged(graph):
    count, edges, _ = graph
    first = np.array([a for a, _ in edges], np.int64)
    second = np.array([b for _, b in edges], np.int64)
    distance = np.array(list(edges.values()), np.int64)
    plain = minimax_linkage(count, first, second, distance)
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    for got, expected in zip(minimax_linkage(count, first, second, distance, apart=empty),
                             plain, strict=True):
        np.testing.assert_array_equal(got, expected)
