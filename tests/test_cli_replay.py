"""`dedup-cli scan` of files that have not changed: the document of the last identical scan,
at once, and never when anything it depends on has changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from dedup_gui import cli
from dedup_gui.core.scanning import scan_replay
from dedup_gui.core.scanning.cache import HashCache
from tests.engine_fixtures import write_photo

_LOADED_BY_A_SCAN = ("numpy", "PIL", "scipy", "dedup_gui.core.grouping.index",
                     "dedup_gui.core.images.decode", "dedup_gui.core.scanning.scanner")


@pytest.fixture
def photos(tmp_path) -> Path:
    folder = tmp_path / "photos"
    photo = write_photo(folder / "a.jpg", seed=3, size=(640, 480), quality=95)
    with Image.open(photo) as image:
        image.resize((320, 240)).save(folder / "a small.jpg", quality=80)
    write_photo(folder / "other.png", seed=8)
    return folder


def scan(capsys, folder: Path, *options: str) -> tuple[int, str, str]:
    status = cli.main(["scan", str(folder), *options])
    out, err = capsys.readouterr()
    return status, out, err


def replays() -> list[Path]:
    return sorted((HashCache.default_folder() / scan_replay.FOLDER_NAME).glob("*.replay"))


def files_of(document: str) -> list[list[str]]:
    return [sorted(Path(f["path"]).name for f in g["files"])
            for g in json.loads(document)["groups"]]


def test_an_unchanged_rescan_writes_the_same_document_without_loading_the_scan(
    photos, tmp_path
):
    command = ("import json, sys\nfrom dedup_gui import cli\n"
               "status = cli.main(['scan', {folder!r}, '--output', {out!r}])\n"
               "print(json.dumps([status, sorted(sys.modules)]))")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    runs = []
    for name in ("cold.json", "warm.json"):
        script = command.format(folder=str(photos), out=str(tmp_path / name))
        output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                check=True, env=env).stdout
        runs.append(json.loads(output.splitlines()[-1]))
    (cold_status, cold_modules), (warm_status, warm_modules) = runs

    assert "numpy" in cold_modules
    assert [m for m in warm_modules if m.startswith(_LOADED_BY_A_SCAN)] == []
    assert warm_status == cold_status == cli.EXIT_FOUND
    assert (tmp_path / "warm.json").read_bytes() == (tmp_path / "cold.json").read_bytes()
    assert files_of((tmp_path / "warm.json").read_text()) == [["a small.jpg", "a.jpg"]]


def test_a_rescan_after_a_file_changed_scans_again(photos, capsys):
    status, first, _ = scan(capsys, photos)
    assert status == cli.EXIT_FOUND and files_of(first) == [["a small.jpg", "a.jpg"]]

    write_photo(photos / "a copy.png", seed=3, size=(640, 480))
    _, added, _ = scan(capsys, photos)
    assert files_of(added) == [["a copy.png", "a small.jpg", "a.jpg"]]

    small = photos / "a small.jpg"
    before = small.stat()
    write_photo(small, seed=11, size=(320, 240), quality=80)  # another picture, same name
    os.utime(small, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the old mtime
    _, replaced, _ = scan(capsys, photos)
    assert files_of(replaced) == [["a copy.png", "a.jpg"]]

    (photos / "a copy.png").unlink()
    status, removed, _ = scan(capsys, photos)
    assert status == cli.EXIT_NOTHING_FOUND and files_of(removed) == []


def test_other_settings_or_a_not_duplicates_entry_are_not_answered_from_the_replay(
    photos, capsys
):
    scan(capsys, photos)
    _, strict, _ = scan(capsys, photos, "--similarity", "100")
    assert files_of(strict) == []
    _, csv_text, _ = scan(capsys, photos, "--format", "csv")
    assert csv_text.startswith("group,")

    assert cli.main(["ignore", "add", str(photos / "a.jpg"), str(photos / "a small.jpg")]) == 0
    capsys.readouterr()
    status, ignored, _ = scan(capsys, photos)
    assert status == cli.EXIT_NOTHING_FOUND and files_of(ignored) == []
    _, shown_again, _ = scan(capsys, photos, "--no-ignore")
    assert files_of(shown_again) == [["a small.jpg", "a.jpg"]]


def test_a_scan_with_an_unreadable_file_is_never_replayed(photos, capsys):
    (photos / "broken.jpg").write_bytes((photos / "a.jpg").read_bytes()[:300])
    for _ in range(2):
        status, out, err = scan(capsys, photos)
        assert status == cli.EXIT_FOUND
        assert [e["path"] for e in json.loads(out)["errors"]] == [str(photos / "broken.jpg")]
        assert "could not be read" in err  # told again: the file is tried again each time
    assert replays() == []


def test_no_cache_neither_reads_nor_keeps_a_replay(photos, capsys):
    scan(capsys, photos, "--no-cache")
    assert replays() == []


def test_a_damaged_or_foreign_replay_is_ignored(photos, capsys):
    _, first, _ = scan(capsys, photos)
    [replay] = replays()
    data = bytearray(replay.read_bytes())
    data[-5] ^= 0xFF
    replay.write_bytes(bytes(data))

    status, again, _ = scan(capsys, photos)

    assert status == cli.EXIT_FOUND and again == first
    assert replay.read_bytes() != bytes(data)  # the scan kept a good one in its place
    replay.write_bytes(b"not a replay")
    assert scan(capsys, photos)[1] == first


def test_a_replayed_scan_still_never_writes_over_a_scanned_photo(photos, tmp_path, capsys):
    scan(capsys, photos, "--output", str(tmp_path / "first.json"))
    link = tmp_path / "results.json"
    os.link(photos / "a.jpg", link)  # the output named like a result, but it is the photo
    photo_bytes = (photos / "a.jpg").read_bytes()

    status, _, err = scan(capsys, photos, "--output", str(link))

    assert status == cli.EXIT_FAILED and "refusing to write over" in err
    assert (photos / "a.jpg").read_bytes() == photo_bytes


def test_only_the_newest_replays_are_kept(photos, capsys):
    for similarity in range(88, 90 + scan_replay.KEPT_REPLAYS + 1):
        scan(capsys, photos, "--similarity", str(similarity))
    assert len(replays()) == scan_replay.KEPT_REPLAYS + 1
