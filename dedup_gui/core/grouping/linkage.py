"""Complete-linkage clustering of a sparse graph of verified pairs.

Edges are taken in increasing distance. Two clusters merge only once every pair across
them has been seen, so the merge height is the largest distance between any two members
(complete linkage), and pairs that are not edges (no verified match) never merge at all.
The merges come out in increasing height: a cut at any height is a prefix of them.
"""

from __future__ import annotations

import numpy as np

from dedup_gui.core.grouping.arrays import distinct
from dedup_gui.core.grouping.components import component_labels


def complete_linkage(
    count: int, first: np.ndarray, second: np.ndarray, distance: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merges as (an element of one cluster, an element of the other, height), in order.
    Ties are broken by (first, second), so the result never depends on input order."""
    order = np.lexsort((second, first, distance))
    parent = list(range(count))
    size = [1] * count
    # cross[root][other_root] = edges seen so far between the two clusters
    cross: dict[int, dict[int, int]] = {}

    def find(node: int) -> int:
        root = node
        while parent[root] != root:
            root = parent[root]
        while parent[node] != root:
            parent[node], node = root, parent[node]
        return root

    merged_first, merged_second, heights = [], [], []
    for a, b, height in zip(
        first[order].tolist(), second[order].tolist(), distance[order].tolist(), strict=True
    ):
        root_a, root_b = find(a), find(b)
        if root_a == root_b:
            continue
        links_a = cross.setdefault(root_a, {})
        seen = links_a.get(root_b, 0) + 1
        if seen < size[root_a] * size[root_b]:
            links_a[root_b] = seen
            cross.setdefault(root_b, {})[root_a] = seen
            continue
        if size[root_a] < size[root_b]:
            root_a, root_b = root_b, root_a
        parent[root_b] = root_a
        size[root_a] += size[root_b]
        links_a = cross.setdefault(root_a, {})
        links_a.pop(root_b, None)
        for other, links in cross.pop(root_b, {}).items():
            if other == root_a:
                continue
            links_a[other] = links_a.get(other, 0) + links
            other_links = cross[other]
            other_links[root_a] = other_links.get(root_a, 0) + other_links.pop(root_b)
        merged_first.append(a)
        merged_second.append(b)
        heights.append(height)
    return (
        np.asarray(merged_first, np.int64),
        np.asarray(merged_second, np.int64),
        np.asarray(heights, np.int64),
    )


DENSE_COMPONENT_LIMIT = 1500
"""Components larger than this (crowds of near-identical images) use complete linkage,
which needs no dense distance matrix."""
STACKED_COMPONENT_LIMIT = 12
"""Components of 3 to this many photos (nearly all of them: families of copies) are linked
together, one numpy pass per merge step for every component of the same size."""
_STACKED_VALUES = 1 << 22
"""Components x size^3 per stacked pass (bounds its temporaries to ~100 MB)."""
_UNLINKED = 1 << 14


def minimax_linkage(
    count: int,
    first: np.ndarray,
    second: np.ndarray,
    distance: np.ndarray,
    apart: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimax linkage (Bien and Tibshirani, 2011): a merge's height is the smallest
    radius at which some member (the prototype) is within that distance of every member
    of the merged group. Cutting at height T gives groups that each have a prototype
    matching all members within T (a star, so no chaining), and since heights never
    decrease along the merge order, a looser cut only merges groups.

    Pairs that are not edges never count as within any distance. `apart` (first, second)
    are cannot-link pairs (the user said "not duplicates"): no merge ever puts both in one
    group, not even as two members of a third photo's star. Returns merges as
    (an element of one group, an element of the other, height), ordered by height."""
    apart_first, apart_second = _ordered_pairs(apart)
    if len(apart_first) and len(first):
        forbidden = np.isin(
            _pair_keys(count, first, second), _pair_keys(count, apart_first, apart_second)
        )
        first, second, distance = first[~forbidden], second[~forbidden], distance[~forbidden]
    if len(first) == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    labels = component_labels(count, first, second)
    sizes = np.bincount(labels)
    edge_label = labels[first]
    edge_size = sizes[edge_label]

    # Components of two: one merge at the edge's distance.
    pairs = edge_size == 2
    merged = [(first[pairs], second[pairs], distance[pairs].astype(np.int64))]

    larger = np.flatnonzero(~pairs)
    larger = larger[np.argsort(edge_label[larger], kind="stable")]
    larger_size = edge_size[larger]
    stacked = larger_size <= STACKED_COMPONENT_LIMIT
    merged.extend(_stacked_components(
        labels, sizes, first[larger[stacked]], second[larger[stacked]],
        distance[larger[stacked]], apart_first, apart_second,
    ))
    larger = larger[~stacked]
    bounds = np.flatnonzero(np.diff(edge_label[larger])) + 1
    for edges in np.split(larger, bounds) if len(larger) else []:
        nodes = distinct(np.concatenate([first[edges], second[edges]]))
        if len(nodes) > DENSE_COMPONENT_LIMIT:
            # Complete linkage needs every pair across two clusters as an edge: a removed
            # cannot-link edge already keeps its ends apart.
            local = complete_linkage(count, first[edges], second[edges], distance[edges])
        else:
            inside = (
                np.isin(apart_first, nodes) & np.isin(apart_second, nodes)
                if len(apart_first)
                else np.zeros(0, dtype=bool)
            )
            local = _minimax_component(
                nodes,
                np.searchsorted(nodes, first[edges]),
                np.searchsorted(nodes, second[edges]),
                distance[edges].astype(np.int64),
                (
                    np.searchsorted(nodes, apart_first[inside]),
                    np.searchsorted(nodes, apart_second[inside]),
                ),
            )
        merged.append(local)
    merge_first = np.concatenate([m[0] for m in merged]).astype(np.int64)
    merge_second = np.concatenate([m[1] for m in merged]).astype(np.int64)
    heights = np.concatenate([m[2] for m in merged]).astype(np.int64)
    order = np.lexsort((merge_second, merge_first, heights))
    return merge_first[order], merge_second[order], heights[order]


def _ordered_pairs(
    pairs: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray]:
    if pairs is None or len(pairs[0]) == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty
    a, b = np.asarray(pairs[0], np.int64), np.asarray(pairs[1], np.int64)
    return np.minimum(a, b), np.maximum(a, b)


def _pair_keys(count: int, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    low = np.minimum(first, second).astype(np.int64)
    return low * count + np.maximum(first, second)


def _minimax_component(
    nodes: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    distance: np.ndarray,
    apart: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import heapq

    size = len(nodes)
    dist = np.full((size, size), _UNLINKED, np.int64)
    dist[first, second] = distance
    dist[second, first] = distance
    np.fill_diagonal(dist, 0)
    # banned[c]: the nodes that may never share a group with any member of group c.
    banned: dict[int, np.ndarray] | None = None
    if len(apart[0]):
        conflicts = np.zeros((size, size), dtype=bool)
        conflicts[apart[0], apart[1]] = True
        conflicts[apart[1], apart[0]] = True
        banned = {i: conflicts[i] for i in range(size)}

    # reach[c] of a group = the largest distance from node c to any member of the group.
    reach: dict[int, np.ndarray] = {i: dist[i].copy() for i in range(size)}
    members: dict[int, np.ndarray] = {i: np.array([i]) for i in range(size)}
    owner = np.arange(size)
    heap = [
        (int(d), min(a, b), max(a, b), a, b)
        for a, b, d in zip(first.tolist(), second.tolist(), distance.tolist(), strict=True)
    ]
    heapq.heapify(heap)
    next_id = size
    out_first, out_second, heights = [], [], []

    while heap:
        merge_height, _, _, a, b = heapq.heappop(heap)
        if a not in members or b not in members:
            continue
        members_a, members_b = members.pop(a), members.pop(b)
        joined_members = np.concatenate([members_a, members_b])
        joined_reach = np.maximum(reach.pop(a), reach.pop(b))
        new = next_id
        next_id += 1
        out_first.append(int(nodes[members_a[0]]))
        out_second.append(int(nodes[members_b[0]]))
        heights.append(merge_height)
        members[new] = joined_members
        reach[new] = joined_reach
        owner[joined_members] = new
        joined_banned = None
        if banned is not None:
            joined_banned = banned.pop(a) | banned.pop(b)
            banned[new] = joined_banned
        # Only groups linked to some member of the new group can join it.
        linked = (dist[joined_members] < _UNLINKED).any(axis=0)
        candidates = set(owner[np.flatnonzero(linked)].tolist()) - {new}
        smallest = int(joined_members.min())
        for other in candidates:
            if joined_banned is not None and joined_banned[members[other]].any():
                continue
            union = np.concatenate([joined_members, members[other]])
            h = int(np.maximum(joined_reach, reach[other])[union].min())
            if h < _UNLINKED:
                other_smallest = int(members[other].min())
                heapq.heappush(
                    heap,
                    (h, min(smallest, other_smallest), max(smallest, other_smallest), new, other),
                )
    return (
        np.asarray(out_first, np.int64),
        np.asarray(out_second, np.int64),
        np.asarray(heights, np.int64),
    )


def _stacked_components(
    labels: np.ndarray,
    sizes: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    distance: np.ndarray,
    apart_first: np.ndarray,
    apart_second: np.ndarray,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """`_minimax_component` of every component the edges belong to, as stacked arrays: the
    same merges. `_minimax_component` pops its heap in (height, smaller of the two groups'
    smallest members, larger one) order, skipping pairs it never pushed (no prototype
    within reach, or a cannot-link pair across them); a group's key never changes while
    it lives, so that is the same as merging, at each step, the live pair with the
    smallest such key. A merge names the newer group first (its heap entry was pushed
    when it was made); two single photos in the edge's order."""
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    if len(first) == 0:
        return out
    edge_label = labels[first]
    component_size = sizes[edge_label]
    for size in distinct(component_size).tolist():
        of_size = component_size == size
        components = distinct(edge_label[of_size])
        step = max(1, _STACKED_VALUES // size**3)
        for at in range(0, len(components), step):
            part = components[at : at + step]
            chosen = of_size & np.isin(edge_label, part)
            out.extend(_stack_of_size(
                labels, part, size, first[chosen], second[chosen], distance[chosen],
                apart_first, apart_second,
            ))
    return out


def _stack_of_size(
    labels: np.ndarray,
    components: np.ndarray,
    size: int,
    first: np.ndarray,
    second: np.ndarray,
    distance: np.ndarray,
    apart_first: np.ndarray,
    apart_second: np.ndarray,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The stacked linkage of `components` (label values sorted), each of `size` photos."""
    count = len(components)
    nodes = np.flatnonzero(np.isin(labels, components))  # sorted: each component in order
    nodes = nodes[np.argsort(labels[nodes], kind="stable")].reshape(count, size)
    row = np.searchsorted(components, labels[first])
    span = len(labels) + 1
    flat_keys = (np.arange(count)[:, None] * span + nodes).reshape(-1)

    def local(global_nodes: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Each node's position among its component's sorted nodes."""
        return np.searchsorted(flat_keys, rows * span + global_nodes) - rows * size

    at_first, at_second = local(first, row), local(second, row)
    dist = np.full((count, size, size), _UNLINKED, np.int64)
    dist[row, at_first, at_second] = distance
    dist[row, at_second, at_first] = distance
    dist[:, np.arange(size), np.arange(size)] = 0
    # Which end of the edge between two single photos comes first (the edge's order).
    low_first = np.zeros((count, size, size), dtype=bool)
    low_first[row, np.minimum(at_first, at_second), np.maximum(at_first, at_second)] = (
        at_first < at_second
    )
    conflicts = None
    if len(apart_first):
        inside = np.isin(labels[apart_first], components) & (
            labels[apart_first] == labels[apart_second]
        )
        if inside.any():
            apart_row = np.searchsorted(components, labels[apart_first[inside]])
            a = local(apart_first[inside], apart_row)
            b = local(apart_second[inside], apart_row)
            conflicts = np.zeros((count, size, size), np.float32)
            conflicts[apart_row, a, b] = 1.0
            conflicts[apart_row, b, a] = 1.0

    positions = np.arange(size)
    root_of = np.broadcast_to(positions, (count, size)).copy()  # smallest member of its group
    reach = dist.copy()  # reach[c, g, x]: farthest member of group g (by its root) from x
    representative = root_of.copy()  # members[0] of each group (by its root)
    made = np.zeros((count, size), np.int64)  # the step a group was made at (0: a photo)
    upper = positions[:, None] < positions[None, :]
    no_key = np.iinfo(np.int64).max
    rows = np.arange(count)
    out_first, out_second, out_height = [], [], []
    for step in range(1, size):
        member = root_of[:, None, :] == positions[None, :, None]  # (c, group, node)
        union = member[:, :, None, :] | member[:, None, :, :]
        farthest = np.maximum(reach[:, :, None, :], reach[:, None, :, :])
        height = np.where(union, farthest, _UNLINKED).min(axis=3)
        is_root = root_of == positions
        valid = is_root[:, :, None] & is_root[:, None, :] & upper & (height < _UNLINKED)
        if conflicts is not None:
            weights = member.astype(np.float32)
            across = np.matmul(np.matmul(weights, conflicts), weights.transpose(0, 2, 1))
            valid &= across == 0
        key = np.where(valid, height * size * size + positions[:, None] * size + positions, no_key)
        best = key.reshape(count, -1).argmin(axis=1)
        live = key.reshape(count, -1)[rows, best] != no_key
        if not live.any():
            break
        c = rows[live]
        low, high = best[live] // size, best[live] % size
        made_low, made_high = made[c, low], made[c, high]
        low_is_a = np.where(
            (made_low == 0) & (made_high == 0), low_first[c, low, high], made_low > made_high
        )
        a = np.where(low_is_a, low, high)
        b = np.where(low_is_a, high, low)
        out_first.append(nodes[c, representative[c, a]])
        out_second.append(nodes[c, representative[c, b]])
        out_height.append(height[c, low, high])
        joined = root_of[c] == high[:, None]
        root_of[c] = np.where(joined, low[:, None], root_of[c])
        reach[c, low] = np.maximum(reach[c, low], reach[c, high])
        representative[c, low] = representative[c, a]
        made[c, low] = step
    if not out_first:
        return []
    return [(
        np.concatenate(out_first).astype(np.int64),
        np.concatenate(out_second).astype(np.int64),
        np.concatenate(out_height).astype(np.int64),
    )]
