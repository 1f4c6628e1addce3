"""A lossless file with a JPEG's decoded pixels (a PNG "backup" of it) is a conversion of
the JPEG: the JPEG is kept, and the reason names every step that narrowed the choice."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dedup_gui.core.grouping.keeper import DEFAULT_KEEPER_RULES, choose_in_group, joined_reason
from dedup_gui.core.grouping.keeper_batch import choose_keepers
from dedup_gui.core.models import ImageRecord
from tests.imagegen import make_photo
from tests.originals_fixtures import (
    ORIGINAL_TIME,
    SIZE,
    camera_exif,
    groups_of,
    jpeg_bytes,
    write,
)

CONVERTED = "kept: the others are lossless conversions of it"


def saved(image: Image.Image, image_format: str, exif: Image.Exif | None = None) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **({"exif": exif} if exif is not None else {}))
    return buffer.getvalue()


def photo_and_conversion(folder: Path, *, with_exif: bool, image_format: str = "PNG") -> Path:
    """folder/photo2.jpg and folder/backup/photo2.<format> saved from its decode (larger),
    both with the camera's EXIF or both without."""
    exif = camera_exif(*SIZE) if with_exif else None
    data = jpeg_bytes(make_photo(5, *SIZE), 90, exif)
    original = write(folder / "photo2.jpg", data, ORIGINAL_TIME)
    decoded = Image.open(io.BytesIO(data)).convert("RGB")
    extension = image_format.lower()
    write(folder / "backup" / f"photo2.{extension}", saved(decoded, image_format, exif),
          ORIGINAL_TIME)
    return original


def keeper_and_reason(folder: Path) -> tuple[str, str]:
    (group,) = groups_of(folder)
    return group.keeper.record.path, group.keep_reason


@pytest.mark.parametrize(
    ("image_format", "with_exif"),
    [("PNG", False), ("PNG", True), ("TIFF", False), ("TIFF", True), ("BMP", False)],
)  # (a BMP holds no EXIF: the camera's metadata would decide)
def test_the_jpeg_is_kept_over_its_larger_lossless_conversion(tmp_path, image_format, with_exif):
    original = photo_and_conversion(tmp_path, with_exif=with_exif, image_format=image_format)
    assert keeper_and_reason(tmp_path) == (str(original), CONVERTED)


def test_with_a_half_size_copy_the_reason_names_both_steps(tmp_path):
    """The folder seen in the app: the JPEG, its PNG conversion and a half-size JPEG."""
    original = photo_and_conversion(tmp_path, with_exif=False)
    small = make_photo(5, *SIZE).resize((SIZE[0] // 2, SIZE[1] // 2))
    write(tmp_path / "photo2-small.jpg", jpeg_bytes(small, 90), ORIGINAL_TIME)
    assert keeper_and_reason(tmp_path) == (
        str(original), "kept: most pixels, then the others are lossless conversions of it"
    )


def test_a_lossless_copy_of_a_png_is_no_conversion(tmp_path):
    """PNG -> BMP: the same pixels, both lossless. Neither is a conversion of a lossy
    decode, so the default chain decides as before (the larger file)."""
    image = make_photo(5, *SIZE)
    write(tmp_path / "photo.png", saved(image, "PNG"), ORIGINAL_TIME)
    bmp = write(tmp_path / "copy" / "photo.bmp", saved(image, "BMP"), ORIGINAL_TIME)
    assert keeper_and_reason(tmp_path) == (str(bmp), "kept: largest file")


def test_a_jpeg_made_from_a_png_leaves_the_png_kept(tmp_path):
    """A JPEG encode of a PNG original has other pixels: no conversion evidence."""
    image = make_photo(5, *SIZE)
    png = write(tmp_path / "photo.png", saved(image, "PNG"), ORIGINAL_TIME)
    write(tmp_path / "export" / "photo.jpg", jpeg_bytes(image, 95), ORIGINAL_TIME)
    keeper, reason = keeper_and_reason(tmp_path)
    assert keeper == str(png)
    assert "conversion" not in reason


def record(path: str, image_format: str, **changes: object) -> ImageRecord:
    base = ImageRecord(
        path=path, size=1_000_000, mtime_ns=0, width=4000, height=3000, format=image_format,
        capture_time=None, dhash=0, phash=0, phash_dihedral=(0,) * 8, micro=b"",
        jpeg_quality=90 if image_format == "JPEG" else None, pixel_digest=b"decoded",
    )
    return replace(base, **changes)


@pytest.mark.parametrize(
    ("records", "keeper", "reason"),
    [
        pytest.param(
            [record("/a/photo.jpg", "JPEG"), record("/b/photo.png", "PNG", size=9_000_000)],
            0, CONVERTED, id="jpeg-and-png",
        ),
        pytest.param(
            [record("/a/photo.heic", "HEIF"), record("/b/photo.tif", "TIFF", size=9_000_000)],
            0, CONVERTED, id="heif-and-tiff",
        ),
        pytest.param(
            # A HEIC read from its embedded thumbnail has no pixel digest: no evidence.
            [record("/a/photo.heic", "HEIF", pixel_digest=None),
             record("/b/photo.png", "PNG", size=9_000_000)],
            1, "kept: largest file", id="heif-from-thumbnail",
        ),
        pytest.param(
            [record("/a/photo.jpg", "JPEG"),
             record("/b/photo.png", "PNG", size=9_000_000, width=4001)],
            1, "kept: most pixels", id="other-size",
        ),
        pytest.param(
            [record("/a/photo.jpg", "JPEG"), record("/b/photo.jpg", "JPEG", size=2_000_000)],
            1, "kept: largest file", id="both-lossy",
        ),
        pytest.param(
            [record("/a/photo.jpg", "JPEG"), record("/b/photo.png", "PNG", size=9_000_000),
             record("/b/small.jpg", "JPEG", width=2000, height=1500, pixel_digest=b"x")],
            0, "kept: most pixels, then the others are lossless conversions of it",
            id="with-a-small-copy",
        ),
        pytest.param(
            [record("/a/photo.jpg", "JPEG", pixel_digest=b"x"),
             record("/b/photo2.jpg", "JPEG", size=2_000_000, pixel_digest=b"y"),
             record("/b/small.jpg", "JPEG", width=2000, height=1500, pixel_digest=b"z")],
            1, "kept: most pixels, then largest file", id="most-pixels-then-largest-file",
        ),
    ],
)
def test_the_keeper_and_its_reason(records, keeper, reason):
    assert choose_in_group(records, [False] * len(records)) == (keeper, reason)
    # The stacked path agrees.
    (chosen,) = choose_keepers(
        records, [tuple(range(len(records)))], np.zeros(len(records), bool), DEFAULT_KEEPER_RULES
    )
    assert chosen == (keeper, reason)


def test_a_long_chain_names_the_first_step_and_the_last_two():
    steps = ["kept: most pixels", "kept: has the camera's metadata",
             "kept: the others look edited from it", "kept: largest file"]
    assert joined_reason(steps) == (
        "kept: most pixels, then the others look edited from it, then largest file"
    )
    assert joined_reason(["kept: most pixels", "kept: most pixels"]) == "kept: most pixels"
    assert joined_reason([]) == "kept: the copies are alike; first by name"
