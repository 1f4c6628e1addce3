"""Deep copy detection (core/deep) on hard copies the hashes miss, through the real
pipeline (scanner.scan with the descriptor hook -> SimilarityIndex with deep links).

    python benchmarks/eval_deep.py [--workdir DIR] [--model FILE] [--keep-cache]

The set (written once to WORKDIR/images-deep, names as in eval_variants.py):
- copy sources: two thirds of scikit-image's sample photos, each with the hash variants of
  eval_variants.py and hard copies: crops of 10/20/30% of each side (centred and off-
  centre), turns by 5/15/25 degrees (straightened: cropped to the largest upright frame),
  an aspect squash, a mirror, a sticker, a watermark, a heavy colour grade, the picture
  inside a white border and inside a screenshot frame;
- hard negatives from the other third (never a copy of anything in the set): burst-like
  neighbours (windows of one scene shifted 10 and 20%), the same layout in other colours
  (posterised, another palette);
- distractors: eval_variants' tiles, flat/dark/gradient frames and light/dark layouts,
  and EXTRA_SMOOTH more smooth, low-detail pictures (blurred blobs, vignettes).

Reported: pairwise precision over the whole set and recall of the hard copies (pairs
original ~ hard copy grouped), per slider setting, hashes only vs with --deep; recall per
hard-copy kind; candidates and verification counts; scan speed with and without deep.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

sys.path.insert(0, str(Path(__file__).parent))
from eval_accuracy import Truth, pairs_of
from eval_variants import (
    parse_name,
    sample_photos,
    write_low_detail_and_style,
    write_tiles,
    write_variants,
)

from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.similarity import DEFAULT_SIMILARITY
from dedup_gui.core.images.thumbnails import load_thumbnail
from dedup_gui.core.models import ImageRecord
from dedup_gui.core.scanning import scanner
from dedup_gui.core.scanning.cache import HashCache

SLIDER = (95, 93, 92, 91, 90, 89, 88, 87)
EXTRA_SMOOTH = 600
HARD_KINDS = (
    "crop10c", "crop20c", "crop30c", "crop10o", "crop20o", "crop30o",
    "rot5", "rot15", "rot25", "squash", "mirror", "sticker", "watermark", "grade",
    "border", "screenshot",
)  # fmt: skip


def _crop(image: Image.Image, share: float, centred: bool) -> Image.Image:
    width, height = image.size
    keep_w, keep_h = round(width * (1 - share)), round(height * (1 - share))
    left = (width - keep_w) // 2 if centred else width - keep_w
    top = (height - keep_h) // 2 if centred else 0
    return image.crop((left, top, left + keep_w, top + keep_h))


def _straightened(image: Image.Image, degrees: float) -> Image.Image:
    """Turned by `degrees` and cropped to the largest upright frame of the same aspect
    inside it, as a photo editor's straighten tool does."""
    width, height = image.size
    turned = image.rotate(degrees, Image.Resampling.BICUBIC, expand=False)
    angle = math.radians(abs(degrees))
    scale = 1 / (math.cos(angle) + max(width / height, height / width) * math.sin(angle))
    return _crop(turned, 1 - scale, centred=True)


def _sticker(image: Image.Image) -> Image.Image:
    out = image.copy()
    draw = ImageDraw.Draw(out)
    side = min(image.size) // 4
    left, top = image.width - side - image.width // 12, image.height // 12
    draw.ellipse((left, top, left + side, top + side), fill=(250, 210, 30), outline=(0, 0, 0),
                 width=3)
    eye = side // 8
    for dx in (side // 3, 2 * side // 3):
        draw.ellipse((left + dx - eye, top + side // 3, left + dx + eye, top + side // 3 + 2 * eye),
                     fill=(0, 0, 0))
    draw.arc((left + side // 4, top + side // 3, left + 3 * side // 4, top + 3 * side // 4),
             20, 160, fill=(0, 0, 0), width=4)
    return out


def _watermark(image: Image.Image) -> Image.Image:
    base = image.convert("RGBA")
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    font = ImageFont.load_default(size=max(14, image.height // 7))
    draw.text((image.width // 10, image.height // 2 - image.height // 12), "SAMPLE (c)",
              fill=(255, 255, 255, 120), font=font, stroke_width=2, stroke_fill=(0, 0, 0, 120))
    return Image.alpha_composite(base, layer).convert("RGB")


def _grade(image: Image.Image) -> Image.Image:
    """Teal-and-orange with crushed blacks and more saturation: a heavy look."""
    pixels = np.asarray(image, np.float32) / 255
    luma = pixels @ np.array([0.299, 0.587, 0.114], np.float32)
    teal, orange = np.array([0.0, 0.5, 0.55]), np.array([1.0, 0.6, 0.25])
    tint = teal * (1 - luma[..., None]) + orange * luma[..., None]
    graded = 0.55 * pixels + 0.45 * tint
    graded = np.clip((graded - 0.08) / 0.85, 0, 1) ** 1.15
    out = Image.fromarray((graded * 255).astype(np.uint8))
    return ImageEnhance.Color(out).enhance(1.4)


def _border(image: Image.Image) -> Image.Image:
    margin = max(image.size) // 10
    canvas = Image.new("RGB", (image.width + 2 * margin, image.height + 2 * margin),
                       (250, 250, 248))
    canvas.paste(image, (margin, margin))
    return canvas


def _screenshot(image: Image.Image) -> Image.Image:
    """The picture in an image viewer's window: title bar, toolbar, side panel."""
    bar, side = max(24, image.height // 10), max(40, image.width // 4)
    canvas = Image.new("RGB", (image.width + side + 20, image.height + 2 * bar + 20),
                       (236, 236, 236))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, canvas.width, bar), fill=(60, 63, 70))
    font = ImageFont.load_default(size=bar // 2)
    draw.text((10, bar // 4), "photo.jpg - Viewer", fill=(230, 230, 230), font=font)
    for k in range(6):
        draw.rectangle((12 + 34 * k, bar + 6, 40 + 34 * k, 2 * bar - 6), fill=(200, 200, 205))
    for k in range(8):
        top = 2 * bar + 10 + k * 22
        draw.rectangle((image.width + 30, top, canvas.width - 10, top + 14), fill=(215, 215, 220))
    canvas.paste(image, (10, 2 * bar + 10))
    return canvas


def hard_copies(image: Image.Image) -> dict[str, Image.Image]:
    width, height = image.size
    out = {}
    for share in (10, 20, 30):
        out[f"crop{share}c"] = _crop(image, share / 100, centred=True)
        out[f"crop{share}o"] = _crop(image, share / 100, centred=False)
    for degrees in (5, 15, 25):
        out[f"rot{degrees}"] = _straightened(image, degrees)
    out["squash"] = image.resize((round(width * 0.72), height), Image.Resampling.LANCZOS)
    out["mirror"] = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    out["sticker"] = _sticker(image)
    out["watermark"] = _watermark(image)
    out["grade"] = _grade(image)
    out["border"] = _border(image)
    out["screenshot"] = _screenshot(image)
    return out


def _window(image: Image.Image, shift_x: float, shift_y: float) -> Image.Image:
    width, height = image.size
    keep_w, keep_h = round(width * 0.78), round(height * 0.78)
    left, top = round(width * shift_x), round(height * shift_y)
    return image.crop((left, top, left + keep_w, top + keep_h))


def _recoloured(image: Image.Image, seed: int) -> Image.Image:
    """The same layout in other colours: posterised to 6 colours, each replaced by
    another colour drawn at random."""
    rng = np.random.default_rng(seed)
    indexed = image.quantize(6, method=Image.Quantize.MEDIANCUT)
    palette = rng.integers(0, 256, (256, 3), dtype=np.uint8)
    indexed.putpalette(palette.ravel().tolist())
    return indexed.convert("RGB")


def write_extra_smooth(folder: Path, count: int, seed: int = 11) -> None:
    """Smooth pictures with some structure (blurred blobs, vignettes): low-detail images
    of the kind that collide in descriptor space."""
    rng = np.random.default_rng(seed)
    for k in range(count):
        side = int(rng.choice([192, 256, 320]))
        base = tuple(int(v) for v in rng.integers(0, 256, 3))
        image = Image.new("RGB", (side, side), base)
        draw = ImageDraw.Draw(image)
        for _ in range(int(rng.integers(1, 5))):
            xs = sorted(rng.integers(0, side, 2).tolist())
            ys = sorted(rng.integers(0, side, 2).tolist())
            colour = tuple(int(v) for v in rng.integers(0, 256, 3))
            draw.ellipse((xs[0], ys[0], xs[1], ys[1]), fill=colour)
        image = image.filter(ImageFilter.GaussianBlur(side / 8))
        pixels = np.asarray(image, np.float32) + rng.normal(0, 2.0, (side, side, 3))
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(
            folder / f"lowdetail__blob{k}__{'ab'[k % 2]}__lowdetail.png"
        )


def build(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        return
    photos = sample_photos()
    for k, (name, image) in enumerate(sorted(photos.items())):
        half = "ab"[k % 2]
        if k % 3 != 2:  # a copy source
            write_variants(folder, name, half, image)
            for kind, copy in hard_copies(image).items():
                copy.save(folder / f"hard__{name}__{half}__{kind}.jpg", quality=90)
            continue
        for tag, (dx, dy) in {"0": (0.0, 0.0), "10": (0.1, 0.0), "20": (0.2, 0.2)}.items():
            _window(image, dx, dy).save(folder / f"burst__{name}-at{tag}__{half}__burst.jpg",
                                        quality=90)
        for palette in (1, 2):
            _recoloured(image, 100 * k + palette).save(
                folder / f"recolour__{name}-p{palette}__{half}__recolour.png"
            )
    write_tiles(folder, photos)
    write_low_detail_and_style(folder)
    write_extra_smooth(folder, EXTRA_SMOOTH)


def scan(
    folder: Path, cache: HashCache, deep: object | None
) -> tuple[list[ImageRecord], object, float]:
    started = time.perf_counter()
    options = scanner.ScanOptions(descriptors=deep)  # type: ignore[arg-type]
    result = scanner.scan([str(folder)], cache=cache, options=options)
    elapsed = time.perf_counter() - started
    records = sorted(result.records, key=lambda r: r.path)
    return records, result.descriptors, elapsed


def evaluate(
    index: SimilarityIndex, records: Sequence[ImageRecord], truth: Truth, label: str
) -> None:
    position = {r.path: k for k, r in enumerate(records)}
    everything = list(range(len(records)))
    expected = truth.true_pairs(everything)
    originals = {truth.labels[k]: k for k, f in enumerate(truth.files) if f.kind == "original"}
    hard = [(k, originals[f.truth]) for k, f in enumerate(truth.files)
            if f.kind == "hard" and f.truth in originals]
    hard_pairs = {(min(a, b), max(a, b)) for a, b in hard}
    print(f"\n{label}: {index.pair_count} verified pairs")
    print(f"{'similarity':>10}  {'precision':>9} {'pairs':>6}  {'hard recall':>11}  false pairs")
    for similarity in SLIDER:
        groups = index.groups(similarity)
        predicted = pairs_of([[position[m.record.path] for m in g.members] for g in groups])
        hits = len(predicted & expected)
        precision = hits / len(predicted) if predicted else 1.0
        recall = len(predicted & hard_pairs) / len(hard_pairs)
        wrong = sorted(predicted - expected)
        sample = ", ".join(
            f"{Path(records[a].path).stem[:28]}~{Path(records[b].path).stem[:28]}"
            for a, b in wrong[:2]
        )
        marker = " <- default" if similarity == DEFAULT_SIMILARITY else ""
        print(f"{similarity:>9}%  {precision:9.4f} {len(predicted):6d}  {recall:11.3f}  "
              f"{len(wrong)} {sample}{marker}")
    for similarity in (DEFAULT_SIMILARITY, SLIDER[-1]):
        groups = index.groups(similarity)
        predicted = pairs_of([[position[m.record.path] for m in g.members] for g in groups])
        by_kind: dict[str, list[bool]] = {}
        for a, b in hard:
            pair = (min(a, b), max(a, b))
            by_kind.setdefault(truth.files[a].variant, []).append(pair in predicted)
        print(f"  hard recall per kind at {similarity}%: " + ", ".join(
            f"{kind} {np.mean(by_kind[kind]):.2f}" for kind in HARD_KINDS if kind in by_kind))
        wrong = predicted - expected
        kinds = Counter(
            " ~ ".join(sorted((truth.files[a].kind, truth.files[b].kind))) for a, b in wrong
        )
        print(f"  false pairs at {similarity}% by kind: {dict(kinds)}")
        if similarity == DEFAULT_SIMILARITY:
            for a, b in sorted(wrong):
                print(f"    {Path(records[a].path).stem}  ~  {Path(records[b].path).stem}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "dedup-eval")
    parser.add_argument("--model", help="an SSCD-compatible ONNX file (default: bundled)")
    parser.add_argument("--keep-cache", action="store_true",
                        help="reuse the last run's cache (hashes and descriptors)")
    args = parser.parse_args()
    from dedup_gui.core.deep.extractor import DescriptorExtractor
    from dedup_gui.core.deep.model import load_model
    from dedup_gui.core.deep.store import DescriptorStore
    from dedup_gui.core.deep.verify import DeepSearch

    folder = args.workdir / "images-deep"
    build(folder)
    model = load_model(args.model)
    cache_file = args.workdir / "cache-deep.sqlite"
    for suffix in ("", "-wal", "-shm") if not args.keep_cache else ():
        Path(f"{cache_file}{suffix}").unlink(missing_ok=True)
    cache = HashCache(cache_file)
    records, _, hash_seconds = scan(folder, cache, None)
    print(f"{len(records)} images; hash scan {hash_seconds:.1f} s "
          f"({len(records) / hash_seconds:.0f}/s, small images)")
    store = DescriptorStore(cache.path, str(model.identity))
    extractor = DescriptorExtractor(model, store)
    started = time.perf_counter()
    records, descriptors, _ = scan(folder, cache, extractor)
    print(f"deep pass over cached records: {time.perf_counter() - started:.1f} s, "
          f"{len(descriptors)} descriptors")
    truth = Truth(records)
    for f in truth.files:
        assert parse_name(f.path) == f
    evaluate(SimilarityIndex.build(records), records, truth, "hashes only")

    def thumbnail(record: ImageRecord) -> Image.Image | None:
        try:
            return load_thumbnail(record.path, cache=cache)
        except Exception:
            return None

    started = time.perf_counter()
    search = DeepSearch(descriptors, thumbnail)  # type: ignore[arg-type]
    index = SimilarityIndex.build(records, deep=search)
    links = index.deep_links
    assert links is not None
    print(f"\nindex build with deep: {time.perf_counter() - started:.1f} s; "
          f"{links.candidates} deep-only candidates, {len(links)} verified")
    evaluate(index, records, truth, "with --deep")


if __name__ == "__main__":
    main()
