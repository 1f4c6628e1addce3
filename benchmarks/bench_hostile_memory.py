"""Peak memory of scanning files that declare far more pixels than they hold.

    python benchmarks/bench_hostile_memory.py [--workers 2]

Writes, in a temporary folder, what a tester found taking gigabytes: a 1.5 KB progressive
JPEG declaring 32768x32768 (its frame header patched), a float TIFF 9400x9400 and a 16-bit
grey PNG 9400x9400 (constant images, deflated: a few MB on disk), beside a photo pair (a
1600x1200 photo and a smaller re-encoded copy of it). Each folder is scanned in a fresh
process with `--workers` thread workers: first the pair alone (the baseline, in the same
run), then everything. Reports each scan's peak RSS (the whole process, all workers), what
became of each file, and whether the pair is still grouped. Target: <= 700 MB peak.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.imagegen import make_photo  # noqa: E402

TARGET_PEAK_MB = 700
HOSTILE_SIDE = 9400


def write_progressive_jpeg_declaring(path: Path, width: int, height: int) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (120, 80, 40)).save(buffer, "JPEG", progressive=True)
    data = bytearray(buffer.getvalue())
    frame = data.index(b"\xff\xc2")  # SOF2: precision, then height and width
    data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    path.write_bytes(bytes(data))


def write_photo_pair(folder: Path) -> None:
    photo = make_photo(7, 1600, 1200)
    photo.save(folder / "photo.jpg", quality=92)
    photo.resize((1200, 900), Image.Resampling.LANCZOS).save(folder / "photo_small.jpg", quality=80)


def write_hostile_files(folder: Path) -> None:
    write_progressive_jpeg_declaring(folder / "tiny_gigapixel.jpg", 32768, 32768)
    side = (HOSTILE_SIDE, HOSTILE_SIDE)
    Image.new("F", side, 0.5).save(folder / "float.tiff", compression="tiff_adobe_deflate")
    Image.new("I;16", side, 30_000).save(folder / "grey16.png", compress_level=1)


def scan_in_fresh_process(folder: Path, workers: int) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(folder), "--workers", str(workers)],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    return json.loads(done.stdout.splitlines()[-1])


def peak_rss_mb() -> float:
    """This process's peak RSS. On Linux VmHWM, which starts afresh at exec; ru_maxrss
    would also count the parent's pages before the exec (the generated images)."""
    try:
        with Path("/proc/self/status").open() as status:
            line = next(line for line in status if line.startswith("VmHWM"))
        return int(line.split()[1]) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(folder: Path, workers: int) -> None:
    """Runs in the fresh process: scan, group, report."""
    from dedup_gui.core.grouping.index import SimilarityIndex
    from dedup_gui.core.grouping.similarity import DEFAULT_SIMILARITY
    from dedup_gui.core.scanning.scanner import ScanOptions, scan

    result = scan([folder], options=ScanOptions(workers=workers))
    groups = SimilarityIndex.build(result.records).groups(DEFAULT_SIMILARITY)
    pair = {str(folder / "photo.jpg"), str(folder / "photo_small.jpg")}
    outcome = {Path(r.path).name: "hashed" for r in result.records}
    outcome.update({Path(e.path).name: f"{e.kind.value}: {e.message}" for e in result.errors})
    report = {
        "peak_mb": peak_rss_mb(),
        "outcome": outcome,
        "pair_grouped": any({m.record.path for m in g.members} == pair for g in groups),
        "seconds": result.elapsed_seconds,
    }
    print(json.dumps(report))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.workers)
        return
    with tempfile.TemporaryDirectory(prefix="hostile-") as temporary:
        pair_only, hostile = Path(temporary, "pair"), Path(temporary, "hostile")
        for folder in (pair_only, hostile):
            folder.mkdir()
            write_photo_pair(folder)
        write_hostile_files(hostile)
        baseline = scan_in_fresh_process(pair_only, args.workers)
        measured = scan_in_fresh_process(hostile, args.workers)
    print(f"{args.workers} thread workers, default memory budget")
    print(f"{'scan':<28}{'peak RSS':>10}{'time':>8}  pair grouped")
    for name, report in (("photo pair (baseline)", baseline), ("pair + hostile files", measured)):
        print(
            f"{name:<28}{report['peak_mb']:>7.0f} MB{report['seconds']:>7.1f}s  "
            f"{'yes' if report['pair_grouped'] else 'NO'}"
        )
    print(f"above the baseline: {measured['peak_mb'] - baseline['peak_mb']:.0f} MB")
    for file_name, outcome in sorted(measured["outcome"].items()):
        print(f"  {file_name:<20} {outcome}")
    within = measured["peak_mb"] <= TARGET_PEAK_MB and measured["pair_grouped"]
    print(f"target <= {TARGET_PEAK_MB} MB with the pair grouped: {'met' if within else 'MISSED'}")


if __name__ == "__main__":
    main()
