"""Reduced decoding: every format, orientation, transparency, odd modes and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from dedup_gui.core.images import decode
from dedup_gui.core.images.decode import ImageLoadError, open_reduced
from dedup_gui.core.images.signatures import compute_signatures
from dedup_gui.core.images.thumbnails import THUMBNAIL_SIDE, fit_within
from dedup_gui.core.models import ErrorKind
from tests.engine_fixtures import (
    FORMATS,
    flattened,
    grey_16bit,
    with_alpha,
    write_in_format,
    write_photo,
    write_rotated_copy,
)
from tests.imagegen import make_photo

EXPECTED_FORMAT = {
    "jpg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF",
    "bmp": "BMP", "tiff": "TIFF", "avif": "AVIF", "heic": "HEIF",
}  # fmt: skip


def phash_of(path) -> int:
    image, _ = open_reduced(path)
    return compute_signatures(fit_within(image, THUMBNAIL_SIDE)).phash


def distance(a: int, b: int) -> int:
    return bin(a ^ b).count("1")


def mean_abs_difference(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).mean())


@pytest.mark.parametrize("extension", sorted(FORMATS))
def test_every_format_decodes_to_rgb_with_its_size_and_format(tmp_path, extension):
    photo = make_photo(11, 320, 240)
    path = write_in_format(tmp_path / f"photo.{extension}", photo, extension)
    image, info = open_reduced(path)
    assert image.mode == "RGB"
    assert (info.width, info.height, info.format) == (320, 240, EXPECTED_FORMAT[extension])
    reference = phash_of(write_in_format(tmp_path / "reference.png", photo, "png"))
    assert distance(phash_of(path), reference) <= 6


def test_a_large_jpeg_is_decoded_reduced_but_reports_its_full_size(tmp_path):
    path = write_photo(tmp_path / "big.jpg", size=(1600, 1200), quality=90)
    image, info = open_reduced(path, 256)
    assert (info.width, info.height) == (1600, 1200)
    assert 256 <= min(image.size) < 600  # DCT-scaled, never the full 1600x1200


def test_a_large_png_is_reduced_after_decoding(tmp_path):
    path = write_photo(tmp_path / "big.png", size=(1200, 900))
    image, info = open_reduced(path, 256)
    assert (info.width, info.height) == (1200, 900)
    assert 256 <= min(image.size) < 512


@pytest.mark.parametrize("orientation", range(2, 9))
def test_a_copy_stored_turned_with_an_orientation_tag_hashes_like_the_upright_original(
    tmp_path, orientation
):
    upright = make_photo(21, 480, 320)
    original = write_photo(tmp_path / "upright.jpg", seed=21, size=(480, 320), quality=95)
    turned = write_rotated_copy(tmp_path / f"turned{orientation}.jpg", upright, orientation)
    image, info = open_reduced(turned)
    assert (info.width, info.height) == (480, 320)
    assert image.size[0] > image.size[1]
    assert distance(phash_of(turned), phash_of(original)) <= 2


def test_capture_time_comes_from_exif_date_time_original(tmp_path):
    path = write_rotated_copy(
        tmp_path / "dated.jpg", make_photo(2), 1, capture="2019:12:31 23:59:58"
    )
    assert open_reduced(path)[1].capture_time == "2019-12-31T23:59:58"
    assert open_reduced(write_photo(tmp_path / "undated.jpg"))[1].capture_time is None


def test_transparency_is_flattened_onto_white(tmp_path):
    rgba = with_alpha(make_photo(4, 320, 240))
    rgba.save(tmp_path / "alpha.png")
    image, _ = open_reduced(tmp_path / "alpha.png")
    assert mean_abs_difference(image, flattened(rgba)) < 1.0
    assert np.asarray(image)[:50].min() == 255  # the transparent band is white


def grey_alpha(photo: Image.Image) -> Image.Image:
    return with_alpha(photo).convert("LA")


@pytest.mark.parametrize(
    ("convert", "as_seen"),
    [
        pytest.param(lambda p: p.convert("CMYK"), lambda p: p, id="cmyk"),
        pytest.param(
            lambda p: p.convert("P"), lambda p: p.convert("P").convert("RGB"), id="palette"
        ),
        pytest.param(
            grey_alpha, lambda p: flattened(grey_alpha(p).convert("RGBA")), id="grey-alpha"
        ),
        pytest.param(grey_16bit, lambda p: p.convert("L").convert("RGB"), id="16-bit-grey"),
    ],
)
@pytest.mark.parametrize("extension", ["png", "tiff"])
def test_odd_colour_modes_look_like_the_picture(tmp_path, convert, as_seen, extension):
    photo = make_photo(6, 320, 240)
    converted = convert(photo)
    if converted.mode == "CMYK" and extension == "png":
        extension = "jpg"  # PNG has no CMYK; CMYK JPEGs come from print workflows
    path = tmp_path / f"odd.{extension}"
    converted.save(path, **({"quality": 95} if extension == "jpg" else {}))
    image, _ = open_reduced(path)
    assert mean_abs_difference(image, as_seen(photo)) < 4


def test_an_animated_gif_hashes_its_first_frame(tmp_path):
    frames = [make_photo(seed, 160, 120).convert("P") for seed in (30, 31, 32)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    frames[0].save(tmp_path / "first.gif")
    assert phash_of(tmp_path / "anim.gif") == phash_of(tmp_path / "first.gif")


def test_a_one_pixel_image_is_fine(tmp_path):
    Image.new("RGB", (1, 1), (10, 200, 30)).save(tmp_path / "dot.png")
    image, info = open_reduced(tmp_path / "dot.png")
    assert image.size == (1, 1)
    assert (info.width, info.height) == (1, 1)


def truncated(tmp_path, extension):
    good = write_photo(tmp_path / f"good.{extension}", size=(320, 240))
    data = good.read_bytes()
    bad = tmp_path / f"bad.{extension}"
    bad.write_bytes(data[: len(data) // 2])
    return bad


def damaged_jpeg(tmp_path):
    data = bytearray(write_photo(tmp_path / "good.jpg", size=(320, 240)).read_bytes())
    data[3:400] = bytes(range(256)) + bytes(141)
    (tmp_path / "bad.jpg").write_bytes(bytes(data))
    return tmp_path / "bad.jpg"


def text_named_jpeg(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("shopping list: eggs, milk\n")
    return path


def empty_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    return path


def bomb(tmp_path):
    path = tmp_path / "bomb.png"
    Image.new("1", (10_000, 10_000)).save(path)  # 100 Mpx of zeros: a few kB on disk
    return path


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        pytest.param(lambda tmp: truncated(tmp, "jpg"), ErrorKind.TRUNCATED, id="truncated-jpeg"),
        pytest.param(lambda tmp: truncated(tmp, "png"), ErrorKind.TRUNCATED, id="truncated-png"),
        pytest.param(damaged_jpeg, ErrorKind.CORRUPT, id="damaged-jpeg"),
        pytest.param(text_named_jpeg, ErrorKind.NOT_AN_IMAGE, id="text-named-jpg"),
        pytest.param(empty_file, ErrorKind.EMPTY, id="empty"),
        pytest.param(bomb, ErrorKind.TOO_LARGE, id="decompression-bomb"),
    ],
)
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_bad_input_raises_a_load_error_with_a_sentence(tmp_path, make, kind):
    path = make(tmp_path)
    with pytest.raises(ImageLoadError) as caught:
        open_reduced(path)
    assert caught.value.kind is kind
    assert caught.value.message.endswith(".")
    assert "\n" not in caught.value.message


def test_a_missing_file_is_reported_as_vanished(tmp_path):
    with pytest.raises(ImageLoadError) as caught:
        open_reduced(tmp_path / "gone.jpg")
    assert caught.value.kind is ErrorKind.VANISHED


def test_a_jpeg_over_the_pixel_limit_is_hashed_from_its_reduced_decode(tmp_path):
    """A 100 MP camera photo or a panorama is not a bomb: its 1/8 decode is small."""
    path = tmp_path / "panorama.jpg"
    side = 9_500  # 90 Mpx: just over Pillow's default limit
    Image.radial_gradient("L").resize((side, side)).save(path, quality=60)

    image, info = open_reduced(path)

    assert (info.width, info.height) == (side, side)
    assert max(image.size) <= side // 8 + 1


def png_with_huge_text(path, *, international: bool):
    """A valid PNG whose compressed text chunk (XMP-like) unpacks to 2 MB: more than
    Pillow's MAX_TEXT_CHUNK, which it refuses to unpack."""
    info = PngImagePlugin.PngInfo()
    text = "<x:xmpmeta>" + "metadata " * 250_000 + "</x:xmpmeta>"
    if international:
        info.add_itxt("XML:com.adobe.xmp", text, zip=True)
    else:
        info.add_text("Comment", text, zip=True)
    make_photo(8, 320, 240).save(path, pnginfo=info)
    return path


@pytest.mark.parametrize("international", [False, True], ids=["zTXt", "iTXt"])
def test_a_png_with_a_text_chunk_too_large_to_read_is_read_without_it(tmp_path, international):
    path = png_with_huge_text(tmp_path / "annotated.png", international=international)
    make_photo(8, 320, 240).save(tmp_path / "plain.png")

    _, info = open_reduced(path)

    assert (info.width, info.height, info.format) == (320, 240, "PNG")
    assert phash_of(path) == phash_of(tmp_path / "plain.png")
    assert info.warnings == (
        "The photo was read, but a metadata (text) chunk too large to read safely was left out.",
    )


def test_a_png_too_large_to_copy_without_its_huge_text_chunk_says_so(tmp_path, monkeypatch):
    path = png_with_huge_text(tmp_path / "annotated.png", international=True)
    monkeypatch.setattr(decode, "TEXT_RETRY_MAX_FILE_BYTES", 1000)
    with pytest.raises(ImageLoadError) as caught:
        open_reduced(path)
    assert caught.value.kind is ErrorKind.TOO_LARGE
    assert caught.value.message == (
        "A metadata (text) chunk of this PNG is too large to read safely."
    )
