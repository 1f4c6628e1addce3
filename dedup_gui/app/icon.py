"""The application icon, from the PNGs shipped inside the package (so it works the same
from a pip install, an editable install and the frozen bundle)."""

from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QIcon, QPixmap

from dedup_gui import APP_ID

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def icon_png(size: int) -> bytes:
    """The app icon drawn at `size` x `size` pixels, as PNG bytes."""
    icons = resources.files("dedup_gui").joinpath("resources", "icons", "hicolor")
    return icons.joinpath(f"{size}x{size}", "apps", f"{APP_ID}.png").read_bytes()


def app_icon() -> QIcon:
    """Every shipped size, so Qt picks a crisp one for title bars, task bars and docks.
    Needs a QGuiApplication (QPixmap does)."""
    icon = QIcon()
    for size in ICON_SIZES:
        pixmap = QPixmap()
        if pixmap.loadFromData(icon_png(size), "PNG"):
            icon.addPixmap(pixmap)
    return icon
