"""Slider regroup at 100,000 images: how long `SimilarityIndex.groups` takes when the
similarity setting changes, and how long dropping trashed images from the index takes,
each against a full rebuild measured in the same run.

    python benchmarks/bench_regroup.py [--count 100000] [--no-transforms]

Records are synthetic: random hashes and 16x16 thumbnails, with 30% of them in families
of 2-6 near copies (a few hash bits flipped, thumbnail noise), so every slider position
has tens of thousands of groups to cut, rank and build.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.similarity import MIN_SIMILARITY, similarity_to_distance
from dedup_gui.core.models import ImageRecord

SLIDER_MOVES = (90, 88, 93, 87, 95, 91, 89, 96, 90, 92, 87, 94)


def synthetic_records(count: int, seed: int = 1) -> list[ImageRecord]:
    rng = np.random.default_rng(seed)
    records: list[ImageRecord] = []
    while len(records) < count:
        phash, dhash = (int(v) for v in rng.integers(0, 2**63, 2))
        micro = rng.integers(0, 256, 768, dtype=np.uint8)
        copies = int(rng.integers(2, 7)) if rng.random() < 0.1 else 1
        for _ in range(min(copies, count - len(records))):
            flips = rng.choice(64, int(rng.integers(0, 5)), replace=False).tolist()
            noisy = np.clip(micro + rng.integers(-3, 4, 768), 0, 255).astype(np.uint8)
            p = phash ^ sum(1 << b for b in flips)
            k = len(records)
            records.append(
                ImageRecord(
                    path=f"/library/{k // 1000:03d}/IMG_{k:06d}.jpg",
                    size=int(rng.integers(500_000, 8_000_000)),
                    mtime_ns=0,
                    width=int(rng.choice([4000, 2000, 1024])),
                    height=3000,
                    format="JPEG",
                    capture_time=None,
                    dhash=dhash ^ sum(1 << b for b in flips[:2]),
                    phash=p,
                    phash_dihedral=(p,) * 8,
                    micro=noisy.tobytes(),
                )
            )
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--no-transforms", action="store_true",
                        help="skip the match_transforms build (minutes at a million)")
    args = parser.parse_args()
    records = synthetic_records(args.count)

    started = time.perf_counter()
    index = SimilarityIndex.build(records)
    build_seconds = time.perf_counter() - started

    started = time.perf_counter()
    groups = index.groups(MIN_SIMILARITY)
    first_ms = (time.perf_counter() - started) * 1000

    timings = []
    sizes = []
    # A move that takes in merges no earlier move took cuts the dendrogram anew (new
    # groups to build); one back to a cut seen before may be answered from what that cut
    # left. (The merge heights are the index's own, read here only to tell the two apart.)
    new_cuts: list[float] = []
    seen = {len(index._merge_height)}
    for similarity in SLIDER_MOVES:
        started = time.perf_counter()
        groups = index.groups(similarity)
        timings.append((time.perf_counter() - started) * 1000)
        sizes.append(len(groups))
        cut = int(np.searchsorted(
            index._merge_height, similarity_to_distance(similarity), side="right"
        ))
        if cut not in seen:
            seen.add(cut)
            new_cuts.append(timings[-1])

    started = time.perf_counter()
    index.groups(90, reference_folders=["/library/007"])
    new_reference_ms = (time.perf_counter() - started) * 1000

    # After a trash: 1% of the images (spread across the library) leave the index.
    trashed = {r.path for r in records[::100]}
    started = time.perf_counter()
    index.without(trashed)
    without_seconds = time.perf_counter() - started

    transforms_seconds = None
    if not args.no_transforms:
        started = time.perf_counter()
        SimilarityIndex.build(records, match_transforms=True)
        transforms_seconds = time.perf_counter() - started

    median = statistics.median(timings)
    print(f"{args.count} images, {index.pair_count} verified pairs, "
          f"{min(sizes)}-{max(sizes)} groups across the slider")
    print(f"full build (baseline)            {build_seconds * 1000:9.0f} ms")
    if transforms_seconds is not None:
        print(f"full build with match_transforms {transforms_seconds * 1000:9.0f} ms "
              f"({transforms_seconds / build_seconds:.1f}x)")
    print(f"first groups() call              {first_ms:9.1f} ms")
    speedup = build_seconds * 1000 / median
    print(f"slider move, median of {len(timings):2d}       {median:9.1f} ms "
          f"(max {max(timings):.1f} ms; {speedup:.0f}x faster than a rebuild)")
    if new_cuts:
        print(f"moves to a new cut ({len(new_cuts)})        {statistics.median(new_cuts):9.1f} ms "
              f"median (max {max(new_cuts):.1f} ms)")
    print(f"new reference folder (re-rank)   {new_reference_ms:9.1f} ms")
    print(f"drop 1% of the images (a trash)  {without_seconds * 1000:9.0f} ms "
          f"({build_seconds / without_seconds:.0f}x faster than a rebuild)")


if __name__ == "__main__":
    main()
