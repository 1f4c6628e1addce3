"""Warm rescan of an unchanged library of 10,000 files: it should only stat files.

Builds (once, in benchmarks/_data/) 10,000 small distinct JPEGs in 100 folders, fills a fresh
cache with one cold scan, then times warm rescans against a floor measured in the same run:
a bare os.scandir + stat walk of the same tree. Tiny files are fine here: a warm rescan never
opens them. Exits non-zero only on an error, never on a missed target.

    python benchmarks/bench_warm_rescan.py [--files 10000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from dedup_gui.core.scanning.cache import CACHE_FILE_NAME, HashCache
from dedup_gui.core.scanning.scanner import ScanOptions, scan

DATA_DIR = Path(__file__).resolve().parent / "_data"
FILES_PER_FOLDER = 100
TARGET_SECONDS = 2.0


def ensure_library(count: int) -> Path:
    root = DATA_DIR / f"warm_library_{count}"
    done_marker = root / ".complete"
    if done_marker.exists():
        return root
    rng = np.random.default_rng(7)
    for index in range(count):
        folder = root / f"album_{index // FILES_PER_FOLDER:03}"
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels).resize((64, 48)).save(buffer, "JPEG", quality=85)
        (folder / f"img_{index:05}.jpg").write_bytes(buffer.getvalue())
    done_marker.write_text("complete\n")  # hidden: the scanner skips it
    return root


def stat_walk(root: Path) -> int:
    """The floor: list every folder and stat every file, nothing else."""
    count = 0
    pending = [str(root)]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_dir():
                    pending.append(entry.path)
                else:
                    entry.stat()
                    count += 1
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    root = ensure_library(args.files)
    with (
        tempfile.TemporaryDirectory() as cache_dir,
        HashCache(Path(cache_dir) / CACHE_FILE_NAME) as cache,
    ):
        started = time.perf_counter()
        cold = scan([root], cache=cache, options=ScanOptions())
        cold_seconds = time.perf_counter() - started
        if cold.hashed != args.files or cold.errors:
            raise RuntimeError(f"cold scan hashed {cold.hashed}, errors {cold.errors[:3]}")

        warm_times, floor_times, warm_cpu = [], [], []
        for _ in range(args.rounds):
            started = time.perf_counter()
            stat_walk(root)
            floor_times.append(time.perf_counter() - started)
            started, started_cpu = time.perf_counter(), time.process_time()
            warm = scan([root], cache=cache)
            warm_times.append(time.perf_counter() - started)
            warm_cpu.append(time.process_time() - started_cpu)
            if warm.from_cache != args.files or warm.hashed:
                raise RuntimeError(f"warm scan: {warm.from_cache} cached, {warm.hashed} hashed")
        cache_mb = cache.path.stat().st_size / 1e6

    best, median = min(warm_times), statistics.median(warm_times)
    floor = min(floor_times)
    print(
        f"library: {args.files} unchanged JPEGs in {args.files // FILES_PER_FOLDER} folders; "
        f"cache {cache_mb:.1f} MB; cold scan {cold_seconds:.1f} s"
    )
    print()
    print(f"{'measure':40} {'seconds':>8} {'target':>8}")
    verdict = "met" if best <= TARGET_SECONDS else "MISSED"
    print(
        f"{f'warm rescan, best of {args.rounds}':40} {best:8.3f} {TARGET_SECONDS:8.2f}  {verdict}"
    )
    print(f"{'warm rescan, median':40} {median:8.3f}")
    print(f"{'warm rescan, cpu, best':40} {min(warm_cpu):8.3f}   (load {os.getloadavg()[0]:.1f})")
    print(f"{'floor: scandir + stat walk, best':40} {floor:8.3f}")
    print(f"{'warm rescan / floor':40} {best / floor:8.1f}")
    print(f"{'per file, microseconds':40} {best / args.files * 1e6:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
