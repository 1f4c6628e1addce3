"""The deep candidate search finds every close pair (exact), at most a few neighbours per
image, and its ANN path finds the pairs the exact one does (numpy; faiss for the ANN)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from dedup_gui.core.deep.search import candidate_pairs, cosines, exact_pairs


def _planted(count: int, pairs: int, cosine: float, seed: int = 0):
    """Random unit descriptors with an anisotropic spectrum (as real ones), and `pairs`
    planted near-copies at about `cosine`."""
    rng = np.random.default_rng(seed)
    scale = 1.0 / np.sqrt(1 + np.arange(512) / 32)
    base = rng.standard_normal((count, 512)) * scale
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    originals = rng.choice(count - pairs, pairs, replace=False)
    copies = count - pairs + np.arange(pairs)
    noise = rng.standard_normal((pairs, 512)) * scale
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    mixed = cosine * base[originals] + np.sqrt(1 - cosine**2) * noise
    base[copies] = mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
    truth = {(int(min(a, b)), int(max(a, b))) for a, b in zip(originals, copies, strict=True)}
    return base.astype(np.float16), truth


def _brute_force(vectors: np.ndarray, min_cosine: float) -> set[tuple[int, int]]:
    full = vectors.astype(np.float32)
    scores = full @ full.T
    first, second = np.nonzero(np.triu(scores >= min_cosine, 1))
    return set(zip(first.tolist(), second.tolist(), strict=True))


def test_exact_search_finds_exactly_the_pairs_above_the_threshold():
    vectors, truth = _planted(3000, 40, 0.8)
    first, second, cosine = exact_pairs(vectors, 0.6)
    found = set(zip(first.tolist(), second.tolist(), strict=True))
    assert found == _brute_force(vectors, 0.6)
    assert truth <= found
    assert (first < second).all() and (cosine >= 0.6).all()


def test_rows_without_a_descriptor_pair_with_nothing():
    vectors, truth = _planted(500, 10, 0.95)
    present = np.ones(len(vectors), bool)
    dropped = next(iter(truth))[1]
    present[dropped] = False
    first, second, _ = candidate_pairs(vectors, 0.9, present=present)
    assert dropped not in set(first.tolist()) | set(second.tolist())
    assert len(first) == len(truth) - 1


def test_an_image_like_many_others_keeps_only_its_nearest():
    rng = np.random.default_rng(1)
    centre = rng.standard_normal(512)
    crowd = centre + 0.3 * rng.standard_normal((200, 512))  # flat images: all alike
    crowd /= np.linalg.norm(crowd, axis=1, keepdims=True)
    first, second, _ = exact_pairs(crowd.astype(np.float16), 0.5, neighbours=5)
    degree = np.bincount(np.concatenate([first, second]), minlength=200)
    assert len(first) <= 200 * 5
    assert degree.min() >= 5  # each keeps its own nearest five


@pytest.mark.skipif(importlib.util.find_spec("faiss") is None, reason="faiss-cpu not installed")
def test_the_ann_search_finds_the_planted_copies():
    vectors, truth = _planted(20_000, 300, 0.8, seed=2)
    first, second, cosine = candidate_pairs(vectors, 0.6, exact_limit=1000)
    found = set(zip(first.tolist(), second.tolist(), strict=True))
    recall = len(truth & found) / len(truth)
    assert recall >= 0.9
    assert (cosine >= 0.6).all()
    # the similarity shown for a pair is its full descriptors' cosine, not the projection's
    assert np.abs(cosine - cosines(vectors, first, second)).max() < 1e-3


@pytest.mark.skipif(importlib.util.find_spec("faiss") is None, reason="faiss-cpu not installed")
def test_a_cancelled_ann_search_stops():
    from dedup_gui.core.grouping.candidates import Cancelled
    from dedup_gui.core.models import CancelToken

    vectors, _ = _planted(5000, 10, 0.9)
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        candidate_pairs(vectors, 0.6, exact_limit=1000, cancel=cancel)


def test_a_cancelled_search_stops_with_the_index_builds_cancel():
    from dedup_gui.core.grouping.candidates import Cancelled
    from dedup_gui.core.models import CancelToken

    vectors, _ = _planted(3000, 10, 0.9)
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        exact_pairs(vectors, 0.6, cancel=cancel)
