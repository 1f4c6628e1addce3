"""Cold scan of a "copies of copies" library: 12-megapixel photos, each also copied byte for
byte into other folders (as merged phone backups and old-disk dumps are), scanned with
byte-identical copies decoded once (core/copies.py) against every file decoded (the
baseline), in the same run, interleaved.

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

from dedup_gui.core import scanner
from dedup_gui.core.scanner import scan


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


def timed_scan(root: Path, *, decode_copies_once: bool) -> float:
    real = scanner.DecodedCopies
    if not decode_copies_once:
        scanner.DecodedCopies = lambda: None  # type: ignore[assignment,misc]
    try:
        started = time.perf_counter()
        result = scan([root])  # no cache: every file is hashed
        elapsed = time.perf_counter() - started
    finally:
        scanner.DecodedCopies = real  # type: ignore[misc]
    assert not result.errors and result.hashed == len(result.records)
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
        baseline, reuse = [], []
        for _ in range(args.rounds):
            baseline.append(timed_scan(root, decode_copies_once=False))
            reuse.append(timed_scan(root, decode_copies_once=True))
    base_s, reuse_s = statistics.median(baseline), statistics.median(reuse)
    print(f"{count} files: {args.originals} photos x {args.copies + 1} byte-identical copies, "
          f"{scanner.usable_cores()} workers, median of {args.rounds}")
    print(f"every file decoded (baseline)  {base_s:6.2f} s  {count / base_s:6.1f} files/s")
    print(f"copies decoded once            {reuse_s:6.2f} s  {count / reuse_s:6.1f} files/s "
          f"({base_s / reuse_s:.2f}x; ideal {args.copies + 1:.2f}x less the reads and digests)")


if __name__ == "__main__":
    main()
