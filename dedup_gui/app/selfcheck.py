"""`dedup-gui --self-check`: prove this installation (or frozen bundle) has everything the app
needs, without a display and without touching the user's photos, cache or settings.

It opens the main window (offscreen when there is no display), writes a small JPEG, a
smaller copy of it, a small HEIC and a small DNG (camera RAW, read through LibRaw) into a
temporary folder, hashes them through the engine,
groups them (the copy must pair with its original), and checks the trash backend loads.
Prints one line per step; returns 0, or 1 after naming the failed step.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

SAMPLE_SIZE = (160, 120)
GROUPING_SIMILARITY = 90.0


def run_self_check() -> int:
    _use_offscreen_without_display()
    with tempfile.TemporaryDirectory(prefix="dedup-gui-self-check-") as folder:
        work = Path(folder)
        steps: list[tuple[str, Callable[[], str]]] = [
            ("main window", lambda: _open_main_window(work)),
            ("sample images", lambda: _write_samples(work / "photos")),
            ("hash each file", lambda: _hash_each(work / "photos")),
            ("scan and group", lambda: _scan_and_group(work)),
            ("libvips", _load_libvips),
            ("libwebp planes", _load_webp),
            ("trash backend", _load_trash_backend),
        ]
        for name, step in steps:
            try:
                detail = step()
            except Exception as error:  # any failure is the answer the user asked for
                print(f"FAILED  {name}: {type(error).__name__}: {error}", file=sys.stderr)
                traceback.print_exc(file=sys.stderr)
                return 1
            print(f"ok      {name}: {detail}")
    print("Self-check passed.")
    return 0


def _use_offscreen_without_display() -> None:
    on_linux_like = sys.platform not in ("darwin", "win32")
    has_display = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if on_linux_like and not has_display:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _open_main_window(work: Path) -> str:
    from PySide6.QtCore import QSettings
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from dedup_gui import APP_ID, APP_NAME
    from dedup_gui.app.icon import app_icon
    from dedup_gui.app.main_window import MainWindow
    from dedup_gui.app.settings import AppSettings

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName(APP_NAME)
    QGuiApplication.setDesktopFileName(APP_ID)
    icon = app_icon()
    if icon.isNull() or len(icon.availableSizes()) < 2:
        raise RuntimeError("the app icon's PNGs are missing from the package")
    app.setWindowIcon(icon)
    # Settings in a throwaway file: the user's saved folders stay as they are.
    store = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(AppSettings(store))
    window.show()
    app.processEvents()
    shown = window.isVisible()
    window.close()
    app.processEvents()
    if not shown:
        raise RuntimeError("the main window did not show")
    return f"opened and closed on the '{QGuiApplication.platformName()}' platform"


def _write_samples(photos: Path) -> str:
    import pillow_heif
    from PIL import Image, ImageDraw

    from dedup_gui.core.images.dng_writer import dng_bytes

    photos.mkdir()
    width, height = SAMPLE_SIZE
    image = Image.linear_gradient("L").resize(SAMPLE_SIZE).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.ellipse((20, 15, 80, 75), fill=(230, 180, 40))
    draw.rectangle((90, 50, width - 10, height - 10), fill=(30, 120, 200))
    image.save(photos / "sample.jpg", quality=90)
    image.resize((width * 3 // 4, height * 3 // 4)).save(photos / "sample-copy.jpg", quality=80)
    # Mirrored, so the two samples are different pictures rather than one picture twice.
    heif = pillow_heif.from_pillow(image.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    heif.save(str(photos / "sample.heic"), quality=90)
    # No preview inside: hashing it runs LibRaw's demosaic. Upside down, a picture of its own.
    (photos / "sample.dng").write_bytes(dng_bytes(image.transpose(Image.Transpose.FLIP_TOP_BOTTOM)))
    return (
        f"sample.jpg, sample.heic, sample.dng ({width}x{height}) and a smaller "
        "sample-copy.jpg written"
    )


def _hash_each(photos: Path) -> str:
    from dedup_gui.core.scanning.scanner import hash_file

    summaries = []
    for name, expected_format in (
        ("sample.jpg", "JPEG"), ("sample.heic", "HEIF"), ("sample.dng", "RAW (DNG)")
    ):
        record = hash_file(photos / name)
        if record.format != expected_format or (record.width, record.height) != SAMPLE_SIZE:
            raise RuntimeError(
                f"{name} read as {record.format} {record.width}x{record.height}, "
                f"expected {expected_format} {SAMPLE_SIZE[0]}x{SAMPLE_SIZE[1]}"
            )
        summaries.append(f"{name} {record.format} pHash {record.phash:016x}")
    return "; ".join(summaries)


def _scan_and_group(work: Path) -> str:
    from dedup_gui.core.grouping.index import SimilarityIndex
    from dedup_gui.core.scanning.cache import HashCache
    from dedup_gui.core.scanning.scanner import scan

    with HashCache(work / "cache.sqlite3") as cache:
        result = scan([work / "photos"], cache=cache)
    formats = sorted(record.format for record in result.records)
    if result.errors or formats != ["HEIF", "JPEG", "JPEG", "RAW (DNG)"]:
        problems = "; ".join(f"{e.path}: {e.message}" for e in result.errors)
        raise RuntimeError(f"scan found {formats or 'nothing'} {problems}".strip())
    groups = SimilarityIndex.build(result.records).groups(GROUPING_SIMILARITY)
    grouped = [sorted(Path(m.record.path).name for m in group.members) for group in groups]
    if grouped != [["sample-copy.jpg", "sample.jpg"]]:
        raise RuntimeError(f"expected the JPEG and its copy in one group, got {grouped}")
    return (
        f"{len(result.records)} images scanned in {result.elapsed_seconds:.2f} s; "
        f"sample-copy.jpg grouped with sample.jpg"
    )


def _load_libvips() -> str:
    from dedup_gui.core.images import vips_decode

    # Without it PNG and WebP still decode (Pillow), only slower: a bundle missing its
    # libvips would never say so otherwise.
    if not vips_decode.available():
        raise RuntimeError("pyvips or its libvips could not be loaded (PNG/WebP: Pillow)")
    import pyvips

    version = ".".join(str(pyvips.version(part)) for part in range(3))
    return f"libvips {version} ({'API' if pyvips.API_mode else 'ABI'} mode)"


def _load_webp() -> str:
    from dedup_gui.core.images import webp_yuv

    # Without it a lossy WebP still decodes (libvips), only slower: say so.
    if not webp_yuv.available():
        raise RuntimeError("the webp package could not be loaded (WebP: libvips)")
    return "webp (cffi bindings to libwebp)"


def _load_trash_backend() -> str:
    import send2trash

    # Loading the platform backend is the check; nothing is sent to the trash.
    backend = sys.modules.get(send2trash.send2trash.__module__)
    return f"send2trash ready ({backend.__name__ if backend else 'unknown backend'})"
