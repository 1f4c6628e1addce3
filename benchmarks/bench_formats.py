"""Scan speed by file format, against JPEG and against the code as it was; and start-up.

The same photos (format_corpus.py, from photo_corpus.py) as JPEG, HEIC with and without an
embedded thumbnail, AVIF, PNG and WebP, at 12 MP and at 0.3 MP. For each, in one run:
- photos/s of a cold `scanner.scan` (no cache, all cores, threads), best of `--rounds`, in
  a fresh process;
- with `--base REV`: the same scan by the code of commit REV (extracted with git archive
  into a temporary folder, run in a subprocess), so "before" and "after" share the machine;
- the decode-only floor: the cheapest decode that gives the pixels the hashes need (JPEG
  DCT-scaled, HEIC its embedded thumbnail where it has one, PNG and WebP reduced as the
  scan does (vips_decode.reduced: a lossy WebP from libwebp's planes, else libvips) when
  that is installed, else the full image), on as many threads as the scan;
- the ratio of each to JPEG at the same size.
Small files: the 0.3 MP JPEGs scanned in threads and in processes, now and at --base.
Start-up, whole processes with their bytecode cached: `dedup-cli --help`, and a cold and a
warm `dedup-cli scan` of 100 distinct photos (1600x1200 crops of the corpus, and 12 MP) against
`python -c "import numpy, PIL.Image"`; the warm scan is answered from its replay
(core/scanning/scan_replay.py), and is also timed with the replay removed (cache + grouping).
`--heif-threads` also times 12 MP HEICs at several libheif decode thread counts; `--formats`
restricts the scans to some formats (JPEG, the reference column, is always scanned).
Exits non-zero only on an error, never on a missed target.

    python benchmarks/bench_formats.py [--count 4] [--rounds 2] [--base 213dbdb]
    python benchmarks/bench_formats.py --size 12mp --formats png,webp --base 6f84658 --skip-startup
    python benchmarks/bench_formats.py --small-and-startup --base 6f84658
    python benchmarks/bench_formats.py --startup --rounds 4 --base 4b1dd4d
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from format_corpus import DATA_DIR, FORMATS, SIZES, ensure_formats, folder_for
from photo_corpus import ensure_corpus

from dedup_gui.core.images import heif_thumbnails, vips_decode
from dedup_gui.core.images.decode import REDUCED_MIN_SIDE
from dedup_gui.core.images.thumbnails import THUMBNAIL_SIDE
from dedup_gui.core.scanning.scanner import usable_cores

REPO = Path(__file__).resolve().parent.parent
WARM_COUNT = 100
TARGET_HEIC_THUMBNAIL_VS_JPEG = 0.5
TARGET_SPEEDUP = 2.0
TARGET_SMALL_PER_SECOND = 150.0
TARGET_HELP_VS_IMPORTS = 2.0
TARGET_WARM_VS_COLD = 0.15
_CHILD_SCAN = """
import sys, time
from dedup_gui.core.scanning.scanner import ScanOptions, scan
folder, workers, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
best = min(
    (lambda s: (scan([folder], options=ScanOptions(workers=workers)), time.perf_counter() - s)[1])(
        time.perf_counter()
    )
    for _ in range(rounds)
)
print(best)
"""


def best_of(rounds: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def child_scan_seconds(
    tree: Path, folder: Path, workers: int, rounds: int, processes: bool = False
) -> float:
    """Best of `rounds` cold scans of `folder` by the code in `tree`, in a fresh process
    (this code's too: a scan in this process reads 25-50% slower than in a fresh one)."""
    script = _CHILD_SCAN.replace("workers=workers", f"workers=workers, use_processes={processes}")
    if processes:  # a worker process imports the main module: guard the scan
        body = script.split("\n", 3)
        script = "\n".join(body[:3]) + "\nif __name__ == '__main__':\n" + "\n".join(
            "    " + line for line in body[3].splitlines()
        )
    output = subprocess.run(
        [sys.executable, "-c", script, str(folder), str(workers), str(rounds)],
        env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True, text=True, check=True,
        cwd=tree,  # `python -c` puts the working folder ahead of PYTHONPATH
    ).stdout
    return float(output.split()[-1])


def floor_seconds(paths: list[Path], workers: int, rounds: int) -> float:
    datas = [path.read_bytes() for path in paths]

    def decode(data: bytes) -> None:
        with Image.open(io.BytesIO(data)) as image:
            if image.format == "JPEG":
                image.draft("RGB", (256, 256))
            elif image.format == "HEIF":
                heif_thumbnails.use_embedded(image, THUMBNAIL_SIDE)
            elif image.format in vips_decode.FORMATS and vips_decode.available():
                factor = max(1, min(image.size) // REDUCED_MIN_SIDE)
                if vips_decode.reduced(image, data, factor) is not None:
                    return
            image.load()

    with ThreadPoolExecutor(workers) as pool:
        return best_of(rounds, lambda: list(pool.map(decode, datas)))


def thumbnail_distances(paths: list[Path]) -> tuple[int, int]:
    """Most dHash and pHash bits between hashes from the embedded thumbnail and from a decode
    of the image (the same measure as bench_hashing.py's reduced-decode check)."""
    from dedup_gui.core.images.decode import open_reduced
    from dedup_gui.core.images.signatures import compute_signatures
    from dedup_gui.core.images.thumbnails import fit_within

    worst = (0, 0)
    for path in paths:
        small, info = open_reduced(path, REDUCED_MIN_SIDE, embedded_long_side=THUMBNAIL_SIDE)
        full, _ = open_reduced(path, REDUCED_MIN_SIDE)
        a = compute_signatures(fit_within(small, THUMBNAIL_SIDE))
        b = compute_signatures(fit_within(full, THUMBNAIL_SIDE))
        assert info.from_thumbnail
        worst = (max(worst[0], (a.dhash ^ b.dhash).bit_count()),
                 max(worst[1], (a.phash ^ b.phash).bit_count()))
    return worst


def extract_base(rev: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev, "dedup_gui"], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def process_seconds(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of `command`, a whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    # -c and -m put the working folder ahead of PYTHONPATH: run from the tree measured.
    subprocess.run(command, env=env, capture_output=True, check=False, cwd=env.get("PYTHONPATH"))
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


class Best:
    """The best (least) wall and CPU seconds seen per name, over alternating rounds."""

    def __init__(self) -> None:
        self.seconds: dict[str, tuple[float, float]] = {}

    def add(self, name: str, measured: tuple[float, float]) -> None:
        wall, cpu = self.seconds.get(name, (float("inf"), float("inf")))
        self.seconds[name] = (min(wall, measured[0]), min(cpu, measured[1]))

    def wall(self, name: str) -> float:
        return self.seconds[name][0]

    def shown(self, name: str) -> str:
        wall, cpu = self.seconds[name]
        return f"{wall:6.3f} s (CPU {cpu:5.3f})"

WARM_SIZES = ((1600, 1200), (4000, 3000))
"""The start-up scan's photos: 1600x1200 crops, and 12 MP like the issue's."""


def ensure_warm_folder(size: tuple[int, int] = (1600, 1200)) -> Path:
    """WARM_COUNT distinct photos of `size`: crops of the corpus, each shifted a little."""
    width, height = size
    folder = DATA_DIR / f"warm_{WARM_COUNT}_{width}x{height}"
    done = folder / ".complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    sources = ensure_corpus(12)
    for index in range(WARM_COUNT):
        path = folder / f"photo_{index:03}.jpg"
        if path.exists():
            continue
        with Image.open(sources[index % len(sources)]) as photo:
            if width < 4000:
                photo.draft("RGB", (2000, 1500))
            rgb = photo.convert("RGB")
        step = index // len(sources)
        left, top = (step * 37) % 400, (step * 23) % 300
        box = (left, top, left + rgb.width - 400, top + rgb.height - 300)
        rgb.resize(size, Image.Resampling.BILINEAR, box=box).save(
            path.with_suffix(".tmp"), "JPEG", quality=90
        )
        path.with_suffix(".tmp").replace(path)
    done.write_text("complete\n")
    return folder


def _bytecode_env(pycache: str) -> dict[str, str]:
    """The environment with compiled bytecode kept (in `pycache`), as an installed package
    has it: with PYTHONDONTWRITEBYTECODE every start-up would compile the sources again."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPYCACHEPREFIX": pycache}


def startup(base: Path | None, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as pycache:
        _startup(base, rounds, _bytecode_env(pycache))


def _startup(base: Path | None, rounds: int, environ: dict[str, str]) -> None:
    print(f"\nStart-up (whole processes, bytecode cached, best of {rounds} alternating runs,"
          f" load {os.getloadavg()[0]:.1f}):")
    python = sys.executable
    trees = {"now": REPO} | ({"base": base} if base is not None else {})
    envs = {name: {**environ, "PYTHONPATH": str(tree)} for name, tree in trees.items()}
    best = Best()
    for _ in range(rounds):
        for name, env in envs.items():
            best.add("imports", process_seconds([python, "-c", "import numpy, PIL.Image"], env))
            best.add(name, process_seconds([python, "-m", "dedup_gui.cli", "--help"], env))
    imports = best.wall("imports")
    print(f"  python -c 'import numpy, PIL.Image'  {best.shown('imports')}")
    for name in trees:
        seconds = best.wall(name)
        verdict = "ok" if seconds <= TARGET_HELP_VS_IMPORTS * imports else "MISSED"
        print(f"  dedup-cli --help ({name:4})          {best.shown(name)} ="
              f" {seconds / imports:4.2f}x the imports"
              f" (target <= {TARGET_HELP_VS_IMPORTS}x: {verdict})")
    for size in WARM_SIZES:
        _warm_vs_cold(ensure_warm_folder(size), size, envs, rounds)


def _warm_vs_cold(
    folder: Path, size: tuple[int, int], envs: dict[str, dict[str, str]], rounds: int
) -> None:
    """Cold scans (each with an empty cache) and warm ones (all 100 photos cached) of each
    tree, the trees alternating round by round so a change of load falls on all."""
    cli = [sys.executable, "-m", "dedup_gui.cli"]
    best = Best()
    with tempfile.TemporaryDirectory() as scratch:
        for round_number in range(rounds):
            for name, environ in envs.items():
                # Two cold scans (seconds each), each into an empty cache; later rounds
                # reuse the second one's cache.
                home = Path(scratch) / f"{name}_{min(round_number, 1)}"
                home.mkdir(exist_ok=True)
                env = {**environ, "XDG_CACHE_HOME": str(home), "XDG_DATA_HOME": str(home),
                       "HOME": str(home)}
                out = home / "out.json"
                command = [*cli, "scan", str(folder), "--output", str(out)]
                if round_number < 2:
                    best.add(f"{name} cold", process_seconds(command, env))
                for _ in range(2):
                    out.unlink(missing_ok=True)
                    best.add(f"{name} warm", process_seconds(command, env))
                # The same scan with no replay to give (scan_replay.py): cache and grouping.
                shutil.rmtree(home / "dedup-gui" / "scan_replays", ignore_errors=True)
                out.unlink(missing_ok=True)
                best.add(f"{name} cached", process_seconds(command, env))
    for name in envs:
        cold, warm = best.wall(f"{name} cold"), best.wall(f"{name} warm")
        cached = best.wall(f"{name} cached")
        verdict = "ok" if warm <= TARGET_WARM_VS_COLD * cold else "MISSED"
        print(f"  scan of {WARM_COUNT} x {size[0]}x{size[1]} ({name:4}): cold"
              f" {best.shown(f'{name} cold')}, warm {best.shown(f'{name} warm')}"
              f" = {warm / cold:5.1%} (target <= {TARGET_WARM_VS_COLD:.0%}: {verdict});"
              f" without its replay {best.shown(f'{name} cached')} = {cached / cold:5.1%}")


def small_files(base: Path | None, workers: int, rounds: int) -> None:
    """0.3 MP JPEGs: cold scans in threads and in processes, now and (with --base) before."""
    folder = folder_for("jpeg", "0.3mp")
    count = len(list(folder.glob("*.jpg")))
    if not count:
        raise SystemExit(f"no photos in {folder}: run benchmarks/format_corpus.py first")
    print(f"\nSmall files: {count} x 0.3 MP JPEG, {workers} workers, photos/s (best of"
          f" {rounds}; a process scan includes starting its pool):")
    for label, processes in (("threads", False), ("processes", True)):
        # Rounds of this code and of the base alternate, each in a fresh process.
        now_seconds = before_seconds = float("inf")
        for _ in range(rounds):
            now_seconds = min(
                now_seconds, child_scan_seconds(REPO, folder, workers, 1, processes)
            )
            if base is not None:
                before_seconds = min(
                    before_seconds, child_scan_seconds(base, folder, workers, 1, processes)
                )
        now = count / now_seconds
        line = f"  {label:10} now {now:7.1f}"
        if base is not None:
            before = count / before_seconds
            line += f"   base {before:7.1f}   speed-up {now / before:5.2f}x"
        verdict = "ok" if now >= TARGET_SMALL_PER_SECOND else "MISSED"
        print(f"{line}   (target >= {TARGET_SMALL_PER_SECOND:.0f}/s: {verdict})")


def heif_threads(paths: list[Path], workers: int, rounds: int) -> None:
    print(f"\nlibheif decode threads, 12 MP HEIC without a thumbnail, {workers} workers:")
    import pillow_heif

    datas = [path.read_bytes() for path in paths]

    def decode(data: bytes) -> None:
        with Image.open(io.BytesIO(data)) as image:
            image.load()

    before = pillow_heif.options.DECODE_THREADS
    try:
        for threads in (1, 2, 4):
            pillow_heif.options.DECODE_THREADS = threads
            with ThreadPoolExecutor(workers) as pool:
                seconds = best_of(rounds, lambda: list(pool.map(decode, datas)))
            print(f"  {threads} thread(s): {len(datas) / seconds:6.2f} photos/s")
    finally:
        pillow_heif.options.DECODE_THREADS = before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=4, help="12 MP photos per format")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--base", help="a commit to compare with (e.g. the branch's base)")
    parser.add_argument("--heif-threads", action="store_true")
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument("--small-and-startup", action="store_true",
                        help="only the 0.3 MP JPEG threads/processes rows and the start-up")
    parser.add_argument("--startup", action="store_true", help="only the start-up")
    parser.add_argument("--size", choices=SIZES, action="append",
                        help="only these sizes (repeatable; default: all)")
    parser.add_argument("--formats", type=lambda text: text.split(","),
                        help=f"only these, comma-separated (default: all of {','.join(FORMATS)};"
                        " JPEG is scanned anyway for the 'vs JPEG' columns)")
    args = parser.parse_args()
    unknown = set(args.formats or ()) - set(FORMATS)
    if unknown:
        parser.error(f"unknown formats: {', '.join(sorted(unknown))}")
    workers = usable_cores()
    if args.small_and_startup or args.startup:
        with tempfile.TemporaryDirectory() as scratch:
            base = extract_base(args.base, Path(scratch)) if args.base else None
            if not args.startup:
                small_files(base, workers, args.rounds)
            startup(base, args.rounds + 1)
        return
    files = ensure_formats(args.count)
    with tempfile.TemporaryDirectory() as scratch:
        base = extract_base(args.base, Path(scratch)) if args.base else None
        if args.heif_threads:
            heif_threads(files[("heic", "12mp")], workers, args.rounds)
        for size in args.size or SIZES:
            print(f"\n{size}, {workers} workers, photos/s (best of {args.rounds},"
                  f" load {os.getloadavg()[0]:.1f}):")
            print(f"  {'format':15} {'scan':>7} {'vs JPEG':>8} {'floor':>7} {'vs JPEG':>8}"
                  + (f" {'base':>7} {'speed-up':>9}" if base else ""))
            jpeg: tuple[float, float] | None = None
            for name in FORMATS:
                if args.formats and name not in args.formats and name != "jpeg":
                    continue
                paths = files[(name, size)]
                folder = folder_for(name, size)
                # Rounds of this code and of the base alternate, so a change in the machine's
                # load (shared here) falls on both; each child warms up in its round.
                now_seconds = base_seconds = float("inf")
                for _ in range(args.rounds):
                    # In a child too: the same fresh process as the base's, not this one.
                    now_seconds = min(now_seconds, child_scan_seconds(REPO, folder, workers, 2))
                    if base is not None:
                        base_seconds = min(
                            base_seconds, child_scan_seconds(base, folder, workers, 2)
                        )
                rate = len(paths) / now_seconds
                floor = len(paths) / floor_seconds(paths, workers, args.rounds)
                jpeg = jpeg or (rate, floor)
                line = (f"  {name:15} {rate:7.1f} {rate / jpeg[0]:8.2f} {floor:7.1f}"
                        f" {floor / jpeg[1]:8.2f}")
                if base is not None:
                    before = len(paths) / base_seconds
                    line += f" {before:7.1f} {rate / before:8.2f}x"
                print(line)
            if size == "0.3mp":
                print(f"  (target: 0.3 MP >= {TARGET_SMALL_PER_SECOND:.0f}/s; HEIC with a"
                      f" thumbnail >= {TARGET_HEIC_THUMBNAIL_VS_JPEG} of JPEG; HEIC, PNG, WebP"
                      f" >= {TARGET_SPEEDUP}x the base)")
        if not args.formats or "heic_thumbnail" in args.formats:
            dhash, phash = thumbnail_distances(files[("heic_thumbnail", "12mp")])
            print(f"\nHEIC hashed from the embedded thumbnail vs a decode of the image: at"
                  f" most {dhash} bits (dHash), {phash} bits (pHash); target <= 2")
        if not args.skip_startup:
            startup(base, args.rounds + 1)


if __name__ == "__main__":
    main()
