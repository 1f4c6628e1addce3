"""Start-up: the CLI imports only what a command needs (scipy only when grouping, no
decoder at all when every photo comes from the cache)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from PIL import Image

from dedup_gui.core.scanning import scan_replay
from dedup_gui.core.scanning.cache import HashCache
from tests.engine_fixtures import write_photo

_HEAVY = ("scipy", "rawpy", "imagehash")
_DECODING = ("PIL", "pillow_heif", "pyvips", "rawpy", "dedup_gui.core.images.decode",
             "dedup_gui.core.images.signatures", "dedup_gui.core.images.thumbnails")


def _modules_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    ).stdout
    return set(json.loads(output.splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in _HEAVY)


def test_importing_the_cli_imports_neither_scipy_nor_rawpy_nor_imagehash():
    assert _heavy(_modules_after("import dedup_gui.cli")) == []


def test_hashing_a_photo_imports_no_scipy(tmp_path):
    photo = write_photo(tmp_path / "a.jpg", size=(320, 240))
    code = (
        "from dedup_gui.core.scanning import scanner\n"
        f"assert scanner.scan([{str(tmp_path)!r}]).records\n"
    )
    assert photo.exists()
    assert _heavy(_modules_after(code)) == []


def test_a_scan_of_cached_photos_decodes_nothing_and_writes_the_same_groups(tmp_path):
    photo = write_photo(tmp_path / "photos" / "a.jpg", seed=3, size=(640, 480), quality=95)
    with Image.open(photo) as image:
        image.resize((320, 240)).save(tmp_path / "photos" / "a small.jpg", quality=80)
    write_photo(tmp_path / "photos" / "other.png", seed=8)
    scan = "from dedup_gui import cli\nstatus = cli.main(['scan', {folder!r}, '--output', {out!r}])"
    cold_out, warm_out = tmp_path / "cold.json", tmp_path / "warm.json"
    folder = str(tmp_path / "photos")

    cold = _modules_after(scan.format(folder=folder, out=str(cold_out)))
    # The scan itself, from the cache: not the replay of the cold scan's document.
    shutil.rmtree(HashCache.default_folder() / scan_replay.FOLDER_NAME)
    warm = _modules_after(scan.format(folder=folder, out=str(warm_out)))

    assert "dedup_gui.core.images.decode" in cold  # the first scan did decode
    assert sorted(m for m in warm if m.startswith(_DECODING)) == []
    [group] = json.loads(warm_out.read_text())["groups"]
    assert len(group["files"]) == 2
    assert warm_out.read_text() == cold_out.read_text()
