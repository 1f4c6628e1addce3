"""Both directions of images/decode_match.py's rule, measured: the share of colour values
exactly equal (in textured 8x8 blocks) between Pillow's decode of a JPEG and
- a PNG made from that JPEG by another decoder (ImageMagick's libjpeg with the float or
  ifast IDCT, without fancy chroma upsampling): a conversion, to be recognised;
- the PNG the JPEG was exported from (Pillow or ImageMagick, quality 90/95/98/100,
  4:4:4 and 4:2:0): the PNG is the original, never to be taken for a conversion.

    python benchmarks/eval_decode_match.py [photo indices, default 0 1 2 3]

Photos: benchmarks/photo_corpus.make_photo at 1600x1200, each also blurred ("smooth"),
pasted small on a flat card ("card") and brightened until it clips ("bright"). Needs
ImageMagick's `convert` for the other decoders (without it, only the exports are run).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.photo_corpus import make_photo
from dedup_gui.core.images import decode_match

SIZE = (1600, 1200)
DECODERS = {
    "im-default": (),
    "im-float": ("jpeg:dct-method=float",),
    "im-ifast": ("jpeg:dct-method=ifast",),
    "im-nofancy": ("jpeg:fancy-upsampling=off",),
}


def equal_share(held: np.ndarray, decoded: np.ndarray) -> float:
    rows, cols = held.shape[0] // 8 * 8, held.shape[1] // 8 * 8
    a, b = held[:rows, :cols], decoded[:rows, :cols]
    grey = a.mean(axis=2, dtype=np.float32).reshape(rows // 8, 8, cols // 8, 8)
    mask = np.repeat(np.repeat(grey.std(axis=(1, 3)) > decode_match.TEXTURE_STD, 8, 0), 8, 1)
    return float((a == b)[mask].mean()) if mask.any() else 1.0


def jpeg(image: Image.Image, quality: int, subsampling: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, subsampling=subsampling)
    return buffer.getvalue()


def pillow_decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def magick(work: Path, source: Path, *args: str) -> np.ndarray:
    target = work / "out.png"
    subprocess.run(["convert", *args, str(source), "-depth", "8", f"png24:{target}"], check=True)
    return np.asarray(Image.open(target).convert("RGB"))


def variants(index: int) -> dict[str, Image.Image]:
    photo = make_photo(index).resize(SIZE, Image.Resampling.LANCZOS)
    small = (SIZE[0] // 8, SIZE[1] // 8)
    smooth = photo.resize(small, Image.Resampling.BOX).resize(SIZE, Image.Resampling.BICUBIC)
    card = Image.new("RGB", SIZE, (250, 250, 250))
    card.paste(photo.resize((SIZE[0] // 3, SIZE[1] // 3)), (SIZE[0] // 3, SIZE[1] // 3))
    bright = np.clip(np.asarray(photo, np.float32) * 1.8, 0, 255).astype(np.uint8)
    return {"photo": photo, "smooth": smooth, "card": card, "bright": Image.fromarray(bright)}


def main() -> None:
    indices = [int(arg) for arg in sys.argv[1:]] or [0, 1, 2, 3]
    have_magick = shutil.which("convert") is not None
    shares: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        for index in indices:
            for label, image in variants(index).items():
                for quality, sub in ((75, 2), (90, 2), (95, 2), (95, 0), (100, 0)):
                    data = jpeg(image, quality, sub)
                    (work / "a.jpg").write_bytes(data)
                    ours = pillow_decode(data)
                    for name, defines in DECODERS.items() if have_magick else ():
                        args = [x for d in defines for x in ("-define", d)]
                        share = equal_share(magick(work, work / "a.jpg", *args), ours)
                        key = f"conversion {name:10} {'444' if sub == 0 else '420'} {label}"
                        shares.setdefault(key, []).append(share)
                original = np.asarray(image)
                for quality in (90, 95, 98, 100):
                    for sub in (0, 2):
                        share = equal_share(original, pillow_decode(jpeg(image, quality, sub)))
                        key = f"export q{quality:<3} pillow {'444' if sub == 0 else '420'} {label}"
                        shares.setdefault(key, []).append(share)
    for key in sorted(shares):
        values = shares[key]
        print(f"{key:40} {min(values):.3f} - {max(values):.3f}  (n={len(values)})")
    print(f"rule: equal share >= {decode_match.MIN_EQUAL_SHARE}")


if __name__ == "__main__":
    main()
