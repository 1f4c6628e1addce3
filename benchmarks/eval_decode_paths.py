"""Hashes and groups from the shortcut decodes against full decodes, on the accuracy set.

    python benchmarks/eval_decode_paths.py [--workdir DIR] [--limit N]

The core accuracy set (eval_variants.py: originals, variants, distractors; not the turned
copies), upright, written again three ways: HEIC with a 320 px embedded thumbnail as phones
write it (libheif scales it nearest-neighbour), PNG (grey and alpha kept) and WebP
(quality 90). Then:
1. the Hamming distances (dHash, pHash) between the hashes the scan computes (a HEIC from
   its thumbnail; a PNG reduced by libvips, a WebP from libwebp's Y'CbCr planes
   (webp_yuv.py) and, for comparison, by libvips) and those of a full decode (Pillow at
   full size, then the scan's own reduce, thumbnail and signatures): the distribution and
   the worst. For the HEIC thumbnail, also other ways from it to the hashed image.
2. what the thumbnail does to the candidate pairs a full decode finds (pHash + dHash within
   the loosest setting): the most a pair's distance grows with one or both sides from
   thumbnails, which scanning/confirm_thumbnails.THUMBNAIL_MARGIN_BITS must cover.
3. the groups at the default similarity of the HEIC set scanned thumbnail-first (its
   confirmation pass decoding in full every photo with a candidate partner; the share it
   decoded) and with every image decoded in full (ScanOptions.embedded_thumbnails=False),
   and of the PNG + WebP set with libvips and with Pillow alone: they must be the same.
Exits non-zero only on an error, never on a difference (which it prints).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pillow_heif
from PIL import Image, ImageOps

sys.path.insert(0, str(Path(__file__).parent))
from eval_variants import build, parse_name

from dedup_gui.core.grouping import candidates
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.similarity import DEFAULT_SIMILARITY
from dedup_gui.core.images import vips_decode, webp_yuv
from dedup_gui.core.images.decode import REDUCED_MIN_SIDE, open_reduced
from dedup_gui.core.images.signatures import Signatures, compute_signatures
from dedup_gui.core.images.thumbnails import THUMBNAIL_SIDE, fit_within
from dedup_gui.core.scanning import confirm_thumbnails, scanner

HEIC_THUMBNAIL = 320
THUMBNAIL_ROUTES: dict[str, Callable[[Image.Image], Image.Image]] = {
    "box to 256 (the scan's)": lambda image: fit_within(image, THUMBNAIL_SIDE),
    "lanczos to 256": lambda image: _resized(image, Image.Resampling.LANCZOS),
    "bilinear to 256": lambda image: _resized(image, Image.Resampling.BILINEAR),
    "as embedded": lambda image: image,
}


def _resized(image: Image.Image, resample: Image.Resampling) -> Image.Image:
    scale = THUMBNAIL_SIDE / max(image.size)
    if scale >= 1:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, resample)


def write_sets(images: Path, into: Path, limit: int | None) -> dict[str, Path]:
    folders = {name: into / name for name in ("heic", "png_webp")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    core = [p for p in sorted(images.iterdir()) if parse_name(p).kind != "transformed"]
    for path in core[:limit]:
        with Image.open(path) as opened:
            upright = ImageOps.exif_transpose(opened)
            upright.load()
        if upright.mode not in ("RGB", "RGBA", "L", "LA"):
            upright = upright.convert("RGBA" if "A" in upright.getbands() else "RGB")
        stem = path.stem
        if max(upright.size) > HEIC_THUMBNAIL:
            upright.convert("RGB").save(folders["heic"] / f"{stem}.heic", "HEIF", quality=60,
                                        thumbnails=[HEIC_THUMBNAIL])
        upright.save(folders["png_webp"] / f"{stem}.png", "PNG")
        webp = upright if upright.mode in ("RGB", "RGBA") else upright.convert("RGB")
        webp.save(folders["png_webp"] / f"{stem}.webp", "WEBP", quality=90)
    return folders


def _signatures(image: Image.Image) -> Signatures:
    return compute_signatures(fit_within(image, THUMBNAIL_SIDE))


def _bits(a: Signatures, b: Signatures) -> tuple[int, int]:
    return (a.dhash ^ b.dhash).bit_count(), (a.phash ^ b.phash).bit_count()


def _full(path: Path) -> Signatures:
    with vips_decode.disabled():
        image, _ = open_reduced(path, REDUCED_MIN_SIDE)
    return _signatures(image)


def report(name: str, distances: list[tuple[int, int]]) -> None:
    for label, values in (("dHash", [d for d, _ in distances]),
                          ("pHash", [p for _, p in distances])):
        counts = Counter(values)
        histogram = ", ".join(f"{bits}: {counts[bits]}" for bits in sorted(counts))
        within = sum(v <= 2 for v in values) / max(len(values), 1)
        print(f"  {name:28} {label}: worst {max(values, default=0):2}, <= 2 bits"
              f" {within:6.1%}  [bits: files] {histogram}")


def distances(folders: dict[str, Path]) -> list[tuple[Signatures, Signatures]]:
    print("Hamming distance to a full decode (files per number of bits):")
    heics = sorted(folders["heic"].glob("*.heic"))
    by_route: dict[str, list[tuple[int, int]]] = {route: [] for route in THUMBNAIL_ROUTES}
    scanned: list[tuple[Signatures, Signatures]] = []
    for path in heics:
        thumbnail, info = open_reduced(path, REDUCED_MIN_SIDE, embedded_long_side=THUMBNAIL_SIDE)
        if not info.from_thumbnail:
            continue
        full = _full(path)
        scanned.append((_signatures(thumbnail), full))
        for route, make in THUMBNAIL_ROUTES.items():
            by_route[route].append(_bits(compute_signatures(make(thumbnail)), full))
    print(f" HEIC from its {HEIC_THUMBNAIL} px thumbnail ({len(by_route['as embedded'])} files):")
    for route, values in by_route.items():
        report(route, values)
    routes = (
        ("png", "reduced by libvips", nullcontext),
        ("webp", "from libwebp's planes", nullcontext),
        ("webp", "reduced by libvips", webp_yuv.disabled),
    )
    for suffix, route, context in routes:
        paths = sorted(folders["png_webp"].glob(f"*.{suffix}"))
        values = []
        for path in paths:
            with context():
                reduced, _ = open_reduced(path, REDUCED_MIN_SIDE)
            values.append(_bits(_signatures(reduced), _full(path)))
        print(f" {suffix.upper()} {route} ({len(paths)} files,"
              f" libvips {'present' if vips_decode.available() else 'ABSENT'},"
              f" webp {'present' if webp_yuv.available() else 'ABSENT'}):")
        report(route, values)
    return scanned


def pair_margin(scanned: list[tuple[Signatures, Signatures]]) -> None:
    """How much further apart the thumbnails put the pairs a full decode makes candidates."""
    def words(side: int) -> np.ndarray:
        return np.array([[pair[side].phash, pair[side].dhash] for pair in scanned],
                        dtype=np.uint64).reshape(-1, 2)

    thumb, full = words(0), words(1)
    radius = confirm_thumbnails.LOOSEST_PAIR_BITS
    blocks = list(candidates.self_join(full, radius))
    if not blocks:
        print("\nNo candidate pairs among the HEICs.")
        return
    first = np.concatenate([b[0] for b in blocks])
    second = np.concatenate([b[1] for b in blocks])

    def apart(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.bitwise_count(a[first] ^ b[second]).sum(axis=1).astype(int)

    base = apart(full, full)
    both = apart(thumb, thumb) - base
    one = np.maximum(apart(thumb, full), apart(full, thumb)) - base
    own = [_bits(t, f) for t, f in scanned]
    print(f"\nCandidate pairs of a full decode (pHash + dHash <= {radius}): {len(base)};"
          f" growth of their distance from thumbnails: both sides worst {both.max()},"
          f" one side worst {one.max()} (margin used:"
          f" {confirm_thumbnails.THUMBNAIL_MARGIN_BITS}); a photo's own pHash + dHash"
          f" error worst {max(d + p for d, p in own)}")


def groups_of(folder: Path, options: scanner.ScanOptions) -> set[frozenset[str]]:
    records = scanner.scan([str(folder)], options=options).records
    if options.embedded_thumbnails and folder.name == "heic":
        kept = sum(record.from_thumbnail for record in records)
        print(f" HEIC thumbnail-first: {len(records) - kept} of {len(records)} decoded in full"
              f" by the confirmation pass ({(len(records) - kept) / max(len(records), 1):.0%}),"
              f" {kept} kept their thumbnail hashes")
    found = SimilarityIndex.build(records).groups(DEFAULT_SIMILARITY)
    return {frozenset(Path(m.record.path).name for m in group.members) for group in found}


def compare_groups(name: str, fast: set[frozenset[str]], full: set[frozenset[str]]) -> None:
    verdict = "the same" if fast == full else "DIFFERENT"
    print(f" {name}: {len(fast)} groups fast, {len(full)} full: {verdict}")
    for group in sorted(fast ^ full, key=sorted):
        print(f"   only {'fast' if group in fast else 'full'}: {sorted(group)}")


def groups(folders: dict[str, Path]) -> None:
    print(f"\nGroups at {DEFAULT_SIMILARITY}% (no cache):")
    started = time.perf_counter()
    heic_fast = groups_of(folders["heic"], scanner.ScanOptions(embedded_thumbnails=True))
    heic_full = groups_of(folders["heic"], scanner.ScanOptions(embedded_thumbnails=False))
    compare_groups("HEIC thumbnail-first vs full decode", heic_fast, heic_full)
    plain = scanner.ScanOptions()
    png_fast = groups_of(folders["png_webp"], plain)
    with webp_yuv.disabled():
        png_vips = groups_of(folders["png_webp"], plain)
    with vips_decode.disabled():
        png_full = groups_of(folders["png_webp"], plain)
    compare_groups("PNG + WebP as scanned vs Pillow", png_fast, png_full)
    compare_groups("PNG + WebP libvips alone vs Pillow", png_vips, png_full)
    print(f" ({time.perf_counter() - started:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "dedup-eval-decode-paths")
    parser.add_argument("--limit", type=int, help="only the first N files of the core set")
    args = parser.parse_args()
    pillow_heif.register_heif_opener()
    build(args.workdir / "images")
    with tempfile.TemporaryDirectory() as scratch:
        folders = write_sets(args.workdir / "images", Path(scratch), args.limit)
        pair_margin(distances(folders))
        groups(folders)


if __name__ == "__main__":
    main()
