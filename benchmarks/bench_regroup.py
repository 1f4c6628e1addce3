"""Slider regroup at 100,000 images: how long `SimilarityIndex.groups` takes when the
similarity setting changes, and how long dropping trashed images from the index takes,
each against a full rebuild measured in the same run.

    python benchmarks/bench_regroup.py [--count 100000] [--no-transforms] [--split]

With --split, the build is also split into its stages (signals, candidate search,
verification, linkage), each as wall and CPU seconds (CPU of all threads), by wrapping
the functions the build calls; the process's peak RSS above the records comes last.

Records are synthetic: random hashes and 16x16 thumbnails, with 30% of them in families
of 2-6 near copies (a few hash bits flipped, thumbnail noise), so every slider position
has tens of thousands of groups to cut, rank and build.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dedup_gui.core.grouping import index as index_module
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


class StageClock:
    """Wall and CPU seconds spent inside the build's stage functions (module attributes
    of index.py, wrapped in place; a generator is timed only while it computes)."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)

    def _add(self, stage: str, wall: float, cpu: float) -> None:
        self.wall[stage] += time.perf_counter() - wall
        self.cpu[stage] += time.process_time() - cpu

    def wrap(self, stage: str, function: Callable) -> Callable:
        def timed(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self._add(stage, wall, cpu)

        return timed

    def wrap_generator(self, stage: str, function: Callable) -> Callable:
        def timed(*args, **kwargs) -> Iterator:
            blocks = function(*args, **kwargs)
            while True:
                wall, cpu = time.perf_counter(), time.process_time()
                try:
                    block = next(blocks)
                except StopIteration:
                    return
                finally:
                    self._add(stage, wall, cpu)
                yield block

        return timed

    def install(self) -> None:
        signals = index_module.Signals
        from_records = signals.from_records.__func__
        signals.from_records = classmethod(self.wrap("signals", from_records))
        candidates = index_module.candidates
        candidates.self_join = self.wrap_generator("candidates", candidates.self_join)
        index_module.evaluate_pairs = self.wrap("verification", index_module.evaluate_pairs)
        index_module.minimax_linkage = self.wrap("linkage", index_module.minimax_linkage)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--no-transforms", action="store_true",
                        help="skip the match_transforms build (minutes at a million)")
    parser.add_argument("--split", action="store_true",
                        help="time the build's stages (wall and CPU) and the peak RSS")
    args = parser.parse_args()
    records = synthetic_records(args.count)
    records_rss_mb = peak_rss_mb()
    clock = StageClock()
    if args.split:
        clock.install()

    started, started_cpu = time.perf_counter(), time.process_time()
    index = SimilarityIndex.build(records)
    build_seconds = time.perf_counter() - started
    build_cpu = time.process_time() - started_cpu
    build_rss_mb = peak_rss_mb()
    # The stages of this build only (the match_transforms build below goes through them too).
    stage_wall, stage_cpu = dict(clock.wall), dict(clock.cpu)

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
    print(f"full build (baseline)            {build_seconds * 1000:9.0f} ms "
          f"(CPU {build_cpu:.1f} s)")
    if args.split:
        for stage in ("signals", "candidates", "verification", "linkage"):
            print(f"  {stage:<12} {stage_wall[stage]:7.2f} s wall {stage_cpu[stage]:7.2f} s CPU")
        rest = build_seconds - sum(stage_wall.values())
        print(f"  {'rest':<12} {rest:7.2f} s wall")
        print(f"  peak RSS after the build {build_rss_mb:.0f} MB, "
              f"{build_rss_mb - records_rss_mb:.0f} MB above the records")
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
