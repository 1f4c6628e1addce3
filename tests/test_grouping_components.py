"""Connected components in numpy (small graphs) label exactly as scipy's do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from dedup_gui.core.grouping.components import _labels_in_numpy, component_labels

ROOT = Path(__file__).resolve().parents[1]


@st.composite
def graphs(draw: st.DrawFn):
    count = draw(st.integers(1, 60))
    edges = draw(st.lists(st.tuples(st.integers(0, count - 1), st.integers(0, count - 1)),
                          max_size=120))
    first = np.array([a for a, _ in edges], np.int64)
    second = np.array([b for _, b in edges], np.int64)
    return count, first, second


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_numpy_labels_equal_scipys(graph):
    count, first, second = graph
    matrix = coo_matrix((np.ones(len(first), np.int8), (first, second)), shape=(count, count))
    expected = connected_components(matrix, directed=False)[1]
    np.testing.assert_array_equal(_labels_in_numpy(count, first, second), expected)


def test_a_long_chain_and_a_large_graph_agree_with_scipy():
    chain = np.arange(5000, dtype=np.int64)
    rng = np.random.default_rng(3)
    order = rng.permutation(len(chain) - 1)
    first, second = chain[:-1][order], chain[1:][order]
    assert (_labels_in_numpy(5000, first, second) == 0).all()
    big = 50_000  # above the numpy limit: scipy's path
    a, b = rng.integers(0, big, 40_000), rng.integers(0, big, 40_000)
    matrix = coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(big, big))
    np.testing.assert_array_equal(
        component_labels(big, a, b), connected_components(matrix, directed=False)[1]
    )


def test_a_large_merge_list_agrees_with_scipy():
    """A dendrogram's merges (each joins two components), as the cuts label them."""
    big = 60_000
    rng = np.random.default_rng(4)
    parent = np.arange(big)
    first, second = [], []
    for a, b in rng.integers(0, big, (30_000, 2)).tolist():
        root_a, root_b = a, b
        while parent[root_a] != root_a:
            root_a = parent[root_a]
        while parent[root_b] != root_b:
            root_b = parent[root_b]
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
            first.append(a)
            second.append(b)
    a, b = np.array(first), np.array(second)
    matrix = coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(big, big))
    np.testing.assert_array_equal(
        component_labels(big, a, b, forest=True), connected_components(matrix, directed=False)[1]
    )


def test_scanning_and_grouping_a_small_folder_loads_no_scipy(tmp_path):
    from tests.imagegen import make_photo

    photo = make_photo(1, 160, 120)
    photo.save(tmp_path / "a.jpg", quality=95)
    photo.save(tmp_path / "b.png")
    code = (
        "import sys\n"
        "from dedup_gui.core.scanning.scanner import scan\n"
        "from dedup_gui.core.grouping.index import SimilarityIndex\n"
        f"records = scan([{str(tmp_path)!r}]).records\n"
        "groups = SimilarityIndex.build(records).groups(90)\n"
        "assert len(groups) == 1, groups\n"
        "print(sorted(m for m in sys.modules if m.startswith('scipy')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True, timeout=120)
    assert done.stdout.strip() == "[]"


def test_a_first_large_graph_is_labelled_without_importing_scipy():
    # 100,000 photos' pairs: numpy takes milliseconds, the import a third of a second.
    rng = np.random.default_rng(5)
    count = 100_000
    a, b = rng.integers(0, count, 60_000), rng.integers(0, count, 60_000)
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from dedup_gui.core.grouping.components import component_labels\n"
        "rng = np.random.default_rng(5)\n"
        f"a, b = rng.integers(0, {count}, 60_000), rng.integers(0, {count}, 60_000)\n"
        f"labels = component_labels({count}, a, b)\n"
        "print(sorted(m for m in sys.modules if m.startswith('scipy')), labels.max(),"
        " int(labels @ np.arange(len(labels)) % 1_000_003))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True, timeout=120)
    matrix = coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(count, count))
    expected = connected_components(matrix, directed=False)[1]
    checksum = int(expected @ np.arange(count) % 1_000_003)
    assert done.stdout.split() == ["[]", str(expected.max()), str(checksum)]
