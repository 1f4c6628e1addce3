"""Candidate search at scale: all pairs within the loosest slider setting.

    python benchmarks/bench_candidates.py [--sizes 10000 100000 1000000]

Signatures are (pHash, dHash) pairs, 128 bits, joined at radius 16 (8 bits of each on
average: MIN_SIMILARITY), exactly what SimilarityIndex.build searches. Two distributions:
- uniform: random bits, plus 10% planted near-duplicates (0-16 bits flipped);
- clustered: real pHash/dHash (imagehash's algorithms, vectorised) of distinct 32x32
  windows of scikit-image's sample photos (non-overlapping, 12 scales, each channel, 8
  orientations: ~2M), so bits correlate and low-detail windows (skies, blank paper)
  crowd together; plus 5% generated low-detail windows (noisy gradients, flat frames)
  and 10% planted near-duplicates (0-8 bits flipped in each hash).
Baseline in the same run: vectorised brute-force XOR + popcount in blocks, timed on a
sample of rows and scaled to all n^2/2 pairs. Memory: the join's own peak allocation
(tracemalloc, which sees numpy's buffers) and the whole process's peak RSS (which also
holds the generated test data).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from scipy.fft import dctn

sys.path.insert(0, str(Path(__file__).parent))
from eval_variants import sample_photos

from dedup_gui.core.grouping.candidates import self_join
from dedup_gui.core.grouping.similarity import MIN_SIMILARITY, similarity_to_distance

RADIUS = 2 * similarity_to_distance(MIN_SIMILARITY)
WINDOW = 32


def pack_bits(bits: np.ndarray) -> np.ndarray:
    return np.packbits(bits, axis=1).view(">u8").astype(np.uint64).reshape(-1)


def uniform(n: int, rng: np.random.Generator) -> np.ndarray:
    base = rng.integers(0, 2**64, (n - n // 10, 2), dtype=np.uint64, endpoint=False)
    copies = base[rng.integers(0, len(base), n // 10)].copy()
    flips = rng.integers(0, RADIUS + 1, len(copies))
    for k, count in enumerate(flips.tolist()):
        for bit in rng.choice(128, count, replace=False).tolist():
            copies[k, bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    return np.concatenate([base, copies])


def _hashes_of_windows(windows: np.ndarray) -> np.ndarray:
    """(pHash, dHash) of float32 (B, 32, 32) grayscale windows, as imagehash computes them."""
    coefficients = dctn(windows, type=2, axes=(1, 2))[:, :8, :8].reshape(len(windows), 64)
    phash = pack_bits(coefficients > np.median(coefficients, axis=1, keepdims=True))
    rows = windows.reshape(len(windows), 8, 4, WINDOW).mean(axis=2)
    columns = np.linspace(0, WINDOW - 1, 9)
    left = np.floor(columns).astype(int)
    right = np.minimum(left + 1, WINDOW - 1)
    weight = (columns - left).astype(np.float32)
    small = rows[:, :, left] * (1 - weight) + rows[:, :, right] * weight
    dhash = pack_bits((small[:, :, 1:] > small[:, :, :-1]).reshape(len(windows), 64))
    return np.stack([phash, dhash], axis=1)


def _all_windows(rng: np.random.Generator) -> np.ndarray:
    """(pHash, dHash) of every non-overlapping 32x32 window of the sample photos at 12
    scales, in each colour channel and luminance, under the 8 flips and rotations:
    about two million distinct but correlated pictures."""
    out = []
    for image in sample_photos().values():
        for plane_image in (image.convert("L"), *image.split()):
            for scale in np.geomspace(40 / min(plane_image.size), 1.0, 12):
                size = (
                    max(WINDOW, int(plane_image.width * scale)),
                    max(WINDOW, int(plane_image.height * scale)),
                )
                plane = np.asarray(plane_image.resize(size), dtype=np.float32)
                rows, columns = plane.shape[0] // WINDOW, plane.shape[1] // WINDOW
                tiles = (
                    plane[: rows * WINDOW, : columns * WINDOW]
                    .reshape(rows, WINDOW, columns, WINDOW)
                    .swapaxes(1, 2)
                    .reshape(-1, WINDOW, WINDOW)
                )
                for turns in range(4):
                    turned = np.rot90(tiles, turns, axes=(1, 2))
                    out.append(_hashes_of_windows(np.ascontiguousarray(turned)))
                    out.append(_hashes_of_windows(np.ascontiguousarray(turned[:, :, ::-1])))
    hashes = np.unique(np.concatenate(out), axis=0)
    return hashes[rng.permutation(len(hashes))]


_WINDOW_CACHE: list[np.ndarray] = []


def clustered(n: int, rng: np.random.Generator) -> np.ndarray:
    """Real-photo windows (see _all_windows), 5% low-detail windows (noisy gradients and
    flat frames), and 10% planted near-duplicates (a window re-hashed with noise)."""
    if not _WINDOW_CACHE:
        _WINDOW_CACHE.append(_all_windows(rng))
    windows = _WINDOW_CACHE[0]
    low_detail, planted = n // 20, n // 10
    photo = windows[: n - low_detail - planted]
    ys, xs = np.mgrid[0:WINDOW, 0:WINDOW].astype(np.float32) / (WINDOW - 1)
    angle = rng.random(low_detail) * 2 * np.pi
    ramp = np.cos(angle)[:, None, None] * xs + np.sin(angle)[:, None, None] * ys
    contrast = np.where(rng.random(low_detail) < 0.5, 0.0, rng.random(low_detail) * 80)
    flat = rng.random(low_detail)[:, None, None] * 255 + contrast[:, None, None] * ramp
    flat += rng.normal(0, 1.5, flat.shape).astype(np.float32)
    smooth = _hashes_of_windows(flat.astype(np.float32))
    copies = photo[rng.integers(0, len(photo), planted)].copy()
    flips = rng.integers(0, RADIUS // 2 + 1, (planted, 2))
    for k, (phash_flips, dhash_flips) in enumerate(flips.tolist()):
        for word, count in ((0, phash_flips), (1, dhash_flips)):
            for bit in rng.choice(64, count, replace=False).tolist():
                copies[k, word] ^= np.uint64(1) << np.uint64(bit)
    return np.concatenate([photo, smooth, copies])


def brute_force_seconds(hashes: np.ndarray, sample_rows: int = 200) -> float:
    """Blocked XOR + popcount of `sample_rows` rows against all, scaled to n^2/2 pairs."""
    rows = hashes[:sample_rows]
    started = time.perf_counter()
    found = 0
    for block in range(0, len(hashes), 1 << 16):
        distance = np.bitwise_count(rows[:, None, :] ^ hashes[None, block : block + (1 << 16)])
        found += int((distance.sum(axis=2, dtype=np.uint8) <= RADIUS).sum())
    per_row = (time.perf_counter() - started) / len(rows)
    return per_row * len(hashes) / 2


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--distributions", nargs="+", default=["uniform", "clustered"])
    args = parser.parse_args()
    print(f"radius {RADIUS} of 128 bits (pHash + dHash), MIN_SIMILARITY {MIN_SIMILARITY}%")
    print(f"{'distribution':>12} {'n':>9} {'pairs':>11} {'MIH s':>8} {'brute s':>9} "
          f"{'speed-up':>8} {'join MB':>8} {'RSS MB':>7}")
    rng = np.random.default_rng(2024)
    for distribution in args.distributions:
        previous = None
        for n in args.sizes:
            hashes = uniform(n, rng) if distribution == "uniform" else clustered(n, rng)
            tracemalloc.start()
            started = time.perf_counter()
            pairs = sum(len(first) for first, _, _ in self_join(hashes, RADIUS))
            seconds = time.perf_counter() - started
            join_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            brute = brute_force_seconds(hashes)
            growth = f"  x{seconds / previous:.1f} time for x10 n" if previous else ""
            previous = seconds
            print(f"{distribution:>12} {n:>9} {pairs:>11} {seconds:>8.2f} {brute:>9.1f} "
                  f"{brute / seconds:>7.1f}x {join_peak_mb:>8.0f} {peak_rss_mb():>7.0f}{growth}",
                  flush=True)


if __name__ == "__main__":
    main()
