"""Time and peak memory of one full `SimilarityIndex.build` (the step after a scan).

    python benchmarks/bench_build_memory.py [--count 100000]

Uses bench_regroup's synthetic records (random hashes and thumbnails, 30% in families of
near copies). Reports the process RSS once the records exist (the baseline, measured in
the same run) and how far above it the build peaks, sampled every 50 ms.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench_regroup import synthetic_records

from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.similarity import MIN_SIMILARITY


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    process = psutil.Process()
    records = synthetic_records(args.count)
    baseline = process.memory_info().rss / 2**20
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss / 2**20)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    index = SimilarityIndex.build(records)
    seconds = time.perf_counter() - start
    build_peak = peak
    # Then the slider: the groups at the loosest setting and at 96% (with the current
    # code, every cut the slider can reach), all held by the index.
    index.groups(MIN_SIMILARITY)
    index.groups(96)
    done.set()
    sampler.join()
    held = process.memory_info().rss / 2**20
    print(f"{args.count} images, {index.pair_count} verified pairs")
    print(f"records in memory (baseline)   {baseline:8.0f} MB")
    print(f"build                          {seconds:8.1f} s")
    print(f"peak during build              {build_peak:8.0f} MB  (+{build_peak - baseline:.0f} MB)")
    print(f"peak with the slider's groups  {peak:8.0f} MB  (+{peak - baseline:.0f} MB; "
          f"+{held - baseline:.0f} MB held after)")


if __name__ == "__main__":
    main()
