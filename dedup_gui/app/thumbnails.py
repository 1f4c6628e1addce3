"""Lazy thumbnails: decoded by QRunnables, turned into QPixmaps on the GUI thread, kept in an LRU.

Requests are served newest first and old ones are dropped, so scrolling quickly through a
huge list only decodes what is on screen now, never the backlog of rows scrolled past.
Everything is keyed by the file's version (path, size, mtime_ns), so a file edited between
two scans shows its new pixels.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap

from dedup_gui.app.images import ImageKey, PixmapLru, image_key, pil_to_qimage
from dedup_gui.core.images.thumbnails import THUMBNAIL_SIDE, load_thumbnail
from dedup_gui.core.models import ImageRecord
from dedup_gui.core.scanning.cache import HashCache

MAX_PENDING = 256
CACHE_BYTES = 64 * 1024 * 1024
"""Pixmap memory kept: about 1,000 thumbnails at 150 px, many screens' worth of groups."""

ImageLoader = Callable[[str, int], QImage]


class SharedCache:
    """The hash cache (which also stores review thumbnails), opened on first use by
    whichever loader thread needs it first; HashCache itself is thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: HashCache | None = None

    def get(self) -> HashCache:
        with self._lock:
            if self._cache is None:
                self._cache = HashCache.open_default()
            return self._cache

    def close(self) -> None:
        with self._lock:
            if self._cache is not None:
                self._cache.close()
                self._cache = None


def load_thumbnail_qimage(path: str, max_side: int, cache: SharedCache) -> QImage:
    """The core's 256 px review thumbnail (cached on disk), scaled to `max_side` for painting."""
    thumbnail = load_thumbnail(path, max_side=THUMBNAIL_SIDE, cache=cache.get())
    return pil_to_qimage(thumbnail).scaled(
        max_side,
        max_side,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )


class _LoadSignals(QObject):
    # Keys travel as Python objects: a str signal argument becomes a QString, which
    # drops the surrogate escapes of a file name that is not UTF-8.
    loaded = Signal(object, QImage)
    failed = Signal(object, str)


class _LoadTask(QRunnable):
    def __init__(
        self, key: ImageKey, max_side: int, loader: ImageLoader, signals: _LoadSignals
    ) -> None:
        super().__init__()
        self._key = key
        self._max_side = max_side
        self._loader = loader
        self._signals = signals

    def run(self) -> None:
        try:
            image = self._loader(self._key[0], self._max_side)
        except Exception as error:  # any unreadable file: shown as a placeholder, never fatal
            self._signals.failed.emit(self._key, str(error))
        else:
            self._signals.loaded.emit(self._key, image)


class ThumbnailProvider(QObject):
    """`pixmap(record)` returns a cached pixmap or None and queues a load; `ready(path)` follows.

    Pixmaps are `max_side` logical pixels at most: the size they are painted at, so painting
    never scales. On a high-DPI screen they hold `max_side * pixel_ratio` device pixels.
    """

    ready = Signal(object)
    """The path (str) whose image is ready."""

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        max_side: int,
        loader: ImageLoader | None = None,
        threads: int = 2,
        pixel_ratio: float = 1.0,
    ) -> None:
        super().__init__(parent)
        self._pixel_ratio = max(1.0, pixel_ratio)
        self._max_side = round(max_side * self._pixel_ratio)
        self._shared_cache = SharedCache()
        self._loader = loader or partial(load_thumbnail_qimage, cache=self._shared_cache)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._signals = _LoadSignals(self)
        self._signals.loaded.connect(self._on_loaded)
        self._signals.failed.connect(self._on_failed)
        self._cache = PixmapLru(CACHE_BYTES, keep=1)
        self._failed: set[ImageKey] = set()
        self._pending: OrderedDict[ImageKey, None] = OrderedDict()
        self._running: set[ImageKey] = set()

    def pixmap(self, record: ImageRecord) -> QPixmap | None:
        key = image_key(record)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if key not in self._failed and key not in self._running:
            self._pending[key] = None
            self._pending.move_to_end(key)
            while len(self._pending) > MAX_PENDING:
                self._pending.popitem(last=False)
            self._start_next()
        return None

    def has_failed(self, record: ImageRecord) -> bool:
        return image_key(record) in self._failed

    def forget(self, paths: set[str]) -> None:
        """Drop every version of these files (trashed ones, say) from the cache."""
        self._cache.drop_paths(paths)
        self._failed = {key for key in self._failed if key[0] not in paths}
        for key in [key for key in self._pending if key[0] in paths]:
            del self._pending[key]

    def retry_failed(self) -> None:
        """Files that could not be shown are tried again when next painted: after a rescan,
        one that was briefly unreadable (same size and mtime) may be readable now."""
        self._failed.clear()

    def wait_idle(self, msecs: int = 5000) -> bool:
        return self._pool.waitForDone(msecs)

    def shut_down(self, msecs: int = 5000) -> None:
        """Drop queued loads, wait for running ones, close the cache."""
        self._pending.clear()
        self._pool.waitForDone(msecs)
        self._shared_cache.close()

    def _start_next(self) -> None:
        while self._pending and len(self._running) < self._pool.maxThreadCount():
            key, _ = self._pending.popitem(last=True)
            self._running.add(key)
            self._pool.start(_LoadTask(key, self._max_side, self._loader, self._signals))

    def _on_loaded(self, key: ImageKey, image: QImage) -> None:
        self._running.discard(key)
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(self._pixel_ratio)
        self._cache.put(key, pixmap)
        self._start_next()
        self.ready.emit(key[0])

    def _on_failed(self, key: ImageKey, _message: str) -> None:
        self._running.discard(key)
        self._failed.add(key)
        self._start_next()
        self.ready.emit(key[0])
