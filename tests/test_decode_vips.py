"""PNG and WebP decoded by libvips (vips_decode.py): the same picture as Pillow's full
decode, and Pillow still decodes whatever libvips would read differently."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from dedup_gui.core.images import vips_decode
from dedup_gui.core.images.decode import open_reduced
from dedup_gui.core.images.signatures import compute_signatures
from dedup_gui.core.images.thumbnails import THUMBNAIL_SIDE, fit_within
from tests.engine_fixtures import with_alpha
from tests.imagegen import make_photo

needs_vips = pytest.mark.skipif(not vips_decode.available(), reason="pyvips not installed")


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
