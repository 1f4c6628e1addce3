"""Candidate pairs from descriptors: every pair at or above `min_cosine`, at most
`neighbours` per image (flat and low-detail images collide in descriptor space, so a
cap keeps the output bounded whatever the library holds).

- Up to EXACT_LIMIT descriptors: exact, blocked float32 products of the float16 rows
  (numpy has no fast float16 product) over the upper triangle only.
- Beyond: a faiss (`faiss-cpu`) HNSW graph over a 48-d PCA projection stored as 8-bit
  codes, each image's nearest re-ranked inside faiss with the full float16 descriptors
  (`ann_factory`); its recall against the exact search is measured by
  benchmarks/bench_deep.py. The 8-bit codes (64 bytes a row at 64-d, not 256) are what made it
  fast: at 200k on the shared 2 cores 2.0-3.2x faster than the float32 graph with the
  same recall (0.986), which the faiss re-ranking alone did not change (the re-ranking
  saves numpy's gather of 2 KB a candidate, and a copy of the descriptors). Inverted
  files were slower at every size for the same recall: the descriptors have no cluster
  structure to exploit, so a fixed share of the lists (1/64 for 0.83-0.92) must be probed
  and the cost grows with the square of the count. At 1M: 0.951 of the planted copies in
  271 s (506 CPU s: 164 to train and build, 341 to search; 64-d: 0.941, 606 CPU s; the
  float32 graph 8.7 minutes, 0.875), +1.14 GB beside the descriptors. Without faiss the
  exact search runs at any size.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import numpy as np

from dedup_gui.core.grouping.candidates import Cancelled
from dedup_gui.core.models import CancelToken

EXACT_LIMIT = 40_000
"""Largest set searched exactly: ~15 s on 2 cores (bench_deep.py); beyond, ANN."""
NEIGHBOURS = 64
"""Most candidates kept per image (the nearest): a photo with its resized, converted and
edited copies easily has 30 neighbours above the loosest cosine."""
BLOCK_ROWS = 1024
ANN_DIMENSIONS = 48
"""The PCA projection the graph is built over: the loss is the graph's, not the PCA's, and
a graph over fewer dimensions is easier to walk (at 1M with efSearch 96: 0.951 of the
planted copies in 539 CPU s against 0.941 in 606 with 64; at 300k with efSearch 64 0.977
against 0.968, its build 27% cheaper). 32 lost copies to the crowd of near ones in the
projection (0.941 at 300k)."""
ANN_LINKS = 32
"""16 links lost a tenth of the copies at 200k (0.906 against 0.986); at 300k 16 or 24
links searched wider for the same CPU seconds still found fewer (0.967 and 0.979 against
0.988 with 32)."""
ANN_BUILD_EFFORT = 40
"""faiss's default. 80 builds a better graph (efSearch 48 then finds what 96 finds) but
costs as much more to build as it saves in the search (300k: 130 CPU s against 117 for
0.984-0.988). The graph's own links as the candidates, without a search, hold only 0.85
(efConstruction 40) to 0.96 (80) of the planted copies at 300k, 0.75 at 1M; a search
started at the image itself (level 0) finds no more than one from the top."""
ANN_SEARCH_EFFORT = 80
ANN_LARGE = 300_000
ANN_LARGE_SEARCH_EFFORT = 96
"""Beyond ANN_LARGE the graph is searched wider (bench_deep.py's planted copies found,
one graph searched with each efSearch): at 1M 0.822 with 48, 0.880 with 64, 0.939 with
96; at 100k 0.993 with 64, 0.995 with 80, 0.999 with 96; at 200k 0.986 with 64."""
ANN_NEIGHBOURS = 24
"""Neighbours kept per image from the graph (the exact search keeps up to NEIGHBOURS)."""
ANN_RERANKED = 32
"""Nearest in the graph re-ranked by the full descriptors, for ANN_NEIGHBOURS + 1 kept."""
ANN_BLOCK = 65_536
ANN_TRAINING_SAMPLE = 60_000

Pairs = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(first, second, cosine): int64, int64, float32 with first < second."""
Progress = Callable[[int, int], None]


SearchCancelled = Cancelled
"""The cancel token fired: the index build's own Cancelled, so callers catch one kind."""


def candidate_pairs(
    vectors: np.ndarray,
    min_cosine: float,
    *,
    present: np.ndarray | None = None,
    neighbours: int = NEIGHBOURS,
    exact_limit: int = EXACT_LIMIT,
    cancel: CancelToken | None = None,
    progress: Progress | None = None,
) -> Pairs:
    """Pairs of rows of `vectors` (float16/32 (n, D), unit rows) at cosine >= min_cosine.
    Rows not in `present` (no descriptor) pair with nothing."""
    rows = np.arange(len(vectors)) if present is None else np.flatnonzero(present)
    if len(rows) < 2:
        return _empty()
    subset = vectors if len(rows) == len(vectors) else vectors[rows]  # no copy of 1 GB at 1M
    if len(rows) > exact_limit and faiss_available():
        first, second, cosine = ann_pairs(subset, min_cosine, neighbours=neighbours,
                                          cancel=cancel, progress=progress)
    else:
        first, second, cosine = exact_pairs(subset, min_cosine, neighbours=neighbours,
                                            cancel=cancel, progress=progress)
    return rows[first], rows[second], cosine


def faiss_available() -> bool:
    return importlib.util.find_spec("faiss") is not None


def exact_pairs(
    vectors: np.ndarray,
    min_cosine: float,
    *,
    neighbours: int = NEIGHBOURS,
    cancel: CancelToken | None = None,
    progress: Progress | None = None,
) -> Pairs:
    count = len(vectors)
    full = np.asarray(vectors, dtype=np.float32)
    parts: list[Pairs] = []
    for start in range(0, count, BLOCK_ROWS):
        if cancel is not None and cancel.cancelled:
            raise SearchCancelled
        stop = min(start + BLOCK_ROWS, count)
        scores = full[start:stop] @ full[start:].T  # columns from `start`: upper triangle
        local = np.arange(stop - start)
        scores[local, local] = -1.0  # not itself
        scores[np.tril_indices(stop - start, -1)] = -1.0  # each pair once, from its first
        parts.append(_top_pairs(scores, start, start, min_cosine, neighbours))
        if progress is not None:
            progress(stop, count)
    return _pruned(_joined(parts), count, neighbours)


def ann_pairs(
    vectors: np.ndarray,
    min_cosine: float,
    *,
    neighbours: int = NEIGHBOURS,
    cancel: CancelToken | None = None,
    progress: Progress | None = None,
) -> Pairs:
    """Approximate: each image's nearest in a faiss HNSW graph over a PCA projection
    (8-bit codes), re-ranked with the full float16 descriptors inside faiss; `progress`
    counts the rows added, then the rows searched (2 * count in all)."""
    import faiss

    count, dimensions = vectors.shape
    index = faiss.index_factory(
        dimensions, ann_factory(dimensions), faiss.METRIC_INNER_PRODUCT
    )
    refine = faiss.downcast_index(index)
    graph = faiss.downcast_index(faiss.downcast_index(refine.base_index).index).hnsw
    graph.efConstruction = ANN_BUILD_EFFORT
    rng = np.random.default_rng(0)
    sample_rows = np.sort(rng.choice(count, min(count, ANN_TRAINING_SAMPLE), replace=False))
    index.train(np.asarray(vectors[sample_rows], np.float32))
    for start in range(0, count, ANN_BLOCK):
        if cancel is not None and cancel.cancelled:
            raise SearchCancelled
        index.add(np.asarray(vectors[start : start + ANN_BLOCK], np.float32))
        if progress is not None:
            progress(min(start + ANN_BLOCK, count), 2 * count)
    graph.efSearch = ANN_SEARCH_EFFORT if count <= ANN_LARGE else ANN_LARGE_SEARCH_EFFORT
    wanted = min(neighbours, ANN_NEIGHBOURS) + 1
    refine.k_factor = ANN_RERANKED / wanted
    parts: list[Pairs] = []
    for start in range(0, count, ANN_BLOCK):
        if cancel is not None and cancel.cancelled:
            raise SearchCancelled
        stop = min(start + ANN_BLOCK, count)
        cosine, found = index.search(np.asarray(vectors[start:stop], np.float32), wanted)
        query_rows = np.repeat(np.arange(start, stop), wanted)
        found, cosine = found.ravel(), cosine.ravel()
        keep = (found >= 0) & (found != query_rows) & (cosine >= min_cosine)
        first, second = query_rows[keep], found[keep]
        parts.append(
            (np.minimum(first, second), np.maximum(first, second), cosine[keep].astype(np.float32))
        )
        if progress is not None:
            progress(count + stop, 2 * count)
    return _pruned(_joined(parts), count, neighbours)


def ann_factory(dimensions: int) -> str:
    """The faiss index: PCA to ANN_DIMENSIONS, unit length, an HNSW graph over 8-bit
    scalar-quantised codes, re-ranked with the descriptors stored as float16 (the cosines it
    returns are those of the full descriptors)."""
    projection = min(ANN_DIMENSIONS, dimensions)
    return f"PCA{projection},L2norm,HNSW{ANN_LINKS}_SQ8,Refine(SQfp16)"


def cosines(vectors: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Exact cosine of each pair of rows."""
    return _row_cosines(vectors, first, second)


def _row_cosines(vectors: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    out = np.empty(len(first), np.float32)
    for start in range(0, len(first), 65_536):
        a = np.asarray(vectors[first[start : start + 65_536]], np.float32)
        b = np.asarray(vectors[second[start : start + 65_536]], np.float32)
        out[start : start + 65_536] = np.einsum("ij,ij->i", a, b)
    return out


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.ascontiguousarray(matrix / np.maximum(norms, 1e-12), dtype=np.float32)


def _top_pairs(
    scores: np.ndarray, row_start: int, column_start: int, min_cosine: float, neighbours: int
) -> Pairs:
    """The best `neighbours` columns of each row of a score block, at >= min_cosine
    (only the few crowded rows are partially sorted: the block itself is never copied)."""
    hits = scores >= min_cosine
    per_row = hits.sum(axis=1)
    crowded = np.flatnonzero(per_row > neighbours)
    hits[crowded] = False
    row, column = np.nonzero(hits)
    values = scores[row, column]
    if len(crowded):
        best = np.argpartition(-scores[crowded], neighbours - 1, axis=1)[:, :neighbours]
        row = np.concatenate([row, np.repeat(crowded, neighbours)])
        column = np.concatenate([column, best.ravel()])
        values = np.concatenate([values, np.take_along_axis(scores[crowded], best, 1).ravel()])
    return (
        (row + row_start).astype(np.int64),
        (column + column_start).astype(np.int64),
        values.astype(np.float32),
    )


def _pruned(pairs: Pairs, count: int, neighbours: int) -> Pairs:
    """Unique pairs; each image keeps at most `neighbours` of its best (from either end:
    the upper-triangle blocks only saw later rows)."""
    first, second, cosine = pairs
    if not len(first):
        return pairs
    keys = first * count + second
    order = np.lexsort((-cosine, keys))
    unique = order[np.r_[True, keys[order][1:] != keys[order][:-1]]]
    first, second, cosine = first[unique], second[unique], cosine[unique]
    ends = np.concatenate([first, second])
    scores = np.concatenate([cosine, cosine])
    pair_ids = np.concatenate([np.arange(len(first))] * 2)
    order = np.lexsort((-scores, ends))
    sorted_ends = ends[order]
    starts = np.r_[0, np.flatnonzero(sorted_ends[1:] != sorted_ends[:-1]) + 1]
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    kept = np.zeros(len(first), bool)
    kept[pair_ids[order[rank < neighbours]]] = True
    return first[kept], second[kept], cosine[kept]


def _joined(parts: list[Pairs]) -> Pairs:
    if not parts:
        return _empty()
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
    )


def _empty() -> Pairs:
    return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
