"""All pairs of bit strings (one or more 64-bit words per item) within a Hamming radius,
without a Python loop over pairs.

Multi-index hashing (Norouzi et al.): split the bits into chunks of about 22 bits. By the
pigeonhole principle, if two items differ in at most r bits and chunk i is probed at
radius r_i, where the (r_i + 1) sum to more than r, then at least one chunk i differs in
at most r_i bits. Each chunk value indexes a direct-address table; for every query and
every probe mask of at most r_i bits we read one bucket, then verify the full distance
with a vectorised XOR + popcount. A pair is reported only by the first chunk that finds
it, so no pair comes out twice and nothing needs de-duplicating.

Grouping joins pHash and dHash together (128 bits, radius 16 = 8 bits of each on
average): five 22-bit chunks at radius 2 (254 probes each) and one 18-bit chunk at
radius 1 (19 probes), each chunk an equal slice of both hashes; timings in
benchmarks/bench_candidates.py. In a self-join a pair of buckets k, k ^ mask is read from
one side only: for a mask whose highest bit is b, from the items whose bit b is clear,
so each probe reads half the items.
Identical items are collapsed first, so a crowd of equal hashes (flat images) costs one
table entry, not a quadratic bucket. Everything is processed in blocks of at most
`block_pairs` pairs, so memory stays flat.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from dedup_gui.core.grouping.arrays import distinct
from dedup_gui.core.models import HASH_BITS, CancelToken

CHUNK_BITS = 21
"""Target chunk width before the radii are planned (see _plan)."""
MAX_CHUNK_BITS = 24
"""Widest direct-address table (16M entries)."""
JOIN_THREADS = 2
BRUTE_FORCE_PAIRS = 1 << 22
"""Below this many query x index pairs, comparing all of them is faster than the tables."""
DEFAULT_BLOCK_PAIRS = 1 << 21
SUBSET_MIN_MASKS = 3
"""In a self-join, masks sharing a highest bit read only the items with that bit clear
once there are this many of them (selecting the half costs about one probe)."""
PROBE_ITEMS = 1 << 19
"""Probe lookups per numpy call: several masks at a time below a million items."""
CANDIDATE_COST = 8.0
"""Cost of verifying one bucket-mate, in probes of one item (measured at 300k-1M)."""

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


def _probe_count(width: int, radius: int) -> int:
    return sum(len(list(combinations(range(width), k))) for k in range(radius + 1))


def _plan(words: int, max_distance: int, items: int) -> tuple[list[int], list[int]]:
    """(chunk widths, probe radii). About CHUNK_BITS-bit chunks at radius
    max_distance // count; when the (radius + 1) sum exceeds max_distance + 1, the spare
    chunks drop to one bit less of radius and the widths are re-balanced by a cost model
    (probes per item, plus bucket-mates to verify). Any such plan finds every pair."""
    total = words * HASH_BITS
    count = max(1, round(total / CHUNK_BITS))
    radius = max_distance // count
    spare = count * (radius + 1) - (max_distance + 1)
    even = [total // count + (1 if c < total % count else 0) for c in range(count)]
    if radius == 0 or spare == 0:
        return even, [radius] * count
    full = count - spare
    best: tuple[float, list[int]] | None = None
    for reduced in range(1, MAX_CHUNK_BITS + 1):
        rest = total - spare * reduced
        if rest < full or rest > full * MAX_CHUNK_BITS:
            continue
        widths = [rest // full + (1 if c < rest % full else 0) for c in range(full)]
        widths += [reduced] * spare
        radii = [radius] * full + [radius - 1] * spare
        cost = sum(
            _probe_count(w, r) * (1 + CANDIDATE_COST * items / 2**w)
            for w, r in zip(widths, radii, strict=True)
        )
        if best is None or cost < best[0]:
            best = (cost, widths)
    assert best is not None
    return best[1], [radius] * full + [radius - 1] * spare


def _chunk_layout(words: int, widths: list[int]) -> list[Chunk]:
    """Each chunk takes an equal slice of every word (any partition of the bits keeps the
    pigeonhole bound, and mixing words keeps a crowded word (dHash of skies and walls is
    mostly all-zero or all-one) from piling thousands of items into one bucket)."""
    left = [HASH_BITS] * words
    layout = []
    for c, width in enumerate(widths):
        parts = []
        for k in range(words):
            word = (c + k) % words
            share = width // words + (1 if k < width % words else 0)
            left[word] -= share
            parts.append((word, left[word], share))
        layout.append(tuple(sorted(parts)))
    assert all(bits == 0 for bits in left)
    return layout


def _chunk_width(chunk: Chunk) -> int:
    return sum(width for _, _, width in chunk)


def _probe_masks(width: int, radius: int) -> list[int]:
    masks = [0]
    for flips in range(1, radius + 1):
        for positions in combinations(range(width), flips):
            masks.append(sum(1 << p for p in positions))
    return masks


def _chunk_values(words: np.ndarray, chunk: Chunk) -> np.ndarray:
    value = np.zeros(len(words), dtype=np.uint64)
    for word, shift, width in chunk:
        part = (words[:, word] >> np.uint64(shift)) & np.uint64((1 << width) - 1)
        value = (value << np.uint64(width)) | part
    return value.astype(np.intp)


_FULL = 255


def _stable_order(values: np.ndarray, width: int) -> np.ndarray:
    """np.argsort(values, kind="stable") of `width`-bit values, as one sort of
    (value, position) keys: numpy's SIMD sort of uint64 is several times faster."""
    position_bits = max(1, (len(values) - 1).bit_length())
    if width + position_bits > 64:
        return np.argsort(values, kind="stable")
    keys = values.astype(np.uint64) << np.uint64(position_bits)
    keys |= np.arange(len(values), dtype=np.uint64)
    keys.sort()
    keys &= np.uint64((1 << position_bits) - 1)
    return keys.astype(np.intp)


def _run_starts(ordered: np.ndarray) -> np.ndarray:
    """Positions where a run of equal values starts in a sorted, non-empty array."""
    starts = np.empty(len(ordered), dtype=bool)
    starts[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    return np.flatnonzero(starts)


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
    run_starts = np.cumsum(counts) - counts
    total = int(run_starts[-1] + counts[-1]) if len(counts) else 0
    rows = np.repeat(np.arange(len(counts)), counts)
    # Partner p of row k sits at starts[k] + p - run_starts[k].
    positions = np.arange(total, dtype=np.intp)
    positions += np.take(starts - run_starts, rows)
    return rows, positions


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
    widths, radii = _plan(queries.shape[1], max_distance, len(index))
    layout = _chunk_layout(queries.shape[1], widths)
    query_chunks = [_chunk_values(queries, chunk) for chunk in layout]
    index_chunks = query_chunks if same_set else [_chunk_values(index, c) for c in layout]
    search = _Search(
        queries, index, query_chunks, index_chunks, radii, max_distance, same_set,
        block_pairs, cancel,
    )
    # Each chunk is split into tasks (groups of probe masks) that two threads share:
    # numpy releases the GIL in the heavy loops. The next chunk's tables are built while
    # the current one is probed; blocks and progress come out on the calling thread.
    with ThreadPoolExecutor(max_workers=JOIN_THREADS) as pool:
        try:
            tables: Future[_Tables] = pool.submit(search.tables, 0, widths[0])
            for c in range(len(layout)):
                table = tables.result()
                pending = [pool.submit(search.probe, table, masks) for masks in table.tasks]
                if c + 1 < len(layout):
                    tables = pool.submit(search.tables, c + 1, widths[c + 1])
                for future in pending:
                    yield from future.result()
                del table, pending
                if progress is not None:
                    progress(c + 1, len(layout))
        finally:
            search.stop = True


@dataclass(slots=True)
class _Tables:
    """One chunk's bucket tables, with both sides' words in chunk order: bucket reads
    and verification then walk memory nearly sequentially."""

    chunk: int
    width: int
    sorted_chunk: np.ndarray
    """The queries' chunk values, ascending (intp)."""
    sorted_index: np.ndarray
    """The index's chunk values, ascending (intp): bucket k is the run of k in it."""
    query_order: np.ndarray
    index_order: np.ndarray
    query_words: list[np.ndarray]
    index_words: list[np.ndarray]
    bucket_starts: np.ndarray
    """Position in sorted_index of each bucket's first item; set for filled buckets only
    (the others hold garbage)."""
    filled: np.ndarray
    """uint8 items per bucket, _FULL for that many or more."""
    tasks: list[list[int]]
    """Probe masks, in groups of similar cost (one group per thread task)."""


class _Search:
    """One join's shared arrays; `tables(c)` then `probe(tables, masks)` finds the pairs
    first seen in chunk c."""

    def __init__(
        self,
        queries: np.ndarray,
        index: np.ndarray,
        query_chunks: list[np.ndarray],
        index_chunks: list[np.ndarray],
        radii: list[int],
        max_distance: int,
        same_set: bool,
        block_pairs: int,
        cancel: CancelToken | None,
    ) -> None:
        self.queries, self.index = queries, index
        self.query_chunks, self.index_chunks = query_chunks, index_chunks
        self.radii, self.max_distance = radii, max_distance
        self.same_set, self.block_pairs, self.cancel = same_set, block_pairs, cancel
        self.stop = False

    def _check(self) -> None:
        if self.stop or (self.cancel is not None and self.cancel.cancelled):
            raise Cancelled

    def tables(self, c: int, width: int) -> _Tables:
        self._check()
        index_chunk = self.index_chunks[c]
        order = _stable_order(index_chunk, width)
        sorted_index = index_chunk[order]
        # Buckets from the runs of equal values in sorted order: only the filled entries
        # are written (and read: a probe looks a bucket up only where `filled` is set),
        # not a dense count and prefix sum over all 2**width values.
        run_starts = _run_starts(sorted_index)
        values = sorted_index[run_starts]
        bucket_starts = np.empty(1 << width, dtype=np.int32)
        bucket_starts[values] = run_starts
        filled = np.zeros(1 << width, dtype=np.uint8)
        filled[values] = np.minimum(np.diff(run_starts, append=len(sorted_index)), _FULL)
        query_order = (
            order if self.same_set else _stable_order(self.query_chunks[c], width)
        )
        index_words = [self.index[:, w][order] for w in range(self.index.shape[1])]
        query_words = (
            index_words
            if self.same_set
            else [self.queries[:, w][query_order] for w in range(self.queries.shape[1])]
        )
        return _Tables(
            chunk=c,
            width=width,
            sorted_chunk=sorted_index if self.same_set else self.query_chunks[c][query_order],
            sorted_index=sorted_index,
            query_order=query_order,
            index_order=order,
            query_words=query_words,
            index_words=index_words,
            bucket_starts=bucket_starts,
            filled=filled,
            tasks=self._tasks(width, self.radii[c]),
        )

    def _tasks(self, width: int, radius: int) -> list[list[int]]:
        masks = _probe_masks(width, radius)
        if not self.same_set:
            groups = max(1, min(len(masks), 4 * JOIN_THREADS))
            return [masks[k::groups] for k in range(groups)]
        # Grouped by highest bit (see _probe_subset), the big groups first.
        by_top: dict[int, list[int]] = {}
        for mask in masks:
            by_top.setdefault(mask.bit_length(), []).append(mask)
        return sorted(by_top.values(), key=len, reverse=True)

    def probe(self, t: _Tables, masks: list[int]) -> list[PairBlock]:
        found: list[PairBlock] = []
        if self.same_set and masks[0] == 0:
            found.extend(self._within_buckets(t))
            return found
        positions: np.ndarray | None = None
        values = t.sorted_chunk
        if self.same_set and len(masks) >= SUBSET_MIN_MASKS:
            # Buckets k and k ^ mask hold the same pairs seen from either side: read them
            # from the side whose highest mask bit is clear.
            top = np.intp(1 << (masks[0].bit_length() - 1))
            positions = np.flatnonzero((values & top) == 0)
            values = values[positions]
        # Several masks per numpy call (a row each): the same lookups in fewer, longer
        # calls. Pairs come out in another order, which no caller depends on.
        items = max(len(values), 1)
        rows = max(1, min(len(masks), PROBE_ITEMS // items))
        probed = np.empty((rows, len(values)), dtype=np.intp)
        filled = np.empty((rows, len(values)), dtype=np.uint8)
        hit = np.empty((rows, len(values)), dtype=bool)
        for start in range(0, len(masks), rows):
            self._check()
            batch = np.array(masks[start : start + rows], dtype=np.intp)
            k = len(batch)
            np.bitwise_xor(values[None, :], batch[:, None], out=probed[:k])
            np.take(t.filled, probed[:k], out=filled[:k], mode="clip")
            np.not_equal(filled[:k], 0, out=hit[:k])  # nonzero() is ~3x faster on bools
            at = np.flatnonzero(hit[:k])
            if len(at) == 0:
                continue
            targets = np.take(probed[:k], at)
            counts = np.take(filled[:k], at)
            at %= items
            query_at = at if positions is None else np.take(positions, at)
            if self.same_set and positions is None:
                upward = np.flatnonzero(targets > np.take(t.sorted_chunk, query_at))
                query_at, targets = np.take(query_at, upward), np.take(targets, upward)
                counts = np.take(counts, upward)
            found.extend(self._read_buckets(t, query_at, targets, counts))
        return found

    def _read_buckets(
        self, t: _Tables, query_at: np.ndarray, targets: np.ndarray, counts: np.ndarray
    ) -> Iterator[PairBlock]:
        """Pairs of each query with every item of its target bucket (`counts`: t.filled
        of each): the bucket's first item for all (most buckets hold one), then the rest
        of the crowded ones."""
        lo = np.take(t.bucket_starts, targets)
        yield from self._verify(t, query_at, lo)
        crowded = np.flatnonzero(counts > 1)
        if len(crowded) == 0:
            return
        query_at, lo, counts = query_at[crowded], lo[crowded], counts[crowded]
        counts = counts.astype(np.intp)
        full = np.flatnonzero(counts == _FULL)
        if len(full):
            ends = np.searchsorted(t.sorted_index, targets[crowded][full], side="right")
            counts[full] = ends - lo[full]
        yield from self._expanded(t, query_at, lo + 1, counts - 1)

    def _expanded(
        self, t: _Tables, query_at: np.ndarray, lo: np.ndarray, counts: np.ndarray
    ) -> Iterator[PairBlock]:
        for start, end in _block_bounds(counts, self.block_pairs):
            rows, positions = _expand(lo[start:end], counts[start:end])
            yield from self._verify(t, query_at[start:end][rows], positions)

    def _within_buckets(self, t: _Tables) -> Iterator[PairBlock]:
        """Mask 0 of a self-join: each item with the items after it in its bucket."""
        run_starts = _run_starts(t.sorted_chunk)
        ends = np.diff(run_starts, append=len(t.sorted_chunk))
        ends += run_starts
        # Items after each one in its bucket: its run's end, less its position, less 1.
        counts = np.repeat(ends, np.diff(ends, prepend=0))
        counts -= np.arange(1, len(counts) + 1)
        crowded = np.flatnonzero(counts > 0)
        yield from self._expanded(t, crowded, (crowded + 1).astype(np.intp), counts[crowded])

    def _verify(
        self, t: _Tables, query_at: np.ndarray, index_at: np.ndarray
    ) -> Iterator[PairBlock]:
        if len(query_at) == 0:
            return
        # Word by word, dropping pairs as soon as they are too far: most candidates are
        # chance bucket-mates and fail on the first word.
        distance: np.ndarray | None = None
        for query_word, index_word in zip(t.query_words, t.index_words, strict=True):
            bits = np.bitwise_count(
                np.bitwise_xor(np.take(query_word, query_at), np.take(index_word, index_at))
            )
            distance = bits if distance is None else distance + bits
            keep = np.flatnonzero(distance <= self.max_distance)
            if len(keep) == 0:
                return
            if len(keep) < len(query_at):
                query_at, index_at = np.take(query_at, keep), np.take(index_at, keep)
                distance = np.take(distance, keep)
        assert distance is not None
        first = np.take(t.query_order, query_at).astype(np.int64, copy=False)
        second = np.take(t.index_order, index_at).astype(np.int64, copy=False)
        # Report each pair from the first chunk within its probe radius only.
        keep = np.ones(len(first), dtype=bool)
        for earlier in range(t.chunk):
            chunk_distance = np.bitwise_count(
                self.query_chunks[earlier][first] ^ self.index_chunks[earlier][second]
            )
            keep &= chunk_distance > self.radii[earlier]
        if keep.any():
            first, second = first[keep], second[keep]
            if self.same_set:
                first, second = np.minimum(first, second), np.maximum(first, second)
            yield first, second, distance[keep].astype(np.uint8)


def _equal_runs(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(record ids ordered so equal rows are adjacent, ascending within a run; start of
    each run; its length). Sorted by the first word, then runs that share it by the
    rest: np.unique(axis=0) compares whole rows and takes seconds at a million."""
    order = np.argsort(hashes[:, 0], kind="stable")
    ordered = hashes[order]
    tied = np.flatnonzero(ordered[1:, 0] == ordered[:-1, 0])
    if len(tied) and hashes.shape[1] > 1:
        run = np.cumsum(np.r_[True, ordered[1:, 0] != ordered[:-1, 0]])
        involved = distinct(np.concatenate([tied, tied + 1]))
        keys = [ordered[involved, w] for w in range(hashes.shape[1] - 1, 0, -1)]
        within = np.lexsort((*keys, run[involved]))
        order[involved] = order[involved][within]
        ordered = hashes[order]
    differs = np.any(ordered[1:] != ordered[:-1], axis=1)
    starts = np.flatnonzero(np.r_[True, differs])
    lengths = np.diff(np.r_[starts, len(hashes)])
    return order, starts, lengths


def _shared_pairs(
    members: np.ndarray, starts: np.ndarray, lengths: np.ndarray, block_pairs: int
) -> Iterator[PairBlock]:
    """Pairs of records that share one hash value exactly, at distance 0: runs of one
    length together (one upper triangle for all), a run too big for a block in rows."""
    shared = np.flatnonzero(lengths > 1)
    for length in distinct(lengths[shared]).tolist():
        runs = shared[lengths[shared] == length]
        first, second = np.triu_indices(length, k=1)
        if len(first) > block_pairs:
            for run in runs.tolist():
                ids = members[starts[run] : starts[run] + length]
                rows = np.arange(length - 1)
                for start, end in _block_bounds(length - 1 - rows, block_pairs):
                    at, partner = _expand(rows[start:end] + 1, length - 1 - rows[start:end])
                    a, b = ids[rows[start:end][at]], ids[partner]
                    yield np.minimum(a, b), np.maximum(a, b), np.zeros(len(a), np.uint8)
            continue
        step = max(1, block_pairs // len(first))
        for start in range(0, len(runs), step):
            ids = members[starts[runs[start : start + step]][:, None] + np.arange(length)]
            a, b = ids[:, first].reshape(-1), ids[:, second].reshape(-1)
            yield np.minimum(a, b), np.maximum(a, b), np.zeros(len(a), np.uint8)


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
    members, member_starts, multiplicity = _equal_runs(hashes)
    distinct = hashes[members[member_starts]]
    yield from _shared_pairs(members, member_starts, multiplicity, block_pairs)

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
