"""Run the real app on a generated library and save screenshots of what a user sees.

    xvfb-run -a -s "-screen 0 1400x900x24" python docs/take_screenshots.py OUT_FOLDER

Needs a display (Xvfb is fine) and the Qt xcb libraries; builds a small library of photos
with copies in deep folders (tests/imagegen), scans it with a throwaway cache and settings,
and writes groups.png (the window after the scan) to OUT_FOLDER.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))


def build_library(root: Path) -> list[Path]:
    from imagegen import make_photo
    from PIL import Image

    library = root / "Pictures" / "Merged phone backups" / "2019 Samsung" / "DCIM" / "Camera"
    downloads = root / "Downloads"
    old_disk = root / "old-disk" / "photos (copy)"
    folders = [library, downloads, old_disk]
    for folder in folders:
        folder.mkdir(parents=True)
    for seed in range(6):
        photo = make_photo(seed, 1200, 900)
        name = f"IMG_20190{seed + 1}12_1034{seed}.jpg"
        photo.save(library / name, quality=92)
        photo.resize((600, 450), Image.Resampling.LANCZOS).save(downloads / name, quality=80)
        if seed % 2 == 0:
            photo.save(old_disk / f"{Path(name).stem} (1).png")
    return [root / "Pictures", downloads, root / "old-disk"]


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots").absolute()
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="dedup-shots-"))
    os.environ["DEDUP_GUI_CACHE_DIR"] = str(work / "cache")
    os.environ["XDG_CONFIG_HOME"] = str(work / "config")
    os.environ["XDG_DATA_HOME"] = str(work / "data")
    folders = build_library(work / "home")

    from PySide6.QtWidgets import QApplication

    from dedup_gui.app.main import open_main_window

    app = QApplication(sys.argv[:1])
    window = open_main_window([str(folder) for folder in folders])
    window.resize(1400, 900)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.05)
        if not window.is_busy() and time.monotonic() > deadline - 57:
            break
    for _ in range(40):  # thumbnails load in the background
        app.processEvents()
        time.sleep(0.05)
    window.grab().save(str(out / "groups.png"))
    print(out / "groups.png")
    window.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
