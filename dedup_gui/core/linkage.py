"""Complete-linkage clustering of a sparse graph of verified pairs.

Edges are taken in increasing distance. Two clusters merge only once every pair across
them has been seen, so the merge height is the largest distance between any two members
(complete linkage), and pairs that are not edges (no verified match) never merge at all.
The merges come out in increasing height: a cut at any height is a prefix of them.
"""

from __future__ import annotations

import numpy as np


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
