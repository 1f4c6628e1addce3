"""Cold hashing throughput of the scanner on realistic 12-megapixel JPEGs.

Reports, from one run on one machine (so the ratios hold even on a noisy machine):
- throughput of `scanner.scan` with 1 worker and with all workers (threads and processes),
- ratios against (a) the naive pipeline, imagehash.dhash + phash of
  ImageOps.exif_transpose(Image.open(p)).convert("L"), and (b) the decode-only floor,
  Image.open(p); draft("L", (64, 64)); load(), both single process,
- per-core figures, the 1 -> 2 worker scaling, the peak memory of the whole process tree,
- how far the reduced-decode hashes are from the naive full-decode hashes (Hamming bits),
- where the time goes in one file (single thread).

Configurations run interleaved, `--chunk` photos at a time, `--rounds` times over the corpus
(processes: one whole-corpus scan, start-up included); totals are compared.
Files are read once beforehand, so the figures are for a warm page cache (decode-bound).
Exits non-zero only on an error, never on a missed target.

    python benchmarks/bench_hashing.py [--count 48] [--naive-count 8] [--rounds 2]
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import imagehash
import psutil
from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).resolve().parent))

from photo_corpus import ensure_corpus

from dedup_gui.core.images.decode import REDUCED_MIN_SIDE, open_reduced
from dedup_gui.core.images.signatures import compute_signatures, hash_to_int
from dedup_gui.core.images.thumbnails import THUMBNAIL_SIDE, encode_jpeg, fit_within
from dedup_gui.core.scanning.scanner import ScanOptions, scan

TARGET_NAIVE_PER_CORE = 5.0
TARGET_FLOOR_PER_CORE = 0.85
TARGET_SCALING = 1.7
TARGET_PEAK_MB = 400.0


class PeakMemory:
    """Samples the summed RSS of this process and all its children while running.

    Finding the children walks every process on the machine, so that list is refreshed
    only every few samples: sampling must not steal the CPU it is measuring."""

    CHILDREN_EVERY = 10

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        me = psutil.Process()
        children: list[psutil.Process] = []
        for sample in itertools.count():
            if sample % self.CHILDREN_EVERY == 0:
                children = me.children(recursive=True)
            total = 0
            for process in [me, *children]:
                with contextlib.suppress(psutil.Error):
                    total += process.memory_info().rss
            self.peak_bytes = max(self.peak_bytes, total)
            if self._stop.wait(self.interval):
                return


def naive_hashes(path: Path) -> tuple[int, int]:
    image = ImageOps.exif_transpose(Image.open(path)).convert("L")
    return hash_to_int(imagehash.dhash(image)), hash_to_int(imagehash.phash(image))


def decode_floor(path: Path) -> None:
    with Image.open(path) as image:
        image.draft("L", (64, 64))
        image.load()


def threaded_floor(paths: list[Path], workers: int) -> None:
    """The decode-only floor on `workers` threads: how much parallelism the machine offers
    right now (other load on a shared machine shows up here too)."""
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(decode_floor, paths))


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def scan_files(paths: list[Path], options: ScanOptions) -> None:
    result = scan(paths, options=options)
    if result.hashed != len(paths) or result.errors:
        raise RuntimeError(f"scan hashed {result.hashed}/{len(paths)}: {result.errors[:3]}")


def stage_breakdown(paths: list[Path]) -> dict[str, float]:
    """Milliseconds per file of each step of the scanner's per-file work, one thread."""
    stages = {"read": 0.0, "decode": 0.0, "thumbnail": 0.0, "signatures": 0.0, "jpeg": 0.0}
    for path in paths:
        clock = time.perf_counter()
        data = path.read_bytes()
        stages["read"] += time.perf_counter() - clock
        clock = time.perf_counter()
        reduced, _ = open_reduced(path, REDUCED_MIN_SIDE, data=data)
        stages["decode"] += time.perf_counter() - clock
        clock = time.perf_counter()
        thumbnail = fit_within(reduced, THUMBNAIL_SIDE)
        stages["thumbnail"] += time.perf_counter() - clock
        clock = time.perf_counter()
        compute_signatures(thumbnail)
        stages["signatures"] += time.perf_counter() - clock
        clock = time.perf_counter()
        encode_jpeg(thumbnail)
        stages["jpeg"] += time.perf_counter() - clock
    return {name: seconds * 1000 / len(paths) for name, seconds in stages.items()}


def decode_size_table(paths: list[Path], min_sides: tuple[int, ...]) -> list[str]:
    """For each reduced-decode size: CPU ms per decode and the Hamming bits between the
    hashes the scanner computes from it and imagehash on the naive full-size decode."""
    naive = [naive_hashes(path) for path in paths]
    lines = []
    for min_side in min_sides:
        dhash_bits, phash_bits, cpu = [], [], 0.0
        for path, (naive_dhash, naive_phash) in zip(paths, naive, strict=True):
            data = path.read_bytes()
            clock = time.thread_time()
            reduced, _ = open_reduced(path, min_side, data=data)
            cpu += time.thread_time() - clock
            ours = compute_signatures(fit_within(reduced, THUMBNAIL_SIDE))
            dhash_bits.append(bin(ours.dhash ^ naive_dhash).count("1"))
            phash_bits.append(bin(ours.phash ^ naive_phash).count("1"))
        chosen = "  <- scanner" if min_side == REDUCED_MIN_SIDE else ""
        lines.append(
            f"  min side {min_side:5} -> {'x'.join(map(str, reduced.size)):>9}: "
            f"{cpu * 1000 / len(paths):6.1f} CPU ms; dHash mean {statistics.mean(dhash_bits):.1f}"
            f" max {max(dhash_bits)}, pHash mean {statistics.mean(phash_bits):.1f}"
            f" max {max(phash_bits)}{chosen}"
        )
    return lines


def verdict(value: float, target: float, higher_is_better: bool = True) -> str:
    met = value >= target if higher_is_better else value <= target
    return "met" if met else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=48, help="photos in the cold scans")
    parser.add_argument("--naive-count", type=int, default=8, help="photos for the slow naive run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=12, help="photos per interleaved run")
    args = parser.parse_args()

    paths = ensure_corpus(args.count)
    for path in paths:
        path.read_bytes()  # warm the page cache: measure decoding, not the disk
    cores = os.cpu_count() or 1
    naive_paths = paths[: args.naive_count]
    megabytes = sum(path.stat().st_size for path in paths) / 1e6

    # Short runs of every configuration, interleaved chunk by chunk (and in a rotating order),
    # so that load from other programs on a shared machine hits all of them alike.
    chunks = [paths[start : start + args.chunk] for start in range(0, len(paths), args.chunk)]
    naive_per_chunk = max(1, args.naive_count // len(chunks))
    runs: dict[str, Callable[[list[Path]], object]] = {
        "naive": lambda chunk: [naive_hashes(path) for path in chunk[:naive_per_chunk]],
        "floor": lambda chunk: [decode_floor(path) for path in chunk],
        "floor_all": lambda chunk: threaded_floor(chunk, cores),
        "scan_1": lambda chunk: scan_files(chunk, ScanOptions(workers=1)),
        "scan_all": lambda chunk: scan_files(chunk, ScanOptions(workers=cores)),
    }
    seconds = dict.fromkeys(runs, 0.0)
    cpu_seconds = dict.fromkeys(runs, 0.0)
    files = dict.fromkeys(runs, 0)
    peaks = {"scan_all": 0.0, "scan_all_processes": 0.0}  # sampled only where it counts
    names = list(runs)
    for round_index in range(args.rounds):
        for chunk_index, chunk in enumerate(chunks):
            shift = (round_index * len(chunks) + chunk_index) % len(names)
            for name in names[shift:] + names[:shift]:
                cpu_before = time.process_time()
                if name == "scan_all":
                    with PeakMemory() as memory:
                        seconds[name] += timed(lambda photos=chunk: runs["scan_all"](photos))
                    peaks[name] = max(peaks[name], memory.peak_bytes / 1e6)
                else:
                    seconds[name] += timed(lambda run=runs[name], photos=chunk: run(photos))
                cpu_seconds[name] += time.process_time() - cpu_before
                files[name] += naive_per_chunk if name == "naive" else len(chunk)
    # Processes pay their start-up once per scan, so they get one scan of the whole corpus.
    with PeakMemory() as memory:
        seconds["scan_all_processes"] = timed(
            lambda: scan_files(paths, ScanOptions(workers=cores, use_processes=True))
        )
    peaks["scan_all_processes"] = memory.peak_bytes / 1e6
    files["scan_all_processes"] = len(paths)
    rate = {name: files[name] / seconds[name] for name in seconds}
    cpu_ms = {name: cpu_seconds[name] * 1000 / files[name] for name in runs}

    all_rate = max(rate["scan_all"], rate["scan_all_processes"])
    winner = "threads" if rate["scan_all"] >= rate["scan_all_processes"] else "processes"
    per_core = all_rate / cores
    peak = max(peaks["scan_all"], peaks["scan_all_processes"])

    print(
        f"corpus: {len(paths)} JPEGs 4000x3000 q90, {megabytes / len(paths):.1f} MB each; "
        f"{cores} cores; {args.rounds} interleaved rounds; load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    print()
    print(f"{'configuration':46} {'photos/s':>9} {'ms/photo':>9} {'CPU ms':>7} {'peak MB':>8}")
    labels = {
        "naive": f"(a) naive imagehash, 1 process ({files['naive']} photos)",
        "floor": "(b) decode-only floor, 1 thread",
        "floor_all": f"    decode-only floor, {cores} threads",
        "scan_1": "scan, 1 worker thread",
        "scan_all": f"scan, {cores} worker threads",
        "scan_all_processes": f"scan, {cores} worker processes (incl. start-up)",
    }
    for name, label in labels.items():
        cpu = f"{cpu_ms[name]:7.1f}" if name != "scan_all_processes" else f"{'-':>7}"
        peak_mb = f"{peaks[name]:8.0f}" if name in peaks else f"{'-':>8}"
        print(f"{label:46} {rate[name]:9.2f} {1000 / rate[name]:9.1f} {cpu} {peak_mb}")
    print()
    print(f"{'figure (all workers = ' + winner + ')':46} {'value':>9} {'target':>9}")
    rows = [
        ("throughput per core / naive", per_core / rate["naive"], TARGET_NAIVE_PER_CORE, True),
        (
            "throughput per core / decode floor",
            per_core / rate["floor"],
            TARGET_FLOOR_PER_CORE,
            True,
        ),
        (
            f"1 -> {cores} worker threads scaling",
            rate["scan_all"] / rate["scan_1"],
            TARGET_SCALING,
            True,
        ),
        ("peak memory (process tree), all workers, MB", peak, TARGET_PEAK_MB, False),
    ]
    for label, value, target, higher in rows:
        print(f"{label:46} {value:9.2f} {target:9.2f}  {verdict(value, target, higher)}")
    print("context (same run):")
    context = [
        ("1 worker / decode floor, wall clock", rate["scan_1"] / rate["floor"]),
        ("1 worker / decode floor, CPU time", cpu_ms["floor"] / cpu_ms["scan_1"]),
        ("1 worker / naive, CPU time", cpu_ms["naive"] / cpu_ms["scan_1"]),
        (
            f"decode floor 1 -> {cores} threads (machine headroom)",
            rate["floor_all"] / rate["floor"],
        ),
    ]
    for label, value in context:
        print(f"  {label:44} {value:9.2f}")

    print()
    print(f"reduced decode size (signatures on the {THUMBNAIL_SIDE} px thumbnail) vs naive")
    print("full decode, Hamming bits of 64:")
    for line in decode_size_table(naive_paths, (128, REDUCED_MIN_SIDE, 512, 1024)):
        print(line)
    stages = stage_breakdown(paths[: min(len(paths), 16)])
    print("per-file work, one thread, ms: " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
