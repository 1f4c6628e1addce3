"""Scans of a "copies of copies" library: 12-megapixel photos, each also copied byte for
byte into backup folders (as merged phone backups and old-disk dumps are), with
byte-identical copies decoded once (core/scanning/copies.py) against every copy decoded (the
baseline), in the same run, interleaved: cold, and with the library already cached (the
backups are new), and for `dedup-cli new` (the backups against the cached library; its
baseline still digests the library files that share a size with a backup file).

    python benchmarks/bench_copies.py [--originals 16] [--copies 2] [--rounds 2]

Files are read once beforehand, so the figures are for a warm page cache (decode-bound).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from photo_corpus import ensure_corpus

from dedup_gui.core.library import new_vs_library
from dedup_gui.core.scanning import scanner
from dedup_gui.core.scanning.cache import CACHE_FILE_NAME, HashCache
from dedup_gui.core.scanning.scanner import scan

SCENARIOS = ("cold", "added", "new")


def build_library(root: Path, originals: int, copies: int) -> int:
    photos = ensure_corpus(originals)
    folders = ["Camera", *(f"Backup {k + 1}" for k in range(copies))]
    for folder in folders:
        (root / folder).mkdir(parents=True)
        for photo in photos:
            shutil.copy(photo, root / folder / photo.name)
    files = list(root.rglob("*.jpg"))
    for path in files:
        path.read_bytes()  # warm the page cache
    return len(files)


def timed_scan(
    root: Path, *, decode_copies_once: bool, library_cached: bool = False, ask_new: bool = False
) -> float:
    """Seconds to scan `root`: with no cache (every file hashed), or with a fresh cache that
    already holds the library folder ("Camera"), as when backups are added to a library;
    `ask_new`: `dedup-cli new` (the backups against the cached library) instead."""
    real = scanner.DecodedCopies
    if not decode_copies_once:
        scanner.DecodedCopies = lambda **_kwargs: None  # type: ignore[assignment,misc]
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bench_copies_cache_") as cache_dir,
            HashCache(Path(cache_dir) / CACHE_FILE_NAME) as cache,
        ):
            if library_cached:
                scan([root / "Camera"], cache=cache)
            started = time.perf_counter()
            if ask_new:
                backups = sorted(str(path) for path in root.iterdir() if path.name != "Camera")
                answer = new_vs_library(backups, [str(root / "Camera")], cache=cache)
                assert all(not report.new for report in answer.folders)
            else:
                result = scan([root], cache=cache if library_cached else None)
                assert not result.errors
            elapsed = time.perf_counter() - started
    finally:
        scanner.DecodedCopies = real  # type: ignore[misc]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--originals", type=int, default=16)
    parser.add_argument("--copies", type=int, default=2, help="byte copies of each photo")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_copies_") as folder:
        root = Path(folder)
        count = build_library(root, args.originals, args.copies)
        times: dict[tuple[str, bool], list[float]] = {}
        for _ in range(args.rounds):
            for scenario in SCENARIOS:
                for once in (False, True):
                    elapsed = timed_scan(
                        root,
                        decode_copies_once=once,
                        library_cached=scenario != "cold",
                        ask_new=scenario == "new",
                    )
                    times.setdefault((scenario, once), []).append(elapsed)
    median = {key: statistics.median(values) for key, values in times.items()}
    print(f"{count} files: {args.originals} photos x {args.copies + 1} byte-identical copies, "
          f"{scanner.usable_cores()} workers, median of {args.rounds}")
    for scenario, title, new_files in (
        ("cold", "cold, no cache", count),
        ("added", "backups added to a cached library", count - args.originals),
        ("new", "dedup-cli new: backups vs the cached library", count - args.originals),
    ):
        base_s, once_s = median[(scenario, False)], median[(scenario, True)]
        print(f"{title} ({new_files} files to hash):")
        print(f"  every copy decoded (baseline)  {base_s:6.2f} s")
        print(f"  copies decoded once            {once_s:6.2f} s  ({base_s / once_s:.2f}x)")


if __name__ == "__main__":
    main()
