"""Head to head with Czkawka's engine on the same files: accuracy and hashing speed.

    pip install czkawka   # third-party PyO3 binding that embeds czkawka_core 10.0.0
    python benchmarks/eval_accuracy.py            # builds the accuracy set once
    python benchmarks/photo_corpus.py             # builds the 12 MP photos once
    python benchmarks/format_corpus.py            # the same photos in other formats, once
    python benchmarks/compare_czkawka.py [--eval-dir DIR] [--photos DIR] [--formats]

Accuracy: the accuracy set's core images (no mirrored/rotated copies), pairwise precision
and recall of Czkawka's groups at several of its similarity levels (0-50, lower = stricter)
against dedup_gui at its default. Speed: both, cold (no cache), on the 12 MP JPEGs, timed
in the same run; with --formats, also on the same photos as HEIC (with and without an
embedded thumbnail), AVIF, PNG and WebP (format_corpus.py). The binding's own hash
settings are the binding's defaults, not necessarily the Czkawka GUI's; its grouping is
not deterministic from run to run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.similarity import DEFAULT_SIMILARITY
from dedup_gui.core.scanning import scanner

Pairs = set[tuple[str, str]]


def truth_pairs(names: list[str]) -> Pairs:
    by_truth: dict[str, list[str]] = {}
    for name in names:
        by_truth.setdefault(name.split("__")[1], []).append(name)
    return {(a, b) for ids in by_truth.values() for a in ids for b in ids if a < b}


def pairs_of(groups: list[list[str]]) -> Pairs:
    return {(min(a, b), max(a, b)) for g in groups for a in g for b in g if a < b}


def score(predicted: Pairs, truth: Pairs) -> str:
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 1.0
    return f"P {precision:.3f} R {hits / len(truth):.3f} ({len(predicted)} pairs)"


def czkawka_groups(folder: Path, level: int) -> list[list[str]]:
    from czkawka import ImageSimilarity

    finder = ImageSimilarity()
    finder.set_directories([folder])
    finder.set_similarity(level)
    return [[path.name for path in group] for group in finder.find_similar()]


def our_groups(folder: Path) -> list[list[str]]:
    records = scanner.scan([str(folder)]).records
    groups = SimilarityIndex.build(records).groups(DEFAULT_SIMILARITY)
    return [[Path(m.record.path).name for m in g.members] for g in groups]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = Path(__file__).resolve().parent
    parser.add_argument("--eval-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "dedup-eval" / "images")
    parser.add_argument("--photos", type=Path, default=here / "_data" / "photos_4000x3000_q90")
    parser.add_argument("--formats", action="store_true",
                        help="also time both on format_corpus.py's 12 MP folders")
    args = parser.parse_args()
    try:
        import czkawka  # noqa: F401
    except ImportError:
        sys.exit("pip install czkawka first (see the docstring)")

    with tempfile.TemporaryDirectory() as scratch:
        core = Path(scratch) / "core"
        core.mkdir()
        for image in sorted(args.eval_dir.iterdir()):
            if not image.name.startswith("transformed__"):
                (core / image.name).hardlink_to(image)
        truth = truth_pairs([p.name for p in core.iterdir()])
        print(f"accuracy set: {sum(1 for _ in core.iterdir())} images, {len(truth)} true pairs")
        start = time.perf_counter()
        ours = pairs_of(our_groups(core))
        print(f"  dedup_gui {DEFAULT_SIMILARITY}% (default)   {score(ours, truth):34} "
              f"{time.perf_counter() - start:5.1f} s")
        for level in (5, 10, 15, 20):
            start = time.perf_counter()
            theirs = pairs_of(czkawka_groups(core, level))
            print(f"  czkawka similarity {level:>2}     {score(theirs, truth):34} "
                  f"{time.perf_counter() - start:5.1f} s")

    photos = sorted(args.photos.glob("*.jpg"))
    start = time.perf_counter()
    czkawka_groups(args.photos, 10)
    theirs = len(photos) / (time.perf_counter() - start)
    start = time.perf_counter()
    scanner.scan([str(args.photos)])
    ours_rate = len(photos) / (time.perf_counter() - start)
    print(f"\n{len(photos)} photos of 12 MP, cold, all cores: czkawka {theirs:.1f} photos/s, "
          f"dedup_gui {ours_rate:.1f} photos/s ({ours_rate / theirs:.1f}x)")
    if args.formats:
        compare_formats()


def compare_formats() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from format_corpus import FORMATS, folder_for

    print("\nsame photos by format, 12 MP, cold, all cores (photos/s):")
    for name in FORMATS:
        folder = folder_for(name, "12mp")
        count = sum(1 for _ in folder.iterdir()) if folder.is_dir() else 0
        if not count:
            print(f"  {name:15} (run benchmarks/format_corpus.py first)")
            continue
        start = time.perf_counter()
        try:
            czkawka_groups(folder, 10)
            theirs = f"{count / (time.perf_counter() - start):6.1f}"
        except Exception as error:  # a format the binding cannot read
            theirs = f"failed ({type(error).__name__})"
        start = time.perf_counter()
        result = scanner.scan([str(folder)])
        ours_rate = len(result.records) / (time.perf_counter() - start)
        print(f"  {name:15} czkawka {theirs}   dedup_gui {ours_rate:6.1f}")


if __name__ == "__main__":
    main()
