"""The rewritten candidate search yields exactly the pairs (and distances) the previous one
yielded (frozen in candidates_reference.py), on hash sets built like real libraries:
near-copy families at every distance up to the radius and just past it (some with
their flips spread evenly over all bits but one stretch: the pairs at the edge of the
pigeonhole bound), exact duplicates,
crowds of flat-image hashes in one chunk value, and the turned (dihedral) join of one
word against another set."""

from __future__ import annotations

import candidates_reference as reference
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup_gui.core.grouping import candidates


def library_hashes(seed: int, count: int, words: int, radius: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 2**64, (count, words), dtype=np.uint64, endpoint=False)
    # Near copies at every distance from 0 to just past the radius.
    copies = base[rng.integers(0, count, count // 3)].copy()
    for row in copies:
        for bit in rng.choice(64 * words, rng.integers(0, radius + 4), replace=False).tolist():
            row[bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    # Copies whose flips are spread evenly over the bits, except one stretch (at the same
    # place in every word) left nearly clean: the chunks of the search then differ by
    # about as much as each other, or not at all, the pairs at the edge of the pigeonhole.
    spread = base[rng.integers(0, count, count // 2)].copy()
    for row in spread:
        clean_start = int(rng.integers(0, 64))
        clean = (np.arange(64) - clean_start) % 64 < rng.integers(0, 20)
        allowed = np.flatnonzero(~np.tile(clean, words))
        flips = min(len(allowed), int(rng.integers(max(0, radius - 2), radius + 2)))
        if flips:
            # One flip in each of `flips` equal stretches of the allowed bits.
            edges = np.arange(flips + 1) * len(allowed) // flips
            for bit in allowed[rng.integers(edges[:-1], edges[1:])].tolist():
                row[bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    # Flat images: words that are nearly all zero or all one crowd a few chunk values.
    flat = np.where(rng.random((count // 10, words)) < 0.5, np.uint64(0), ~np.uint64(0))
    for row in flat:
        for bit in rng.choice(64 * words, rng.integers(0, 6), replace=False).tolist():
            row[bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    exact = np.repeat(base[: count // 50], rng.integers(2, 5), axis=0)
    hashes = np.concatenate([base, copies, spread, flat, exact])
    return hashes[rng.permutation(len(hashes))]


def pair_set(blocks) -> set[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    for first, second, distance in blocks:
        out.extend(zip(first.tolist(), second.tolist(), distance.tolist(), strict=True))
    assert len(out) == len(set(out)), "a pair came out twice"
    return set(out)


def both_self_joins(hashes: np.ndarray, radius: int, block_pairs: int):
    current = pair_set(candidates.self_join(hashes, radius, block_pairs=block_pairs))
    previous = pair_set(reference.self_join(hashes, radius, block_pairs=block_pairs))
    return current, previous


@pytest.fixture(autouse=True)
def _tables_always(monkeypatch):
    """Both sides search with their chunk tables even on small sets (no brute force)."""
    monkeypatch.setattr(candidates, "BRUTE_FORCE_PAIRS", 0)
    monkeypatch.setattr(reference, "BRUTE_FORCE_PAIRS", 0)


@pytest.mark.parametrize(("words", "radius"), [(2, 16), (1, 8), (2, 10), (1, 3), (2, 0)])
def test_self_join_equals_the_previous_search(words, radius):
    hashes = library_hashes(seed=words * 100 + radius, count=6000, words=words, radius=radius)
    current, previous = both_self_joins(hashes, radius, candidates.DEFAULT_BLOCK_PAIRS)
    assert current == previous
    assert any(distance == radius for _, _, distance in current)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    count=st.integers(2, 1500),
    radius=st.sampled_from([4, 8, 12, 16, 18]),
    block_pairs=st.sampled_from([7, 1000, candidates.DEFAULT_BLOCK_PAIRS]),
)
def test_self_join_equals_the_previous_search_on_generated_sets(seed, count, radius, block_pairs):
    hashes = library_hashes(seed, count, words=2, radius=radius)
    current, previous = both_self_joins(hashes, radius, block_pairs)
    assert current == previous


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(50, 3000))
def test_turned_join_equals_the_previous_search(seed, count):
    """The match_transforms join: each record's pHash turned by a dihedral transform (here
    a fixed bit permutation standing in for one) against every upright pHash, radius 8."""
    upright = library_hashes(seed, count, words=1, radius=8)[:, 0]
    rng = np.random.default_rng(seed)
    turned = upright.copy()
    swap = rng.random(len(turned)) < 0.5
    turned[swap] = (turned[swap] << np.uint64(32)) | (turned[swap] >> np.uint64(32))
    # Some turned hashes land near other records' upright hashes.
    near = rng.integers(0, len(upright), len(upright) // 5)
    turned[near[: len(near) // 2]] = upright[near[len(near) // 2 :][: len(near) // 2]]
    current = pair_set(candidates.join(turned, upright, 8))
    previous = pair_set(reference.join(turned, upright, 8))
    assert current == previous
    assert current
