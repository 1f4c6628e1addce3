"""Connected components of an undirected graph given as edge lists.

Small graphs (a rescan of a few hundred photos, a dialog's query) are labelled in numpy,
so a short command never pays the ~0.3 s import of scipy.sparse; large ones use scipy's C
implementation, which is faster once the graph has tens of thousands of nodes (but not
by the import's cost below FOREST_NUMPY_UP_TO_NODES: numpy until scipy is imported).
"""

from __future__ import annotations

import sys

import numpy as np

NUMPY_UP_TO_NODES = 20_000
FOREST_NUMPY_UP_TO_NODES = 200_000
"""For a merge list (each edge joins two components, as a dendrogram's): a few numpy rounds
label 50,000 nodes in 2 ms, where importing scipy.sparse alone takes 0.25 s (the first cut
of a snapshot's grouping). Random forests of a million nodes are faster in scipy. Also
any graph up to this many nodes while scipy.sparse is not imported yet: numpy labels
100,000 nodes in 2-50 ms (200,000 nodes and 600,000 random edges: 180 ms), the import
costs 0.35 s (a first grouping of 100,000 photos waited for it)."""


def component_labels(
    count: int, first: np.ndarray, second: np.ndarray, *, forest: bool = False
) -> np.ndarray:
    """A label per node, 0..k-1 in order of each component's smallest node. `forest`: the
    edges are a merge list (no edge joins a component to itself)."""
    numpy_up_to = NUMPY_UP_TO_NODES
    if forest or "scipy.sparse.csgraph" not in sys.modules:
        numpy_up_to = FOREST_NUMPY_UP_TO_NODES
    if count > numpy_up_to:
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        graph = coo_matrix(
            (np.ones(len(first), np.int8), (first, second)), shape=(count, count)
        )
        return connected_components(graph, directed=False)[1]
    return _labels_in_numpy(count, np.asarray(first, np.int64), np.asarray(second, np.int64))


def _labels_in_numpy(count: int, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Hook every edge's larger root under its smaller one, then jump pointers to the
    roots, until no edge joins two roots (a few rounds for the graphs grouping makes)."""
    parent = np.arange(count, dtype=np.int64)
    while len(first):
        root_a, root_b = parent[first], parent[second]
        joins = root_a != root_b
        if not joins.any():
            break
        low = np.minimum(root_a[joins], root_b[joins])
        high = np.maximum(root_a[joins], root_b[joins])
        np.minimum.at(parent, high, low)
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped
    # Roots are each component's smallest node: number them in that order, as scipy does.
    return np.unique(parent, return_inverse=True)[1].reshape(-1)
