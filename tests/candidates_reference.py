"""The candidate search as it was before the generalized-pigeonhole rewrite, frozen as the
reference that tests/test_grouping_candidates_reference.py compares the current one with.

All pairs of bit strings (one or more 64-bit words per item) within a Hamming radius,
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from dedup_gui.core.models import HASH_BITS, CancelToken

CHUNK_BITS = 21
JOIN_THREADS = 2
BRUTE_FORCE_PAIRS = 1 << 22
"""Below this many query x index pairs, comparing all of them is faster than the tables."""
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


def _brute_force(
    queries: np.ndarray, index: np.ndarray, max_distance: int, same_set: bool
) -> Iterator[PairBlock]:
    distance = np.zeros((len(queries), len(index)), dtype=np.uint8)
    for word in range(queries.shape[1]):
        distance += np.bitwise_count(queries[:, word][:, None] ^ index[:, word][None, :]).astype(
            np.uint8
        )
    within = distance <= max_distance
    if same_set:
        within = np.triu(within, k=1)
    first, second = np.nonzero(within)
    if len(first):
        yield first.astype(np.int64), second.astype(np.int64), distance[first, second]


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
    if cancel is not None and cancel.cancelled:
        raise Cancelled
    if len(queries) * len(index) <= BRUTE_FORCE_PAIRS:
        yield from _brute_force(queries, index, max_distance, same_set)
        if progress is not None:
            progress(1, 1)
        return
    layout = _chunk_layout(queries.shape[1])
    probe_radius = max_distance // len(layout)
    query_chunks = [_chunk_values(queries, chunk) for chunk in layout]
    index_chunks = [_chunk_values(index, chunk) for chunk in layout]
    search = _ChunkSearch(
        queries,
        index,
        query_chunks,
        index_chunks,
        max_distance,
        probe_radius,
        same_set,
        block_pairs,
        cancel,
    )
    # Chunks are independent and numpy releases the GIL in the heavy loops: two threads
    # use both cores. Progress is reported from the calling thread only.
    with ThreadPoolExecutor(max_workers=JOIN_THREADS) as pool:
        pending = [
            pool.submit(search.run, c, _chunk_width(chunk)) for c, chunk in enumerate(layout)
        ]
        try:
            for done, future in enumerate(pending, start=1):
                yield from future.result()
                if progress is not None:
                    progress(done, len(pending))
        finally:
            search.stop = True


class _ChunkSearch:
    """One join's shared arrays; `run(c)` finds the pairs first seen in chunk c."""

    def __init__(
        self,
        queries: np.ndarray,
        index: np.ndarray,
        query_chunks: list[np.ndarray],
        index_chunks: list[np.ndarray],
        max_distance: int,
        probe_radius: int,
        same_set: bool,
        block_pairs: int,
        cancel: CancelToken | None,
    ) -> None:
        self.query_words = [np.ascontiguousarray(queries[:, w]) for w in range(queries.shape[1])]
        self.index_words = [np.ascontiguousarray(index[:, w]) for w in range(index.shape[1])]
        self.query_chunks, self.index_chunks = query_chunks, index_chunks
        self.max_distance, self.probe_radius = max_distance, probe_radius
        self.same_set, self.block_pairs, self.cancel = same_set, block_pairs, cancel
        self.stop = False

    def run(self, c: int, width: int) -> list[PairBlock]:
        index_chunk = self.index_chunks[c]
        order = np.argsort(index_chunk, kind="stable").astype(np.int32)
        bucket_starts = np.zeros((1 << width) + 1, dtype=np.int32)
        np.cumsum(np.bincount(index_chunk, minlength=1 << width), out=bucket_starts[1:])
        occupied = np.zeros(1 << width, dtype=bool)
        occupied[index_chunk] = True
        # Queries in chunk order: a probe (value ^ small mask) then reads the occupancy
        # table almost sequentially, which is what keeps a pass cheap at a million items.
        if self.same_set:
            query_order = order
        else:
            query_order = np.argsort(self.query_chunks[c], kind="stable").astype(np.int32)
        sorted_chunk = self.query_chunks[c][query_order]
        # Both sides' words in chunk order too: bucket reads and verification then walk
        # memory nearly sequentially instead of jumping across the whole array.
        sorted_words = _SortedWords(
            query_order,
            order,
            [word[query_order] for word in self.query_words],
            [word[order] for word in self.index_words],
        )
        found: list[PairBlock] = []
        for mask in _probe_masks(width, self.probe_radius):
            if self.stop or (self.cancel is not None and self.cancel.cancelled):
                raise Cancelled
            found.extend(
                self._probe(c, mask, sorted_chunk, sorted_words, bucket_starts, occupied)
            )
        return found

    def _probe(
        self,
        c: int,
        mask: np.uint32,
        sorted_chunk: np.ndarray,
        words: _SortedWords,
        bucket_starts: np.ndarray,
        occupied: np.ndarray,
    ) -> Iterator[PairBlock]:
        """Pairs found in chunk `c` by flipping the bits of `mask` in each query's chunk.
        Positions here are in chunk order (see run)."""
        probed = sorted_chunk ^ mask
        hits = np.flatnonzero(occupied[probed])
        if self.same_set and mask != 0:
            # Buckets k and k^mask hold the same pairs seen from either side: read one.
            hits = hits[probed[hits] > sorted_chunk[hits]]
        if len(hits) == 0:
            return
        lo = bucket_starts[probed[hits]]
        counts = bucket_starts[probed[hits] + 1] - lo
        if self.same_set and mask == 0:
            # Within one bucket (queries sorted like the index): partners after the query.
            counts = counts - (hits - lo) - 1
            lo = (hits + 1).astype(np.int32)
            nonzero = counts > 0
            hits, lo, counts = hits[nonzero], lo[nonzero], counts[nonzero]
        # Most buckets hold one item: pair those directly, expand only the rest.
        single = counts == 1
        if single.any():
            yield from self._verify(c, words, hits[single], lo[single])
        crowded = np.flatnonzero(~single)
        if len(crowded) == 0:
            return
        hits, lo, counts = hits[crowded], lo[crowded], counts[crowded]
        for start, end in _block_bounds(counts, self.block_pairs):
            rows, positions = _expand(lo[start:end], counts[start:end])
            yield from self._verify(c, words, hits[start:end][rows], positions)

    def _verify(
        self, c: int, words: _SortedWords, query_at: np.ndarray, index_at: np.ndarray
    ) -> Iterator[PairBlock]:
        # Word by word, dropping pairs as soon as they are too far: most candidates are
        # chance bucket-mates and fail on the first word.
        distance = np.zeros(len(query_at), dtype=np.uint8)
        for query_word, index_word in zip(words.query_words, words.index_words, strict=True):
            distance += np.bitwise_count(query_word[query_at] ^ index_word[index_at]).astype(
                np.uint8
            )
            keep = np.flatnonzero(distance <= self.max_distance)
            if len(keep) == 0:
                return
            if len(keep) < len(query_at):
                query_at, index_at, distance = query_at[keep], index_at[keep], distance[keep]
        first = words.query_order[query_at].astype(np.int64)
        second = words.index_order[index_at].astype(np.int64)
        # Report each pair from the first chunk within the probe radius only.
        keep = np.ones(len(first), dtype=bool)
        for earlier in range(c):
            chunk_distance = np.bitwise_count(
                self.query_chunks[earlier][first] ^ self.index_chunks[earlier][second]
            )
            keep &= chunk_distance > self.probe_radius
        if keep.any():
            first, second = first[keep], second[keep]
            if self.same_set:
                first, second = np.minimum(first, second), np.maximum(first, second)
            yield first, second, distance[keep]


@dataclass(frozen=True, slots=True)
class _SortedWords:
    query_order: np.ndarray
    index_order: np.ndarray
    query_words: list[np.ndarray]
    index_words: list[np.ndarray]


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
