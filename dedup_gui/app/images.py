"""PIL image -> QImage, safe to call on any thread (QPixmap is made later, on the GUI thread),
the memory a pixmap holds, the key the image caches use, and their byte-bounded LRU."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

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


class PixmapLru:
    """Pixmaps by ImageKey; the least recently used go once they hold over `limit_bytes`,
    but the newest `keep` always stay (the images on screen right now)."""

    def __init__(self, limit_bytes: int, keep: int = 1) -> None:
        self._pixmaps: OrderedDict[ImageKey, QPixmap] = OrderedDict()
        self._limit = limit_bytes
        self._keep = keep
        self.bytes = 0

    def get(self, key: ImageKey) -> QPixmap | None:
        pixmap = self._pixmaps.get(key)
        if pixmap is not None:
            self._pixmaps.move_to_end(key)
        return pixmap

    def put(self, key: ImageKey, pixmap: QPixmap) -> None:
        if key in self._pixmaps:
            self.bytes -= pixmap_bytes(self._pixmaps.pop(key))
        self._pixmaps[key] = pixmap
        self.bytes += pixmap_bytes(pixmap)
        while self.bytes > self._limit and len(self._pixmaps) > self._keep:
            _, evicted = self._pixmaps.popitem(last=False)
            self.bytes -= pixmap_bytes(evicted)

    def drop_paths(self, paths: set[str]) -> None:
        for key in [key for key in self._pixmaps if key[0] in paths]:
            self.bytes -= pixmap_bytes(self._pixmaps.pop(key))

    def __len__(self) -> int:
        return len(self._pixmaps)

    def __iter__(self) -> Iterator[ImageKey]:
        return iter(self._pixmaps)
