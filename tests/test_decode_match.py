"""The rule that tells a lossless file holding a lossy file's decode (images/decode_match.py)
from the original of a high-quality JPEG export, on generated photos."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from dedup_gui.core.images.decode_match import equal_share_holds, holds_decode
from tests.imagegen import make_photo

SIZE = (640, 480)


def decoded(image: Image.Image, **options: object) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def test_the_same_decode_holds():
    decode = decoded(make_photo(3, *SIZE), quality=90)
    assert equal_share_holds(decode.copy(), decode)


def test_another_decoders_rounding_in_a_few_values_still_holds():
    decode = decoded(make_photo(3, *SIZE), quality=90)
    rng = np.random.default_rng(0)
    pixels = np.asarray(decode).astype(np.int16)
    nudged = rng.random(pixels.shape) < 0.04  # float IDCT: 2-5% of the values, by 1
    other = np.clip(pixels + nudged * rng.choice([-1, 1], pixels.shape), 0, 255)
    assert equal_share_holds(Image.fromarray(other.astype(np.uint8)), decode)


@pytest.mark.parametrize("quality", [90, 95, 100])
@pytest.mark.parametrize("subsampling", [0, 2])
def test_a_png_original_does_not_hold_its_jpeg_exports_decode(quality, subsampling):
    original = make_photo(4, *SIZE)
    assert not equal_share_holds(
        original, decoded(original, quality=quality, subsampling=subsampling)
    )


def test_files_are_decoded_whole_and_a_size_mismatch_does_not_hold(tmp_path):
    photo = make_photo(5, 1200, 900)
    (tmp_path / "a.jpg").write_bytes(_jpeg(photo))
    Image.open(tmp_path / "a.jpg").convert("RGB").save(tmp_path / "a.png")
    Image.open(tmp_path / "a.jpg").convert("RGB").crop((0, 0, 1200, 896)).save(tmp_path / "b.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n nothing")
    assert holds_decode(str(tmp_path / "a.png"), str(tmp_path / "a.jpg")) is True
    assert holds_decode(str(tmp_path / "b.png"), str(tmp_path / "a.jpg")) is False
    assert holds_decode(str(tmp_path / "broken.png"), str(tmp_path / "a.jpg")) is None


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()
