"""All pairs of bit strings (one or more 64-bit words per item) within a Hamming radius,
without a Python loop over pairs.

Multi-index hashing (Norouzi et al.): split the bits into chunks of about 21 bits. If two
items differ in at most r bits, at least one of the c chunks differs in at most
floor(r / c) bits (pigeonhole). Each chunk value indexes a direct-address table; for every
query and every probe mask of at most floor(r / c) bits we read one bucket, then verify
the full distance with a vectorised XOR + popcount. A pair is reported only by the first
chunk that finds it, so no pair comes out twice and nothing needs de-duplicating.

Grouping joins pHash and dHash together (128 bits, radius 16 = 8 bits of each on
average, in 6 chunks that each take a slice of both hashes: 232 probes per chunk);
timings in benchmarks/bench_candidates.py.
Identical items are collapsed first, so a crowd of equal hashes (flat images) costs one
table entry, not a quadratic bucket. Everything is processed in blocks of at most
`block_pairs` pairs, so memory stays flat.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import combinations

import numpy as np

from dedup_gui.core.models import HASH_BITS, CancelToken

CHUNK_BITS = 21
DEFAULT_BLOCK_PAIRS = 1 << 21

PairBlock = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(first indices, second indices, Hamming distances as uint8), all the same length."""


class Cancelled(Exception):
    """The cancel token fired during a join."""


def hash_array(values: Sequence[int]) -> np.ndarray:
    return np.fromiter(values, dtype=np.uint64, count=len(values))


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise bit differences of (broadcastable) uint64 arrays."""
    return np.bitwise_count(np.bitwise_xor(a, b)).astype(np.uint8)


def word_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bit differences of items made of several 64-bit words (the last axis)."""
    return np.bitwise_count(np.bitwise_xor(a, b)).sum(axis=-1, dtype=np.uint8)


def _words(hashes: np.ndarray) -> np.ndarray:
    words = np.ascontiguousarray(hashes, dtype=np.uint64)
    return words[:, None] if words.ndim == 1 else words


Chunk = tuple[tuple[int, int, int], ...]
"""Parts (word, shift, width) whose bits, concatenated, make one chunk value."""


def _chunk_layout(words: int) -> list[Chunk]:
    """About CHUNK_BITS-bit chunks; with several words each chunk takes an equal slice of
    every word. Any partition of the bits keeps the pigeonhole bound, and mixing words
    keeps a crowded word (dHash of skies and walls is mostly all-zero or all-one) from
    piling thousands of items into one bucket."""
    count = max(1, round(words * HASH_BITS / CHUNK_BITS))
    widths = [HASH_BITS // count + (1 if i < HASH_BITS % count else 0) for i in range(count)]
    layout = []
    for c in range(count):
        shift = HASH_BITS - sum(widths[: c + 1])
        layout.append(tuple((word, shift, widths[c]) for word in range(words)))
    return layout


def _chunk_width(chunk: Chunk) -> int:
    return sum(width for _, _, width in chunk)


def _probe_masks(width: int, radius: int) -> np.ndarray:
    masks = [0]
    for flips in range(1, radius + 1):
        for positions in combinations(range(width), flips):
            masks.append(sum(1 << p for p in positions))
    return np.asarray(masks, dtype=np.uint32)


def _chunk_values(words: np.ndarray, chunk: Chunk) -> np.ndarray:
    value = np.zeros(len(words), dtype=np.uint64)
    for word, shift, width in chunk:
        part = (words[:, word] >> np.uint64(shift)) & np.uint64((1 << width) - 1)
        value = (value << np.uint64(width)) | part
    return value.astype(np.uint32)


def _expand(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows with `counts[k]` partners starting at `starts[k]`: (row of each pair,
    position of each partner)."""
    total = int(counts.sum())
    rows = np.repeat(np.arange(len(counts)), counts)
    run_starts = np.cumsum(counts) - counts
    offsets = np.arange(total) - np.repeat(run_starts, counts)
    return rows, np.repeat(starts, counts) + offsets


def _block_bounds(counts: np.ndarray, block_pairs: int) -> Iterator[tuple[int, int]]:
    """Split rows into consecutive ranges whose counts sum to about `block_pairs`."""
    cumulative = np.cumsum(counts)
    start = 0
    while start < len(counts):
        base = cumulative[start - 1] if start else 0
        end = int(np.searchsorted(cumulative, base + block_pairs, side="right"))
        end = max(end, start + 1)
        yield start, min(end, len(counts))
        start = end


def join(
    queries: np.ndarray,
    index: np.ndarray,
    max_distance: int,
    *,
    same_set: bool = False,
    block_pairs: int = DEFAULT_BLOCK_PAIRS,
    cancel: CancelToken | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[PairBlock]:
    """Every (query position, index position, distance) with distance <= max_distance.
    Items are uint64 arrays of shape (n,) or (n, words).

    With `same_set` (queries is index), each unordered pair comes once, first < second,
    and an element is not paired with itself.
    """
    queries, index = _words(queries), _words(index)
    layout = _chunk_layout(queries.shape[1])
    probe_radius = max_distance // len(layout)
    query_chunks = [_chunk_values(queries, chunk) for chunk in layout]
    index_chunks = [_chunk_values(index, chunk) for chunk in layout]
    widths = [_chunk_width(chunk) for chunk in layout]
    masks = _probe_masks(max(widths), probe_radius)
    steps_total = sum(int((masks < (1 << w)).sum()) for w in widths)
    steps_done = 0
    for c, width in enumerate(widths):
        order = np.argsort(index_chunks[c], kind="stable")
        bucket_starts = np.zeros((1 << width) + 1, dtype=np.int64)
        np.cumsum(np.bincount(index_chunks[c], minlength=1 << width), out=bucket_starts[1:])
        occupied = np.zeros(1 << width, dtype=bool)
        occupied[index_chunks[c]] = True
        # Queries in chunk order: a probe (value ^ small mask) then reads the occupancy
        # table almost sequentially, which is what keeps a pass cheap at a million items.
        query_order = order if same_set else np.argsort(query_chunks[c], kind="stable")
        sorted_chunk = query_chunks[c][query_order]
        for mask in masks[masks < (1 << width)]:
            if cancel is not None and cancel.cancelled:
                raise Cancelled
            yield from _probe(
                c, mask, query_order, sorted_chunk, order, bucket_starts, occupied,
                queries, index, query_chunks, index_chunks,
                max_distance, probe_radius, same_set, block_pairs,
            )
            steps_done += 1
            if progress is not None:
                progress(steps_done, steps_total)


def _probe(
    c: int,
    mask: np.uint32,
    query_order: np.ndarray,
    sorted_chunk: np.ndarray,
    order: np.ndarray,
    bucket_starts: np.ndarray,
    occupied: np.ndarray,
    queries: np.ndarray,
    index: np.ndarray,
    query_chunks: list[np.ndarray],
    index_chunks: list[np.ndarray],
    max_distance: int,
    probe_radius: int,
    same_set: bool,
    block_pairs: int,
) -> Iterator[PairBlock]:
    """Pairs found in chunk `c` by flipping the bits of `mask` in each query's chunk."""
    probed = sorted_chunk ^ mask
    hits = np.flatnonzero(occupied[probed])
    if same_set and mask != 0:
        # Buckets k and k^mask hold the same pairs seen from either side: read one.
        hits = hits[probed[hits] > sorted_chunk[hits]]
    if len(hits) == 0:
        return
    lo = bucket_starts[probed[hits]]
    counts = bucket_starts[probed[hits] + 1] - lo
    if same_set and mask == 0:
        # Within one bucket (queries sorted like the index): partners after the query.
        counts = counts - (hits - lo) - 1
        lo = hits + 1
        nonzero = counts > 0
        hits, lo, counts = hits[nonzero], lo[nonzero], counts[nonzero]
    for start, end in _block_bounds(counts, block_pairs):
        rows, positions = _expand(lo[start:end], counts[start:end])
        first = query_order[hits[start:end][rows]]
        second = order[positions]
        distance = word_distance(queries[first], index[second])
        keep = distance <= max_distance
        first, second, distance = first[keep], second[keep], distance[keep]
        # Report each pair from the first chunk within the probe radius only.
        keep = np.ones(len(first), dtype=bool)
        for earlier in range(c):
            chunk_distance = np.bitwise_count(
                query_chunks[earlier][first] ^ index_chunks[earlier][second]
            )
            keep &= chunk_distance > probe_radius
        if keep.any():
            first, second = first[keep], second[keep]
            if same_set:
                first, second = np.minimum(first, second), np.maximum(first, second)
            yield first, second, distance[keep]


def self_join(
    hashes: np.ndarray,
    max_distance: int,
    *,
    block_pairs: int = DEFAULT_BLOCK_PAIRS,
    cancel: CancelToken | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[PairBlock]:
    """Every pair i < j of `hashes` (shape (n,) or (n, words)) within `max_distance`,
    as blocks of (i, j, distance)."""
    hashes = _words(hashes)
    if len(hashes) < 2:
        return
    distinct, inverse = np.unique(hashes, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    members = np.argsort(inverse, kind="stable")
    multiplicity = np.bincount(inverse, minlength=len(distinct))
    member_starts = np.cumsum(multiplicity) - multiplicity

    # Pairs of records that share one hash value exactly.
    shared = np.flatnonzero(multiplicity > 1)
    if len(shared):
        pair_counts = multiplicity[shared] * (multiplicity[shared] - 1) // 2
        for start, end in _block_bounds(pair_counts, block_pairs):
            for value in shared[start:end]:
                ids = members[member_starts[value] : member_starts[value] + multiplicity[value]]
                first, second = np.triu_indices(len(ids), k=1)
                a, b = ids[first], ids[second]
                yield np.minimum(a, b), np.maximum(a, b), np.zeros(len(a), np.uint8)

    # Pairs of distinct values, expanded to every record holding each value.
    for value_a, value_b, distance in join(
        distinct,
        distinct,
        max_distance,
        same_set=True,
        block_pairs=block_pairs,
        cancel=cancel,
        progress=progress,
    ):
        counts = multiplicity[value_a] * multiplicity[value_b]
        if np.all(counts == 1):
            a = members[member_starts[value_a]]
            b = members[member_starts[value_b]]
            yield np.minimum(a, b), np.maximum(a, b), distance
            continue
        rows, _ = _expand(np.zeros(len(counts), np.int64), counts)
        within = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
        width_b = multiplicity[value_b][rows]
        a = members[member_starts[value_a][rows] + within // width_b]
        b = members[member_starts[value_b][rows] + within % width_b]
        yield np.minimum(a, b), np.maximum(a, b), distance[rows]
