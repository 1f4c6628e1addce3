"""Hashing throughput of camera RAW files against the same pictures as JPEGs, in one run.

Three folders of the same 12-megapixel pictures (benchmarks/photo_corpus.py content):
- JPEG: quality-90 JPEGs, as in bench_hashing.py;
- RAW + preview: DNGs (14-bit Bayer data, uncompressed, ~24 MB) with a full-size quality-90
  JPEG preview and a 160x120 thumbnail, the layout of a NEF/CR2/ARW: hashed from the preview;
- RAW demosaic: the same DNGs without the preview: hashed from LibRaw's half-size demosaic.

Each folder is scanned by `scanner.scan` with one worker (no cache), interleaved, `--rounds`
times; files are read once beforehand (warm page cache). Reports photos per second, the
RAW/JPEG time ratio (target: RAW with a preview within TARGET_PREVIEW_RATIO of the JPEG) and
the peak memory of a demosaic. Exits non-zero only on an error, never on a missed target.

    python benchmarks/bench_raw.py [--count 6] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from photo_corpus import JPEG_QUALITY, make_photo

from dedup_gui.core.images.dng_writer import DngLayout, dng_bytes
from dedup_gui.core.scanning.scanner import ScanOptions, scan

TARGET_PREVIEW_RATIO = 2.0
WITH_PREVIEW = DngLayout(thumbnail_side=160, preview_side=4000)
WITHOUT_PREVIEW = DngLayout(thumbnail_side=160)


def write_corpus(folder: Path, count: int) -> dict[str, Path]:
    folders = {name: folder / name for name in ("JPEG", "RAW + preview", "RAW demosaic")}
    for path in folders.values():
        path.mkdir()
    for index in range(count):
        picture = make_photo(index)
        picture.save(folders["JPEG"] / f"photo_{index:03}.jpg", quality=JPEG_QUALITY)
        for name, layout in (("RAW + preview", WITH_PREVIEW), ("RAW demosaic", WITHOUT_PREVIEW)):
            (folders[name] / f"photo_{index:03}.dng").write_bytes(dng_bytes(picture, layout))
    return folders


def warm(folder: Path) -> int:
    total = 0
    for path in folder.iterdir():
        total += len(path.read_bytes())
    return total


def timed_scan(folder: Path, expected: int) -> float:
    started = time.perf_counter()
    result = scan([folder], options=ScanOptions(workers=1))
    elapsed = time.perf_counter() - started
    if result.errors or len(result.records) != expected:
        raise SystemExit(f"{folder.name}: {result.errors or len(result.records)}")
    return elapsed


def peak_rss_during(action: object) -> float:
    """Peak resident memory (MB) above the level before, sampled while `action()` runs."""
    process = psutil.Process()
    before = process.memory_info().rss
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        action()  # type: ignore[operator]
    finally:
        done.set()
        sampler.join()
    return (peak - before) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-raw-") as temporary:
        started = time.perf_counter()
        folders = write_corpus(Path(temporary), args.count)
        elapsed = time.perf_counter() - started
        print(f"{args.count} pictures of 4000x3000 written in {elapsed:.1f} s")
        for name, folder in folders.items():
            megabytes = warm(folder) / 1e6 / args.count
            print(f"  {name:14} {megabytes:5.1f} MB a file")
        timed_scan(folders["RAW demosaic"], args.count)  # loads LibRaw, warms every path
        times: dict[str, list[float]] = {name: [] for name in folders}
        for _ in range(args.rounds):
            for name, folder in folders.items():
                times[name].append(timed_scan(folder, args.count))
        print(f"scan, 1 worker, {args.rounds} rounds, median:")
        per_photo = {name: statistics.median(values) / args.count for name, values in times.items()}
        for name, seconds in per_photo.items():
            ratio = seconds / per_photo["JPEG"]
            print(f"  {name:14} {1 / seconds:6.1f} photos/s  {seconds * 1000:7.1f} ms a photo"
                  f"  {ratio:5.2f}x the JPEG time")
        ratio = per_photo["RAW + preview"] / per_photo["JPEG"]
        verdict = "met" if ratio <= TARGET_PREVIEW_RATIO else "MISSED"
        print(f"target: RAW with a preview within {TARGET_PREVIEW_RATIO:.1f}x of the JPEG: "
              f"{ratio:.2f}x, {verdict}")
        one_file = next(iter(folders["RAW demosaic"].iterdir()))
        single = Path(temporary) / "single"
        single.mkdir()
        (single / one_file.name).write_bytes(one_file.read_bytes())
        peak = peak_rss_during(lambda: timed_scan(single, 1))
        print(f"peak memory of one 12 MP demosaic (RSS above the start): {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
