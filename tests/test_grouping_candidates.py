"""The candidate search finds exactly the pairs a brute-force comparison finds."""

import numpy as np
import pytest

from dedup_gui.core.grouping import candidates
from dedup_gui.core.grouping.candidates import Cancelled, join, self_join
from dedup_gui.core.models import CancelToken


def planted(count: int, words: int, radius: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 2**63, (count, words), dtype=np.uint64) * np.uint64(2)
    copies = base[rng.integers(0, count, count // 4)].copy()
    for row in copies:
        for bit in rng.choice(64 * words, rng.integers(0, radius + 3), replace=False).tolist():
            row[bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    crowd = np.repeat(base[:1], 5, axis=0)  # identical items (a flat-image crowd)
    return np.concatenate([base, copies, crowd])


def brute_pairs(a: np.ndarray, b: np.ndarray, radius: int, same: bool) -> set[tuple[int, int]]:
    distance = np.bitwise_count(a[:, None, :] ^ b[None, :, :]).sum(axis=-1)
    within = distance <= radius
    if same:
        within = np.triu(within, k=1)
    return set(zip(*(x.tolist() for x in np.nonzero(within)), strict=True))


def found(blocks) -> list[tuple[int, int]]:
    return [
        (a, b)
        for first, second, _ in blocks
        for a, b in zip(first.tolist(), second.tolist(), strict=True)
    ]


@pytest.mark.parametrize(("words", "radius"), [(1, 8), (2, 16), (1, 3)])
@pytest.mark.parametrize("brute_limit", [0, candidates.BRUTE_FORCE_PAIRS])
def test_self_join_finds_every_pair_once(words, radius, brute_limit, monkeypatch):
    monkeypatch.setattr(candidates, "BRUTE_FORCE_PAIRS", brute_limit)
    hashes = planted(1500, words, radius, seed=words * 10 + radius)
    pairs = found(self_join(hashes, radius))
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == brute_pairs(hashes, hashes, radius, same=True)


@pytest.mark.parametrize("brute_limit", [0, candidates.BRUTE_FORCE_PAIRS])
def test_join_of_two_sets_matches_brute_force(brute_limit, monkeypatch):
    monkeypatch.setattr(candidates, "BRUTE_FORCE_PAIRS", brute_limit)
    index = planted(1200, 1, 8, seed=3)
    queries = index[::7] ^ np.uint64(0b1011)
    assert set(found(join(queries, index, 8))) == brute_pairs(queries, index, 8, same=False)


def test_distances_are_reported():
    hashes = np.array([[0b0], [0b111], [2**63 - 1]], dtype=np.uint64)
    [(first, second, distance)] = list(self_join(hashes, 3))
    assert (first.tolist(), second.tolist(), distance.tolist()) == ([0], [1], [3])


def test_a_cancelled_join_stops(monkeypatch):
    monkeypatch.setattr(candidates, "BRUTE_FORCE_PAIRS", 0)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        list(self_join(planted(500, 2, 16, seed=1), 16, cancel=token))
