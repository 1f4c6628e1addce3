"""Full-resolution images for the compare view, decoded off the GUI thread, a few kept, keyed
by the file's version (path, size, mtime_ns) so a file edited between scans is decoded again."""

from __future__ import annotations

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap

from dedup_gui.app.images import ImageKey, PixmapLru, image_key, pil_to_qimage
from dedup_gui.core.images.decode import open_reduced
from dedup_gui.core.models import ImageRecord

CACHE_BYTES = 256 * 1024 * 1024
"""Full images kept for flipping back and forth: a few 24 MP photos, always the last two."""
_FULL_SIZE = 1 << 30
"""A reduced decode whose minimum side is never reached: the full image, oriented."""


def load_full_qimage(path: str) -> QImage:
    image, _info = open_reduced(path, min_side=_FULL_SIZE)
    return pil_to_qimage(image)


class _Signals(QObject):
    # Keys travel as Python objects: a str signal argument becomes a QString, which
    # drops the surrogate escapes of a file name that is not UTF-8.
    loaded = Signal(object, QImage)
    failed = Signal(object, str)


class _Task(QRunnable):
    def __init__(self, key: ImageKey, signals: _Signals) -> None:
        super().__init__()
        self._key = key
        self._signals = signals

    def run(self) -> None:
        try:
            image = load_full_qimage(self._key[0])
        except Exception as error:  # an unreadable file shows a message in its pane
            self._signals.failed.emit(self._key, str(error))
        else:
            self._signals.loaded.emit(self._key, image)


class FullImageProvider(QObject):
    ready = Signal(object)
    """The path (str) whose image is ready."""
    failed = Signal(object, str)
    """(path, message): the file could not be decoded; asking again retries it."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._signals = _Signals(self)
        self._signals.loaded.connect(self._on_loaded)
        self._signals.failed.connect(self._on_failed)
        self._cache = PixmapLru(CACHE_BYTES, keep=2)
        self._loading: set[ImageKey] = set()

    def pixmap(self, record: ImageRecord) -> QPixmap | None:
        key = image_key(record)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if key not in self._loading:
            self._loading.add(key)
            self._pool.start(_Task(key, self._signals))
        return None

    def wait_idle(self, msecs: int = 5000) -> bool:
        return self._pool.waitForDone(msecs)

    def _on_loaded(self, key: ImageKey, image: QImage) -> None:
        self._loading.discard(key)
        self._cache.put(key, QPixmap.fromImage(image))
        self.ready.emit(key[0])

    def _on_failed(self, key: ImageKey, message: str) -> None:
        self._loading.discard(key)
        self.failed.emit(key[0], message)
