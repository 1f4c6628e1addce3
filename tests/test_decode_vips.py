"""PNG and WebP decoded by libvips (vips_decode.py), a lossy WebP from libwebp's Y'CbCr
planes (webp_yuv.py): the same picture as Pillow's full decode, and libvips or Pillow still
decode whatever those would read differently."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from dedup_gui.core.images import vips_decode, webp_yuv
from dedup_gui.core.images.decode import ImageLoadError, open_reduced
from dedup_gui.core.images.signatures import compute_signatures
from dedup_gui.core.images.thumbnails import THUMBNAIL_SIDE, fit_within
from tests.engine_fixtures import with_alpha
from tests.imagegen import make_photo

needs_vips = pytest.mark.skipif(not vips_decode.available(), reason="pyvips not installed")
needs_webp = pytest.mark.skipif(not webp_yuv.available(), reason="webp not installed")


def _hashes(path: Path) -> tuple[int, int]:
    reduced, _ = open_reduced(path)
    signatures = compute_signatures(fit_within(reduced, THUMBNAIL_SIDE))
    return signatures.dhash, signatures.phash


def _bits(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return (a[0] ^ b[0]).bit_count(), (a[1] ^ b[1]).bit_count()


def _refuse_pillow_decode(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on Pillow may open a PNG or WebP (header, metadata) but never decode its pixels."""

    def refuse(self: Image.Image) -> None:
        raise AssertionError("Pillow decoded the pixels")

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", refuse)
    from PIL import WebPImagePlugin

    monkeypatch.setattr(WebPImagePlugin.WebPImageFile, "load", refuse)


@needs_vips
@pytest.mark.parametrize("extension", ["png", "webp"])
def test_photo_hashes_as_pillows_full_decode_without_pillow_decoding_it(
    tmp_path: Path, extension: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / f"photo.{extension}"
    make_photo(3, 2000, 1500).save(path)
    with vips_decode.disabled():
        full = _hashes(path)
        full_image, full_info = open_reduced(path)
    _refuse_pillow_decode(monkeypatch)
    fast_image, fast_info = open_reduced(path)
    fast = _hashes(path)
    dhash_bits, phash_bits = _bits(fast, full)
    assert dhash_bits <= 2 and phash_bits <= 2
    assert (fast_info.width, fast_info.height, fast_info.format) == (2000, 1500, full_info.format)
    assert fast_image.mode == "RGB" and min(fast_image.size) >= 256
    assert abs(fast_image.width - full_image.width) <= 1


@needs_vips
def test_transparent_png_is_flattened_onto_white_as_before(tmp_path: Path) -> None:
    path = tmp_path / "logo.png"
    with_alpha(make_photo(5, 1200, 900)).save(path)
    with vips_decode.disabled():
        before, _ = open_reduced(path)
    after, _ = open_reduced(path)
    assert after.mode == "RGB" and after.size == before.size
    difference = max(abs(a - b) for a, b in zip(after.tobytes(), before.tobytes(), strict=True))
    assert difference <= 2


@needs_vips
def test_rgb_png_with_a_transparent_colour_key_stays_opaque(tmp_path: Path) -> None:
    """Pillow has always shown an RGB PNG's tRNS colour as itself, not as white."""
    image = Image.new("RGB", (600, 600), (0, 0, 0))
    image.paste((200, 30, 30), (0, 0, 300, 600))
    path = tmp_path / "keyed.png"
    image.save(path, transparency=(0, 0, 0))
    reduced, _ = open_reduced(path)
    assert reduced.getpixel((reduced.width - 1, 0)) == (0, 0, 0)


def _with_chunk_before_end(png: bytes, kind: bytes, payload: bytes) -> bytes:
    chunk = struct.pack(">I", len(payload)) + kind + payload
    chunk += struct.pack(">I", zlib.crc32(kind + payload))
    end = png.rindex(b"IEND") - 4
    return png[:end] + chunk + png[end:]


def test_png_whose_exif_follows_the_image_data_is_still_turned(tmp_path: Path) -> None:
    """An eXIf chunk after IDAT is only seen by Pillow's decode: that PNG stays with it."""
    plain = tmp_path / "plain.png"
    make_photo(7, 800, 600).save(plain)
    exif = Image.Exif()
    exif[0x0112] = 6  # turn 90 degrees clockwise to show
    turned = tmp_path / "turned.png"
    turned.write_bytes(_with_chunk_before_end(plain.read_bytes(), b"eXIf", exif.tobytes()))
    reduced, info = open_reduced(turned)
    assert (info.width, info.height) == (600, 800)
    assert reduced.height > reduced.width


def test_without_libvips_png_and_webp_decode_through_pillow(tmp_path: Path) -> None:
    for extension in ("png", "webp"):
        path = tmp_path / f"photo.{extension}"
        make_photo(9, 1024, 768).save(path)
        with vips_decode.disabled():
            reduced, info = open_reduced(path)
        assert reduced.mode == "RGB" and (info.width, info.height) == (1024, 768)
        assert min(reduced.size) >= 256


def test_a_picture_too_small_to_reduce_is_decoded_by_pillow(tmp_path: Path, monkeypatch) -> None:
    """At a reduce factor of 1 libvips saves nothing and its set-up per file costs more than
    Pillow's whole decode of a small WebP."""
    calls: list[int] = []
    monkeypatch.setattr(vips_decode, "reduced", lambda *args: calls.append(args[2]))
    for extension in ("png", "webp"):
        path = tmp_path / f"small.{extension}"
        make_photo(11, 640, 480).save(path)
        reduced, info = open_reduced(path)
        assert (info.width, info.height) == (640, 480) and reduced.mode == "RGB"
    assert calls == []
    make_photo(12, 1600, 1200).save(tmp_path / "big.webp")
    open_reduced(tmp_path / "big.webp")
    assert calls == [4]


def _count_planes(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each call of webp_yuv.reduced gave the pixels (True) or declined (False)."""
    calls: list[bool] = []
    original = webp_yuv.reduced

    def counted(data: bytes, factor: int) -> Image.Image | None:
        result = original(data, factor)
        calls.append(result is not None)
        return result

    monkeypatch.setattr(webp_yuv, "reduced", counted)
    return calls


@needs_webp
@pytest.mark.parametrize(
    ("width", "height", "mode"),
    [(2000, 1500, "RGB"), (1501, 2001, "RGB"), (1203, 1199, "L")],
    ids=["landscape", "odd-sized-portrait", "grey"],
)
def test_lossy_webp_from_libwebps_planes_hashes_as_pillows_full_decode(
    tmp_path: Path, width: int, height: int, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "photo.webp"
    make_photo(21, width, height).convert(mode).save(path, quality=90)
    with vips_decode.disabled():
        full = _hashes(path)
        full_image, _ = open_reduced(path)
    calls = _count_planes(monkeypatch)
    _refuse_pillow_decode(monkeypatch)
    fast_image, info = open_reduced(path)
    assert calls == [True]
    dhash_bits, phash_bits = _bits(_hashes(path), full)
    assert dhash_bits <= 2 and phash_bits <= 2
    assert (info.width, info.height, info.format) == (width, height, "WEBP")
    assert fast_image.mode == "RGB" and fast_image.size == full_image.size


@needs_webp
def test_lossy_webp_colours_are_the_ones_pillow_shows(tmp_path: Path) -> None:
    """Saturated colours, black, white and grey: the thumbnail must not shift them."""
    colours = [(220, 20, 20), (20, 200, 40), (30, 40, 230), (0, 0, 0), (255, 255, 255),
               (128, 128, 128), (240, 200, 30), (120, 30, 160)]  # fmt: skip
    image = Image.new("RGB", (len(colours) * 300, 600))
    for index, colour in enumerate(colours):
        image.paste(colour, (index * 300, 0, index * 300 + 300, 600))
    path = tmp_path / "swatches.webp"
    image.save(path, quality=90)
    with vips_decode.disabled():
        full, _ = open_reduced(path)
    planes, _ = open_reduced(path)
    scale = planes.width / image.width
    for index in range(len(colours)):
        centre = (round((index * 300 + 150) * scale), planes.height // 2)
        shown = np.array(full.getpixel(centre), int)
        assert np.abs(np.array(planes.getpixel(centre), int) - shown).max() <= 3


def _animated(image: Image.Image, path: Path) -> None:
    image.save(path, save_all=True, append_images=[image.transpose(Image.Transpose.ROTATE_180)])


@needs_webp
@pytest.mark.parametrize(
    "kind",
    ["alpha", "lossless", "animated"],
)
def test_webp_that_is_not_still_lossy_and_opaque_is_decoded_as_before(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = make_photo(23, 1200, 900)
    path = tmp_path / f"{kind}.webp"
    if kind == "alpha":
        with_alpha(photo).save(path, quality=90)
    elif kind == "lossless":
        photo.save(path, lossless=True)
    else:
        _animated(photo, path)
    with webp_yuv.disabled():
        before, _ = open_reduced(path)
    calls = _count_planes(monkeypatch)
    after, _ = open_reduced(path)
    assert calls == ([] if kind == "animated" else [False])  # an animation: not even asked
    assert after.tobytes() == before.tobytes()
    if kind == "alpha":  # the transparent band is flattened onto white, as always
        assert after.getpixel((after.width // 2, 2)) == (255, 255, 255)


@needs_webp
def test_truncated_webp_is_reported_as_before(tmp_path: Path) -> None:
    whole = tmp_path / "whole.webp"
    make_photo(25, 1600, 1200).save(whole, quality=90)
    data = whole.read_bytes()
    assert webp_yuv.reduced(data[: len(data) * 2 // 3], 4) is None
    cut = tmp_path / "cut.webp"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with webp_yuv.disabled(), pytest.raises(ImageLoadError) as before:
        open_reduced(cut)
    with pytest.raises(ImageLoadError) as after:
        open_reduced(cut)
    assert (after.value.kind, after.value.message) == (before.value.kind, before.value.message)


def test_without_the_webp_package_a_webp_goes_to_libvips_or_pillow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webp_yuv, "_load", lambda: None)
    path = tmp_path / "photo.webp"
    make_photo(27, 1600, 1200).save(path, quality=90)
    reduced, info = open_reduced(path)
    assert reduced.mode == "RGB" and (info.width, info.height) == (1600, 1200)
    assert min(reduced.size) >= 256
