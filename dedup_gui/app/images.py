"""PIL image -> QImage, safe to call on any thread (QPixmap is made later, on the GUI thread),
the memory a pixmap holds, and the key the image caches use."""

from __future__ import annotations

from PIL import Image
from PySide6.QtGui import QImage, QPixmap

from dedup_gui.core.models import ImageRecord

ImageKey = tuple[str, int, int]
"""(path, size, mtime_ns): one version of a file. A file edited since it was shown gets a
new key after the next scan, so its old pixels are never served for it."""


def image_key(record: ImageRecord) -> ImageKey:
    return (record.path, record.size, record.mtime_ns)


def pil_to_qimage(image: Image.Image) -> QImage:
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    if image.mode == "RGBA":
        fmt, channels = QImage.Format.Format_RGBA8888, 4
    else:
        fmt, channels = QImage.Format.Format_RGB888, 3
    data = image.tobytes()
    width, height = image.size
    # copy(): the QImage must own its pixels once `data` goes away.
    return QImage(data, width, height, width * channels, fmt).copy()


def pixmap_bytes(pixmap: QPixmap) -> int:
    return pixmap.width() * pixmap.height() * max(1, pixmap.depth() // 8)
