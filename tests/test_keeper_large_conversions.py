"""Above 512 px the scan's pixel digests of a JPEG and of the PNG of its decode differ (one
is DCT-scaled, the other box-shrunk): the scan decodes such a pair in full
(scanning/confirm_conversions.py) so that the keeper still keeps the JPEG original, and a
PNG original beside its high-quality JPEG export is still kept."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from PIL import Image

from dedup_gui import cli
from dedup_gui.core.grouping.index import SimilarityIndex
from dedup_gui.core.grouping.similarity import MIN_SIMILARITY
from dedup_gui.core.images import decode_match
from dedup_gui.core.models import CancelToken, DuplicateGroup
from dedup_gui.core.scanning import confirm_conversions, scan_replay, scanner
from dedup_gui.core.scanning.cache import HashCache
from tests.imagegen import make_photo

LARGE = (1200, 900)
CONVERTED = "kept: the others are lossless conversions of it"
TIME = 1_600_000_000


def write(path: Path, data: bytes, mtime: int = TIME) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return path


def encoded(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def jpeg_and_its_png(folder: Path, seed: int = 5) -> tuple[Path, Path]:
    """photo.jpg (quality 90) and backup/photo.png saved from its decode, saved later."""
    data = encoded(make_photo(seed, *LARGE), "JPEG", quality=90)
    jpeg = write(folder / "photo.jpg", data)
    decode = Image.open(io.BytesIO(data)).convert("RGB")
    png = write(folder / "backup" / "photo.png", encoded(decode, "PNG"), TIME + 86_400)
    return jpeg, png


def groups(folder: Path, cache: HashCache | None = None) -> list[DuplicateGroup]:
    result = scanner.scan([folder], cache=cache)
    return SimilarityIndex.build(result.records).groups(MIN_SIMILARITY)


def keeper_and_reason(folder: Path, cache: HashCache | None = None) -> tuple[str, str]:
    (group,) = groups(folder, cache)
    return group.keeper.record.path, group.keep_reason


@pytest.fixture
def counted(monkeypatch) -> list[tuple[str, str]]:
    """Every full-size comparison the scan makes, as (lossless, lossy) paths."""
    calls: list[tuple[str, str]] = []
    real = decode_match.holds_decode

    def counting(lossless: str, lossy: str, **kwargs: object) -> bool | None:
        calls.append((Path(lossless).name, Path(lossy).name))
        return real(lossless, lossy, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(decode_match, "holds_decode", counting)
    return calls


def test_a_large_jpeg_is_kept_over_the_png_of_its_decode(tmp_path):
    jpeg, png = jpeg_and_its_png(tmp_path)
    result = scanner.scan([tmp_path])
    records = {r.path: r for r in result.records}
    assert records[str(png)].pixel_digest != records[str(jpeg)].pixel_digest  # the defect
    assert records[str(png)].holds_decode_of == records[str(jpeg)].pixel_digest
    assert keeper_and_reason(tmp_path) == (str(jpeg), CONVERTED)


@pytest.mark.parametrize("subsampling", [0, 2])  # 4:4:4 and 4:2:0
def test_a_png_original_is_kept_over_its_quality_95_jpeg_export(tmp_path, subsampling):
    original = make_photo(6, *LARGE)
    png = write(tmp_path / "photo.png", encoded(original, "PNG"))
    export = encoded(original, "JPEG", quality=95, subsampling=subsampling)
    write(tmp_path / "export" / "photo.jpg", export, TIME + 86_400)
    result = scanner.scan([tmp_path])
    assert all(r.holds_decode_of is None for r in result.records)
    path, reason = keeper_and_reason(tmp_path)
    assert path == str(png)
    assert "conversion" not in reason


def test_a_rescan_decodes_nothing_again(tmp_path, counted):
    folder = tmp_path / "photos"
    jpeg, _ = jpeg_and_its_png(folder)
    with HashCache(tmp_path / "cache.sqlite3") as cache:
        assert keeper_and_reason(folder, cache) == (str(jpeg), CONVERTED)
        assert counted == [("photo.png", "photo.jpg")]
        assert keeper_and_reason(folder, cache) == (str(jpeg), CONVERTED)
    with HashCache(tmp_path / "cache.sqlite3") as cache:  # from the file, too
        assert keeper_and_reason(folder, cache) == (str(jpeg), CONVERTED)
    assert counted == [("photo.png", "photo.jpg")]


def test_a_no_is_kept_too(tmp_path, counted):
    folder = tmp_path / "photos"
    original = make_photo(6, *LARGE)
    write(folder / "photo.png", encoded(original, "PNG"))
    write(folder / "photo.jpg", encoded(original, "JPEG", quality=95), TIME + 86_400)
    with HashCache(tmp_path / "cache.sqlite3") as cache:
        groups(folder, cache)
        groups(folder, cache)
    assert counted == [("photo.png", "photo.jpg")]


def test_a_changed_file_drops_the_verdict(tmp_path, counted):
    folder = tmp_path / "photos"
    jpeg, png = jpeg_and_its_png(folder)
    with HashCache(tmp_path / "cache.sqlite3") as cache:
        assert keeper_and_reason(folder, cache) == (str(jpeg), CONVERTED)
        # The PNG saved again from the picture itself: no longer the JPEG's decode.
        write(png, encoded(make_photo(5, *LARGE), "PNG"), TIME + 2 * 86_400)
        result = scanner.scan([folder], cache=cache)
        assert all(r.holds_decode_of is None for r in result.records)
        assert len(counted) == 2
        # The JPEG rewritten (the same picture at another quality): compared again.
        data = encoded(make_photo(5, *LARGE), "JPEG", quality=90)
        write(jpeg, data, TIME + 3 * 86_400)
        write(png, encoded(Image.open(io.BytesIO(data)).convert("RGB"), "PNG"), TIME)
        assert keeper_and_reason(folder, cache) == (str(jpeg), CONVERTED)
        assert len(counted) == 3


def test_cancel_during_the_comparisons_stops_them_and_caches_no_verdict_not_made(
    tmp_path, counted, monkeypatch
):
    folder = tmp_path / "photos"
    for seed in (5, 7, 8):
        jpeg_and_its_png(folder / f"set{seed}", seed)
    cancel = CancelToken()
    phases: list[str] = []
    compare = decode_match.holds_decode  # counted

    def cancelling(lossless: str, lossy: str, **kwargs: object) -> bool | None:
        cancel.cancel()  # the user cancels while the first pair is compared
        return compare(lossless, lossy, **kwargs)

    monkeypatch.setattr(decode_match, "holds_decode", cancelling)
    with HashCache(tmp_path / "cache.sqlite3") as cache:
        result = scanner.scan(
            [folder],
            cache=cache,
            progress=lambda p: phases.append(p.phase),
            cancel=cancel,
            options=scanner.ScanOptions(workers=1),
        )
        assert result.cancelled and len(result.records) == 6  # every hashed record kept
        assert confirm_conversions.PHASE in phases
        assert len(counted) == 1  # the pairs after it were not started
        # That one stopped too (waiting for its memory): no verdict, none cached.
        assert all(r.holds_decode_of is None for r in result.records)
        monkeypatch.setattr(decode_match, "holds_decode", compare)
        result = scanner.scan([folder], cache=cache)  # all three are compared now
        assert len(counted) == 4
        assert sum(r.holds_decode_of is not None for r in result.records) == 3


def test_a_comparison_that_fails_leaves_the_scan_and_the_pair_undecided(tmp_path, monkeypatch):
    jpeg_and_its_png(tmp_path)

    def failing(lossless: str, lossy: str, **kwargs: object) -> bool | None:
        raise OSError("the disk went away")

    monkeypatch.setattr(decode_match, "holds_decode", failing)
    result = scanner.scan([tmp_path])
    assert len(result.records) == 2 and not result.cancelled
    assert all(r.holds_decode_of is None for r in result.records)
    assert result.undecided == 1


def test_a_cli_scan_with_an_undecided_pair_is_not_replayed(tmp_path, monkeypatch, capsys):
    jpeg, _ = jpeg_and_its_png(tmp_path / "photos")
    replays = HashCache.default_folder() / scan_replay.FOLDER_NAME
    real = decode_match.holds_decode
    monkeypatch.setattr(decode_match, "holds_decode", lambda *a, **k: None)  # did not fit

    assert cli.main(["scan", str(tmp_path / "photos")]) == cli.EXIT_FOUND
    capsys.readouterr()
    assert list(replays.glob("*.replay")) == []

    monkeypatch.setattr(decode_match, "holds_decode", real)
    cli.main(["scan", str(tmp_path / "photos")])  # tried again: decided, and kept
    [group] = json.loads(capsys.readouterr().out)["groups"]
    keeper = next(f for f in group["files"] if f["keep"])
    assert keeper["path"] == str(jpeg) and keeper["reason"].endswith(CONVERTED[len("kept: "):])
    assert len(list(replays.glob("*.replay"))) == 1
