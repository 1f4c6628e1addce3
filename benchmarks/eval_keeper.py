"""How often the suggested keeper is the unedited original, through the real pipeline
(scanner.scan -> SimilarityIndex -> groups at the default slider, default keeper rules).

    python benchmarks/eval_keeper.py [--workdir DIR] [--stress | --names]

Each original is a camera-like JPEG in library/ (quality 86-93, EXIF Make, Model,
DateTimeOriginal, DateTime, PixelX/YDimension, firmware Software) made from a
scikit-image sample photo or a tests/imagegen photo. Its edits sit in downloads/,
old-disk/ and phone-export/: brighten, gamma, caption, watermark, grayscale, crop, JPEG
re-encode at a lower and at a higher quality, resize down and up, the same pixels
with the metadata stripped, and a PNG saved from the original's decode (a "backup"
conversion: the same decoded pixels). Every edit is at the original's resolution (except
the resizes) and larger in bytes (saved finer, or padded with an XMP-sized comment, as
editors write), so "largest file" alone picks an edit. No protected folder is marked.

Also reported: the original + its PNG conversion + its resized-down copy (the folder a
user showed), and the reverse case in a folder scanned on its own: a PNG original (the
source pixels, no EXIF) and a JPEG exported from it (other pixels), where the PNG must
be kept. And both at a camera's size (LARGE_SIDE on the shorter side, above the 512 px
where the reduced decodes of a JPEG and a PNG differ): a JPEG + the PNG of its decode
(the JPEG must be kept), a PNG original + its quality-95 JPEG export (the PNG must be).

How an edit was saved varies per file, as programs do: an editor that keeps the EXIF
and writes its name and a modify date; a web tool that strips it; a converter that
copies the EXIF verbatim. Edited files are saved after the original (later mtime).
`--stress` removes the easy evidence: every edit keeps the original's EXIF verbatim and
its mtime, so only the pixels, the compression and the sizes are left.
`--names` is `--stress` with camera-style names ("IMG_1000.jpg") and each edit saved
under its original's name with a copy marker an OS or app adds (MARKERS: "IMG_1000 (1)",
"IMG_1000 copy", "Copy of IMG_1000", "IMG_E1000", ...), in another folder.

Reported: the share of groups whose keeper is the original, for pairs (original + one
edit, by kind) and for whole groups (original + all its edits), on the design half "a"
and on the hold-out half "b" (sources never looked at while the rules were written).
"""

from __future__ import annotations

import argparse
import io
import os
import struct
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from imagegen import make_photo

from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.keeper import choose_in_group
from dedup_gui.core.grouping.similarity import DEFAULT_SIMILARITY
from dedup_gui.core.scanning import scanner

_SKIMAGE = {
    "a": ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry"),
    "b": ("cat", "retina", "hubble_deep_field", "camera", "coins"),
}
_GENERATED = {"a": (11, 12, 13), "b": (21, 22, 23)}
EDITS = (
    "brighten", "gamma", "caption", "watermark", "grayscale", "crop",
    "reencode-lower", "reencode-higher", "resize-down", "resize-up", "stripped",
    "png-conversion",
)  # fmt: skip
_FOLDERS = ("downloads", "old-disk", "phone-export")
MARKERS = (
    "{} (1)", "{} copy", "{} copy 2", "{} - Copy", "{} - Copy (2)", "Copy of {}", "{}-edited",
    "{}_edit", "{}-edit", "IMG_E{number}", "{}~2", "{}-1", "{}(2)",
)  # fmt: skip
"""--names: how an edit's file is named from its original's stem "IMG_<number>"."""
_EDITORS = ("Adobe Photoshop 24.1 (Windows)", "GIMP 2.10.34", "Snapseed 2.0", "Photos 8.0")
_BASE_TIME = 1_600_000_000
LARGE_SIDE = 900


def sources() -> list[tuple[str, str, np.ndarray]]:
    import skimage.data

    out = []
    for half, names in _SKIMAGE.items():
        for name in names:
            pixels = getattr(skimage.data, name)()
            if pixels.ndim == 2:
                pixels = np.stack([pixels] * 3, axis=-1)
            out.append((half, name, np.ascontiguousarray(pixels[..., :3])))
    for half, seeds in _GENERATED.items():
        for seed in seeds:
            out.append((half, f"generated{seed}", np.asarray(make_photo(seed, 640, 480))))
    return out


def camera_exif(index: int, width: int, height: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = ("Canon", "NIKON CORPORATION", "Apple", "SONY")[index % 4]
    exif[0x0110] = ("Canon EOS 80D", "NIKON D750", "iPhone 12", "ILCE-7M3")[index % 4]
    exif[0x0131] = ("Firmware Version 1.0.2", "Ver.1.10", "15.4.1", "ILCE-7M3 v3.01")[index % 4]
    stamp = f"2021:{index % 12 + 1:02}:{index % 27 + 1:02} 10:{index % 60:02}:00"
    exif[0x0132] = stamp
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = stamp
    sub[0xA002] = width
    sub[0xA003] = height
    return exif


def edited(kind: str, image: Image.Image, seed: int) -> tuple[Image.Image, int | None]:
    """(pixels, JPEG quality to save at, None = the original's bytes) of edit `kind`."""
    rng = np.random.default_rng(seed)
    width, height = image.size
    pixels = np.asarray(image, np.float32)
    if kind == "brighten":
        return _image(pixels + 20 + 15 * rng.random()), 95
    if kind == "gamma":
        return _image(255 * (pixels / 255) ** (0.65 + 0.1 * rng.random())), 95
    if kind == "grayscale":
        return image.convert("L").convert("RGB"), 97
    if kind in ("caption", "watermark"):
        out = image.copy()
        draw = ImageDraw.Draw(out)
        if kind == "caption":
            top = int(height * 0.84)
            draw.rectangle((0, top, width, height), fill=(0, 0, 0))
            draw.text((width // 20, top + 4), "Summer 2021 - with love", fill=(255, 255, 255))
        else:
            layer = Image.new("RGBA", out.size, (0, 0, 0, 0))
            mark = ImageDraw.Draw(layer)
            x0, y0 = int(width * (0.55 + 0.1 * rng.random())), int(height * 0.1)
            mark.rectangle((x0, y0, x0 + width // 4, y0 + height // 8), fill=(255, 255, 255, 120))
            mark.text((x0 + 4, y0 + 4), "(c) PHOTO", fill=(0, 0, 0, 200))
            out = Image.alpha_composite(out.convert("RGBA"), layer).convert("RGB")
            del draw
        return out, 95
    if kind == "crop":
        margin = 0.04 + 0.03 * rng.random()
        box = (width * margin, height * margin, width * (1 - margin), height * (1 - margin))
        return image.resize((width, height), Image.Resampling.LANCZOS, box=box), 96
    if kind == "reencode-lower":
        return image, 70
    if kind == "reencode-higher":
        return image, 98
    if kind == "resize-down":
        return image.resize((width * 3 // 5, height * 3 // 5), Image.Resampling.LANCZOS), 95
    if kind == "resize-up":
        return image.resize((width * 3 // 2, height * 3 // 2), Image.Resampling.BICUBIC), 92
    if kind in ("stripped", "png-conversion"):
        return image, None
    raise ValueError(kind)


def _image(pixels: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def without_exif(jpeg: bytes) -> bytes:
    """The same JPEG with its APP1 (EXIF) segments removed: the same pixels, losslessly."""
    out, at = bytearray(jpeg[:2]), 2
    while at + 4 <= len(jpeg) and jpeg[at] == 0xFF and jpeg[at + 1] not in (0xDA, 0xD9):
        length = struct.unpack(">H", jpeg[at + 2 : at + 4])[0]
        if jpeg[at + 1] != 0xE1:
            out += jpeg[at : at + 2 + length]
        at += 2 + length
    return bytes(out + jpeg[at:])


def with_comment(jpeg: bytes, size: int) -> bytes:
    """`jpeg` with a COM segment of `size` bytes after SOI (editors embed XMP that big)."""
    size = min(size, 65_000)
    segment = b"\xff\xfe" + struct.pack(">H", size + 2) + b"x" * size
    return jpeg[:2] + segment + jpeg[2:]


def save_png(image: Image.Image, exif: Image.Exif | None) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **({"exif": exif} if exif is not None else {}))
    return buffer.getvalue()


def save_as(image: Image.Image, quality: int, exif: Image.Exif | None) -> bytes:
    buffer = io.BytesIO()
    options: dict[str, object] = {"quality": quality}
    if exif is not None:
        options["exif"] = exif
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()


def build(
    folder: Path, *, stress: bool, names: bool = False
) -> dict[str, tuple[str, str, str]]:
    """Write the set under folder/set; returns path -> (half, source, kind) ("original" for
    originals). The reverse case (a PNG original and a JPEG of it) goes to
    folder/png-originals: "png-original", "jpeg-export"."""
    stress = stress or names
    truth: dict[str, tuple[str, str, str]] = {}
    reverse = folder / "png-originals"
    folder = folder / "set"
    for index, (half, name, pixels) in enumerate(sources()):
        rng = np.random.default_rng(index)
        image = Image.fromarray(pixels, "RGB")
        width, height = image.size
        exif = camera_exif(index, width, height)
        original = save_as(image, int(rng.integers(86, 94)), exif)
        number = 1000 + index
        stem = f"IMG_{number}" if names else name
        path = folder / "library" / f"{stem}.jpg"
        _write(path, original, _BASE_TIME + index)
        truth[str(path)] = (half, name, "original")
        decoded = Image.open(io.BytesIO(original)).convert("RGB")
        for k, kind in enumerate(EDITS):
            pixels_out, quality = edited(kind, decoded, index * 100 + k)
            saved_by = "verbatim" if stress else ("editor", "strip", "verbatim")[(index + k) % 3]
            if kind == "png-conversion":
                data = save_png(pixels_out, _edit_exif(saved_by, exif, index, k))
            elif quality is None:
                data = without_exif(original)
            else:
                data = save_as(pixels_out, quality, _edit_exif(saved_by, exif, index, k))
            if kind not in ("resize-down", "png-conversion") and len(data) <= len(original):
                data = with_comment(data, len(original) - len(data) + 2000 + 97 * k)
            mtime = _BASE_TIME + index if stress else _BASE_TIME + 86_400 * (k + 1) + index
            extension = "png" if kind == "png-conversion" else "jpg"
            if names:
                marked = MARKERS[(index + k) % len(MARKERS)].format(stem, number=number)
                target = folder / _FOLDERS[k % 3] / f"{marked}.{extension}"
            else:
                target = folder / _FOLDERS[k % 3] / f"{name}-{kind}.{extension}"
            _write(target, data, mtime)
            truth[str(target)] = (half, name, kind)
        png_original = reverse / "library" / f"{stem}.png"
        _write(png_original, save_png(image, None), _BASE_TIME + index)
        truth[str(png_original)] = (half, name, "png-original")
        export_time = _BASE_TIME + index if stress else _BASE_TIME + 86_400 + index
        export = reverse / "exports" / f"{stem}.jpg"
        _write(export, save_as(image, 92, None), export_time)
        truth[str(export)] = (half, name, "jpeg-export")
        _build_large(folder.parent / "large", truth, half, name, image, exif, index, stem)
    return truth


def _build_large(
    folder: Path, truth: dict[str, tuple[str, str, str]], half: str, name: str,
    image: Image.Image, exif: Image.Exif, index: int, stem: str,
) -> None:
    """The conversion and the export cases at a camera's size, each pair in its folder,
    with the same modification time (a copy that kept it): only the pixels can tell."""
    scale = LARGE_SIDE / min(image.size)
    large = image.resize(
        (round(image.width * scale), round(image.height * scale)), Image.Resampling.BICUBIC
    )
    original = save_as(large, 90, exif)
    _write(folder / "jpeg" / stem / "photo.jpg", original, _BASE_TIME + index)
    truth[str(folder / "jpeg" / stem / "photo.jpg")] = (half, name, "large-jpeg")
    decode = Image.open(io.BytesIO(original)).convert("RGB")
    conversion = folder / "jpeg" / stem / "photo.png"  # a converter keeping EXIF and date
    _write(conversion, save_png(decode, exif), _BASE_TIME + index)
    truth[str(conversion)] = (half, name, "large-png-conversion")
    _write(folder / "png" / stem / "photo.png", save_png(large, None), _BASE_TIME + index)
    truth[str(folder / "png" / stem / "photo.png")] = (half, name, "large-png-original")
    export = folder / "png" / stem / "photo.jpg"
    _write(export, save_as(large, 95, None), _BASE_TIME + index)
    truth[str(export)] = (half, name, "large-jpeg-export")


def _edit_exif(saved_by: str, exif: Image.Exif, index: int, k: int) -> Image.Exif | None:
    if saved_by == "strip":
        return None
    if saved_by == "verbatim":
        return exif
    copy = Image.Exif()
    copy.load(exif.tobytes())
    copy[0x0131] = _EDITORS[(index + k) % len(_EDITORS)]
    copy[0x0132] = f"2023:05:{k + 1:02} 18:00:00"
    return copy


def _write(path: Path, data: bytes, mtime: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))


def evaluate(folder: Path, truth: dict[str, tuple[str, str, str]]) -> None:
    result = scanner.scan([folder / "set"])
    records = {r.path: r for r in result.records}
    by_source: dict[str, dict[str, str]] = defaultdict(dict)
    for path, (_, name, kind) in truth.items():
        by_source[name][kind] = path
    half_of = {name: half for half, name, _ in truth.values()}

    pair_hits: dict[tuple[str, str], list[bool]] = defaultdict(list)
    wrong: list[str] = []
    for name, files in by_source.items():
        original = records[files["original"]]
        for kind in EDITS:
            pair = [original, records[files[kind]]]
            keeper, reason = choose_in_group(pair, [False, False])
            pair_hits[(half_of[name], kind)].append(keeper == 0)
            if keeper != 0:
                wrong.append(f"  pair {name}/{kind}: kept the edit ({reason})")

    groups = SimilarityIndex.build(result.records).groups(DEFAULT_SIMILARITY)
    group_hits: dict[str, list[bool]] = defaultdict(list)
    reasons: dict[str, int] = defaultdict(int)
    for group in groups:
        half, name, kind = truth[group.keeper.record.path]
        kinds = {truth[m.record.path][2] for m in group.members}
        if "original" not in kinds:
            continue  # edits grouped without their original (e.g. a crop at this slider)
        group_hits[half].append(kind == "original")
        reasons[group.keep_reason] += 1
        if kind != "original":
            wrong.append(f"  group {name}: kept {kind} ({group.keep_reason})")

    conversion_hits: dict[str, list[bool]] = defaultdict(list)
    conversion_reasons: dict[str, int] = defaultdict(int)
    for name, files in by_source.items():
        triple = [records[files[k]] for k in ("original", "png-conversion", "resize-down")]
        keeper, reason = choose_in_group(triple, [False] * 3)
        conversion_hits[half_of[name]].append(keeper == 0)
        conversion_reasons[reason] += 1
        if keeper != 0:
            wrong.append(f"  original + PNG conversion + small {name}: kept another ({reason})")

    reverse = {r.path: r for r in scanner.scan([folder / "png-originals"]).records}
    reverse_hits: dict[str, list[bool]] = defaultdict(list)
    for name, files in by_source.items():
        pair = [reverse[files["png-original"]], reverse[files["jpeg-export"]]]
        keeper, reason = choose_in_group(pair, [False, False])
        reverse_hits[half_of[name]].append(keeper == 0)
        if keeper != 0:
            wrong.append(f"  PNG original + JPEG export {name}: kept the JPEG ({reason})")

    large = {r.path: r for r in scanner.scan([folder / "large"]).records}
    large_hits: dict[tuple[str, str], list[bool]] = defaultdict(list)
    large_reasons: dict[str, int] = defaultdict(int)
    for name, files in by_source.items():
        for label, kept, other in (
            ("conversion", "large-jpeg", "large-png-conversion"),
            ("export", "large-png-original", "large-jpeg-export"),
        ):
            keeper, reason = choose_in_group([large[files[kept]], large[files[other]]], [False] * 2)
            large_hits[(label, half_of[name])].append(keeper == 0)
            large_reasons[f"{label}: {reason}"] += 1
            if keeper != 0:
                wrong.append(f"  large {label} {name}: kept {other} ({reason})")

    print(f"{len(records)} images, {len(by_source)} originals, slider {DEFAULT_SIMILARITY}%")
    print("pairs (original + one edit), original kept:")
    for kind in EDITS:
        cells = []
        for half in ("a", "b"):
            hits = pair_hits[(half, kind)]
            cells.append(f"{half} {sum(hits)}/{len(hits)}")
        print(f"  {kind:16} {'  '.join(cells)}")
    for half in ("a", "b"):
        hits = [h for (hh, _), v in pair_hits.items() if hh == half for h in v]
        print(f"  all pairs, half {half}: {sum(hits) / len(hits):.1%} ({sum(hits)}/{len(hits)})")
    for half in ("a", "b"):
        hits = group_hits[half]
        share = sum(hits) / len(hits) if hits else float("nan")
        print(f"groups (original + its edits), half {half}: {share:.1%} ({sum(hits)}/{len(hits)})")
    for label, hits_by_half in (
        ("original + PNG conversion + resized-down copy", conversion_hits),
        ("PNG original + JPEG exported from it", reverse_hits),
    ):
        cells = "  ".join(
            f"{half} {sum(hits_by_half[half])}/{len(hits_by_half[half])}" for half in ("a", "b")
        )
        print(f"{label}, original kept: {cells}")
        if hits_by_half is conversion_hits:
            print("  their keeper reasons:", dict(conversion_reasons))
    for label, text in (
        ("conversion", f"JPEG + PNG of its decode at {LARGE_SIDE} px+"),
        ("export", f"PNG original + its q95 JPEG export at {LARGE_SIDE} px+"),
    ):
        cells = "  ".join(
            f"{half} {sum(large_hits[(label, half)])}/{len(large_hits[(label, half)])}"
            for half in ("a", "b")
        )
        print(f"{text}, original kept: {cells}")
    print("  their keeper reasons:", dict(large_reasons))
    print("group keeper reasons:", dict(reasons))
    if wrong:
        print("wrong keepers:")
        print("\n".join(wrong))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--stress", action="store_true")
    parser.add_argument("--names", action="store_true", help="--stress, edits named as copies")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.workdir or Path(temporary)
        truth = build(folder, stress=args.stress, names=args.names)
        evaluate(folder, truth)


if __name__ == "__main__":
    main()
