"""All pairs of 64-bit hashes within a Hamming radius, without a Python loop over pairs.

Multi-index hashing (Norouzi et al.): split the 64 bits into CHUNKS chunks. If two hashes
differ in at most r bits, at least one chunk differs in at most floor(r / CHUNKS) bits
(pigeonhole). Each chunk value indexes a direct-address table; for every query and every
probe mask of at most floor(r / CHUNKS) bits we read one bucket, then verify the full
distance with a vectorised XOR + popcount. A pair is reported only by the first chunk
that finds it, so no pair comes out twice and nothing needs de-duplicating afterwards.

With 3 chunks of 21-22 bits, r = 8 needs 232 probes per chunk; at a million hashes that
is a few hundred million bucket reads, against 5 * 10^11 pairs for a brute-force join
(measured in benchmarks/bench_candidates.py). Identical hashes are collapsed first, so a
crowd of equal hashes (flat images) costs one table entry, not a quadratic bucket.
Everything is processed in blocks of at most `block_pairs` pairs, so memory stays flat.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import combinations

import numpy as np

from dedup_gui.core.models import HASH_BITS, CancelToken

CHUNKS = 3
DEFAULT_BLOCK_PAIRS = 1 << 21

PairBlock = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(first indices, second indices, Hamming distances as uint8), all the same length."""


class Cancelled(Exception):
    """The cancel token fired during a join."""


def hash_array(values: Sequence[int]) -> np.ndarray:
    return np.fromiter(values, dtype=np.uint64, count=len(values))


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.bitwise_count(np.bitwise_xor(a, b)).astype(np.uint8)


def _chunk_layout(bits: int = HASH_BITS, chunks: int = CHUNKS) -> list[tuple[int, int]]:
    """(shift, width) of each chunk, widest first."""
    widths = [bits // chunks + (1 if i < bits % chunks else 0) for i in range(chunks)]
    layout, shift = [], bits
    for width in widths:
        shift -= width
        layout.append((shift, width))
    return layout


def _probe_masks(width: int, radius: int) -> np.ndarray:
    masks = [0]
    for flips in range(1, radius + 1):
        for positions in combinations(range(width), flips):
            masks.append(sum(1 << p for p in positions))
    return np.asarray(masks, dtype=np.uint32)


def _chunk_values(hashes: np.ndarray, shift: int, width: int) -> np.ndarray:
    return ((hashes >> np.uint64(shift)) & np.uint64((1 << width) - 1)).astype(np.uint32)


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

    With `same_set` (queries is index), each unordered pair comes once, first < second,
    and an element is not paired with itself.
    """
    queries = np.ascontiguousarray(queries, dtype=np.uint64)
    index = np.ascontiguousarray(index, dtype=np.uint64)
    layout = _chunk_layout()
    probe_radius = max_distance // len(layout)
    query_chunks = [_chunk_values(queries, s, w) for s, w in layout]
    index_chunks = [_chunk_values(index, s, w) for s, w in layout]
    steps_total = sum(len(_probe_masks(w, probe_radius)) for _, w in layout)
    steps_done = 0
    for c, (_, width) in enumerate(layout):
        order = np.argsort(index_chunks[c], kind="stable")
        bucket_starts = np.zeros((1 << width) + 1, dtype=np.int64)
        np.cumsum(np.bincount(index_chunks[c], minlength=1 << width), out=bucket_starts[1:])
        for mask in _probe_masks(width, probe_radius):
            if cancel is not None and cancel.cancelled:
                raise Cancelled
            probed = query_chunks[c] ^ mask
            lo = bucket_starts[probed]
            counts = bucket_starts[probed + 1] - lo
            for start, end in _block_bounds(counts, block_pairs):
                rows, positions = _expand(lo[start:end], counts[start:end])
                first = rows + start
                second = order[positions]
                if same_set:
                    keep = first < second
                    first, second = first[keep], second[keep]
                distance = hamming(queries[first], index[second])
                keep = distance <= max_distance
                # Report each pair from the first chunk within the probe radius only.
                for earlier in range(c):
                    chunk_distance = np.bitwise_count(
                        query_chunks[earlier][first] ^ index_chunks[earlier][second]
                    )
                    keep &= chunk_distance > probe_radius
                if keep.any():
                    yield first[keep], second[keep], distance[keep]
            steps_done += 1
            if progress is not None:
                progress(steps_done, steps_total)


def self_join(
    hashes: np.ndarray,
    max_distance: int,
    *,
    block_pairs: int = DEFAULT_BLOCK_PAIRS,
    cancel: CancelToken | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[PairBlock]:
    """Every pair i < j of `hashes` within `max_distance`, as blocks of (i, j, distance)."""
    hashes = np.ascontiguousarray(hashes, dtype=np.uint64)
    if len(hashes) < 2:
        return
    distinct, inverse = np.unique(hashes, return_inverse=True)
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
