"""Camera RAW files: recognised before TIFF, read through LibRaw (preview or demosaic), kept
over a JPEG of the same shot, and a clear error when LibRaw cannot read one."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dedup_gui.core.files.imagetypes import (
    RAW_EXTENSIONS,
    has_image_extension,
    sniff_image_format,
    sniff_raw,
)
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.keeper import DEFAULT_KEEPER_RULES, KeeperRule, rules_preferring
from dedup_gui.core.grouping.raw_pairs import RawJpegPolicy
from dedup_gui.core.images import raw as raw_module
from dedup_gui.core.images.decode import ImageLoadError, open_reduced
from dedup_gui.core.images.dng_writer import DngLayout, dng_bytes
from dedup_gui.core.images.memory_budget import MemoryBudget
from dedup_gui.core.images.thumbnails import THUMBNAIL_SIDE, load_thumbnail
from dedup_gui.core.models import ErrorKind
from dedup_gui.core.scanning.cache import CACHE_FILE_NAME, HashCache
from dedup_gui.core.scanning.scanner import hash_file, scan
from tests.imagegen import make_photo

SENSOR = (640, 480)
FULL_SIZE = 1 << 30
"""min_side of the app's full-image view: the whole picture."""
NEF_LIKE = DngLayout(
    thumbnail_side=160, dng_tags=False, make="NIKON CORPORATION", model="NIKON D750"
)
"""A NEF's layout: a small RGB thumbnail first, the sensor data in a SubIFD, no DNG tags."""
UPRIGHT_FROM_ORIENTATION = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_270,
    8: Image.Transpose.ROTATE_90,
}


def write_raw(
    path: Path,
    picture: Image.Image,
    layout: DngLayout | None = None,
    preview: Image.Image | None = None,
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dng_bytes(picture, layout or DngLayout(), preview=preview))
    return path


def mean_abs_difference(a: Image.Image, b: Image.Image) -> float:
    b = b.resize(a.size, Image.Resampling.BOX) if b.size != a.size else b
    return float(np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).mean())


@pytest.fixture
def picture():
    return make_photo(21, *SENSOR)


def test_every_raw_extension_is_a_candidate_image():
    listed = "CR2 CR3 CRW NEF NRW ARW SRF SR2 DNG ORF RW2 RAF PEF SRW KDC DCR MRW X3F 3FR IIQ " \
             "ERF MEF MOS RWL"
    for kind in listed.split():
        assert has_image_extension(f"IMG_0001.{kind}")
        assert has_image_extension(f"img_0001.{kind.lower()}")
        assert RAW_EXTENSIONS[f".{kind.lower()}"] == kind


@pytest.mark.parametrize(
    ("head", "announced"),
    [
        (b"II*\x00\x10\x00\x00\x00CR\x02\x00", "RAW (CR2)"),
        (b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01", "RAW (CR3)"),
        (b"FUJIFILMCCD-RAW 0201FF383501", "RAW (RAF)"),
        (b"IIRO\x08\x00\x00\x00", "RAW (ORF)"),
        (b"IIRS\x08\x00\x00\x00", "RAW (ORF)"),
        (b"IIU\x00\x18\x00\x00\x00", "RAW (RW2)"),
        (b"II\x1a\x00\x00\x00HEAPCCDR", "RAW (CRW)"),
        (b"\x00MRM\x00\x00", "RAW (MRW)"),
        (b"FOVb\x00\x00", "RAW (X3F)"),
        (b"II*\x00\x08\x00\x00\x00\x00\x00", "TIFF"),
    ],
)
def test_raw_magic_numbers_are_recognised_before_tiff(head, announced):
    assert sniff_image_format(head.ljust(32, b"\x00")) == announced


def test_a_tiff_holding_sensor_data_is_a_raw_and_a_plain_tiff_is_not(tmp_path, picture):
    assert sniff_raw(dng_bytes(picture)) == "DNG"
    assert sniff_raw(dng_bytes(picture, NEF_LIKE)) == "NEF"
    picture.save(tmp_path / "plain.tif")
    assert sniff_raw((tmp_path / "plain.tif").read_bytes()) is None


@pytest.mark.parametrize(
    ("name", "layout", "thumbnail"),
    [
        ("DSC_0001.NEF", NEF_LIKE, (160, 90)),
        ("100_0001.KDC", dataclasses.replace(NEF_LIKE, thumbnail_side=96, make="KODAK"), (96, 54)),
        ("shot.dng", DngLayout(thumbnail_side=160), (160, 90)),
        ("no-extension", NEF_LIKE, (160, 90)),  # told apart by its content alone
    ],
)
def test_a_raw_starting_with_a_small_preview_is_read_as_the_sensor_not_as_a_tiff(
    tmp_path, name, layout, thumbnail
):
    scene = make_photo(22, 640, 360)
    path = write_raw(tmp_path / name, scene, layout)
    with Image.open(path) as as_tiff:  # what a TIFF reader sees: the camera's thumbnail
        assert as_tiff.size == thumbnail
    record = hash_file(path)
    expected_kind = {"KDC": "KDC", "dng": "DNG"}.get(name.rpartition(".")[2], "NEF")
    assert record.format == f"RAW ({expected_kind})"
    assert (record.width, record.height) == (640, 360)
    assert record.capture_time == "2021-06-05T14:30:00"


def test_the_full_size_preview_is_used_when_there_is_one(tmp_path, picture):
    shown_by_camera = make_photo(99, *SENSOR)  # tells the preview from the sensor data
    path = write_raw(
        tmp_path / "shot.dng", picture, DngLayout(preview_side=640), preview=shown_by_camera
    )
    image, info = open_reduced(path)
    assert (info.width, info.height, info.format) == (*SENSOR, "RAW (DNG)")
    assert info.capture_time == "2021-06-05T14:30:00"
    assert mean_abs_difference(image, shown_by_camera) < 6
    assert mean_abs_difference(image, picture) > 20


def test_without_a_preview_the_sensor_data_is_demosaicked(tmp_path, picture):
    path = write_raw(tmp_path / "shot.dng", picture, DngLayout(thumbnail_side=160))
    image, info = open_reduced(path)
    assert (info.width, info.height) == SENSOR
    assert image.size == (320, 240)  # half size: one pixel per 2x2 Bayer block
    assert mean_abs_difference(image, picture) < 12


def test_a_preview_too_small_for_the_hash_is_not_used(tmp_path, picture):
    path = write_raw(
        tmp_path / "shot.dng", picture, DngLayout(preview_side=200), preview=make_photo(98)
    )
    image, _ = open_reduced(path)
    assert mean_abs_difference(image, picture) < 12


@pytest.mark.parametrize("preview_side", [640, None])
@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_the_cameras_orientation_is_applied_once(tmp_path, picture, orientation, preview_side):
    layout = DngLayout(preview_side=preview_side, orientation=orientation)
    path = write_raw(tmp_path / "turned.dng", picture, layout)
    image, info = open_reduced(path, FULL_SIZE)
    upright = picture.transpose(UPRIGHT_FROM_ORIENTATION[orientation])
    assert (info.width, info.height) == upright.size
    assert mean_abs_difference(image, upright) < 12
    assert mean_abs_difference(image, upright.transpose(Image.Transpose.ROTATE_180)) > 25


@pytest.mark.parametrize(
    "layout", [DngLayout(thumbnail_side=160, preview_side=640), NEF_LIKE], ids=["preview", "none"]
)
def test_a_raw_and_a_jpeg_made_from_it_group_and_the_raw_is_kept(tmp_path, picture, layout):
    raw_path = write_raw(tmp_path / "photos" / "DSC_0001.nef", picture, layout)
    # An export at twice the size: the JPEG has more pixels and more bytes than the RAW.
    picture.resize((1280, 960)).save(tmp_path / "photos" / "DSC_0001.jpg", quality=95)
    result = scan([tmp_path / "photos"])
    assert not result.errors
    # Asked to keep only the RAW of a RAW+JPEG pair (by default both are kept).
    groups = SimilarityIndex.build(result.records).groups(
        90.0, raw_jpeg_policy=RawJpegPolicy.KEEP_RAW
    )
    assert len(groups) == 1
    keeper, other = groups[0].members
    assert keeper.record.path == str(raw_path)
    assert keeper.record.format == "RAW (NEF)"
    assert (keeper.keep, other.keep) == (True, False)
    for preferred in (KeeperRule.RESOLUTION, KeeperRule.FILE_SIZE, KeeperRule.SHORTER_PATH):
        chosen = SimilarityIndex.build(result.records).groups(
            90.0, keeper_rules=rules_preferring(preferred)
        )
        assert chosen[0].keeper.record.path == str(raw_path)


def test_raw_first_comes_right_after_the_reference_folder_rule():
    assert DEFAULT_KEEPER_RULES[:3] == (
        KeeperRule.REFERENCE_FOLDER, KeeperRule.RAW_FIRST, KeeperRule.ORIGINAL,
    )


@pytest.mark.parametrize(
    "content",
    ["plain-tiff", "truncated", "garbage"],
)
def test_a_raw_libraw_cannot_read_is_a_clear_error(tmp_path, picture, content):
    path = tmp_path / "photos" / "DSC_0002.NEF"
    path.parent.mkdir()
    if content == "plain-tiff":  # a TIFF reader would show its 160x90 image
        picture.resize((160, 90)).save(path, format="TIFF")
    elif content == "truncated":
        path.write_bytes(dng_bytes(picture, NEF_LIKE)[:4000])
    else:
        path.write_bytes(b"not a raw at all " * 100)
    result = scan([path.parent])
    assert result.records == []
    [error] = result.errors
    assert error.path == str(path)
    assert error.message.startswith("A camera RAW file that could not be read (LibRaw: ")


def test_a_raw_whose_demosaic_is_over_the_memory_budget_is_refused(
    tmp_path, picture, monkeypatch
):
    monkeypatch.setattr(raw_module, "RAW_MEMORY_BUDGET_BYTES", 1 << 20)
    without_preview = write_raw(tmp_path / "big.dng", picture)
    with pytest.raises(ImageLoadError) as refused:
        open_reduced(without_preview)
    assert refused.value.kind is ErrorKind.TOO_LARGE
    with_preview = write_raw(tmp_path / "preview.dng", picture, DngLayout(preview_side=640))
    _, info = open_reduced(with_preview)  # the preview needs no demosaic
    assert (info.width, info.height) == SENSOR


def test_a_raw_demosaic_holds_the_scans_memory_budget(tmp_path, picture):
    """Two RAW demosaics never run beside each other's memory when the scan's budget has
    room for one: the demosaic reserves its estimate like any other decode."""

    class RecordingBudget(MemoryBudget):
        def __init__(self) -> None:
            super().__init__(64 << 20)
            self.reservations: list[int] = []

        def reserve(self, nbytes, cancel=None):
            self.reservations.append(nbytes)
            return super().reserve(nbytes, cancel)

    budget = RecordingBudget()
    _, info = open_reduced(write_raw(tmp_path / "big.dng", picture), budget=budget)
    assert (info.width, info.height) == SENSOR
    assert budget.reservations and budget.reservations[0] >= 4 * SENSOR[0] * SENSOR[1]
    assert budget.reserved_bytes == 0  # given back after


def test_a_raw_over_the_whole_scan_budget_is_refused_not_waited_for(tmp_path, picture):
    without_preview = write_raw(tmp_path / "big.dng", picture)
    with pytest.raises(ImageLoadError) as refused:
        open_reduced(without_preview, budget=MemoryBudget(64 << 10))
    assert refused.value.kind is ErrorKind.TOO_LARGE
    assert "the limit is 1 MB" in str(refused.value)


def test_review_thumbnail_and_full_view_of_a_raw(tmp_path, picture):
    with_preview = write_raw(
        tmp_path / "a.dng", picture, DngLayout(thumbnail_side=160, preview_side=640, orientation=6)
    )
    upright = picture.transpose(Image.Transpose.ROTATE_270)
    thumbnail = load_thumbnail(str(with_preview))
    assert max(thumbnail.size) == THUMBNAIL_SIDE
    assert mean_abs_difference(thumbnail, upright) < 12
    full, _ = open_reduced(with_preview, FULL_SIZE)
    assert full.size == (480, 640)  # the preview at its full size, turned upright
    without_preview = write_raw(tmp_path / "b.dng", picture, DngLayout(thumbnail_side=160))
    full, _ = open_reduced(without_preview, FULL_SIZE)
    assert full.size == (320, 240)  # the half-size demosaic, not the 160x120 thumbnail


def test_the_full_view_shows_a_raw(qapp, tmp_path, picture):
    from dedup_gui.app.full_images import load_full_qimage

    path = write_raw(tmp_path / "a.nef", picture, DngLayout(preview_side=640))
    image = load_full_qimage(str(path))
    assert (image.width(), image.height()) == SENSOR


def test_a_raw_cached_as_its_tiff_preview_is_read_again(tmp_path, picture):
    path = write_raw(tmp_path / "photos" / "DSC_0001.nef", picture, NEF_LIKE)
    with HashCache(tmp_path / CACHE_FILE_NAME) as cache:
        stale = dataclasses.replace(hash_file(path), format="TIFF", width=160, height=120)
        cache.store(stale)
        [record] = scan([tmp_path / "photos"], cache=cache).records
    assert (record.format, record.width, record.height) == ("RAW (NEF)", *SENSOR)


def test_libraw_is_not_loaded_until_a_raw_is_read():
    code = (
        "import sys; import dedup_gui.core.scanning.scanner, dedup_gui.core.images.thumbnails;"
        "print('rawpy' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"
