"""Files and folders the system asks the app to open while it runs (macOS: a drop on
the Dock icon, Finder's "Open With"), delivered as QFileOpenEvents to the application."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QFileOpenEvent

from dedup_gui.app.paths import local_path


class FileOpenForwarder(QObject):
    """Collects the FileOpen events sent to the application (one per file) and hands
    them to `add_paths` together once the burst is over, as one drop would be."""

    def __init__(self, add_paths: Callable[[list[str]], None], parent: QObject) -> None:
        super().__init__(parent)
        self._add_paths = add_paths
        self._pending: list[str] = []
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(0)
        self._flush_timer.timeout.connect(self._flush)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.FileOpen or not isinstance(event, QFileOpenEvent):
            return False
        url = event.url()
        path = local_path(url) if url.isLocalFile() else event.file()
        if path:
            self._pending.append(path)
            self._flush_timer.start()
        return True

    def _flush(self) -> None:
        paths, self._pending = self._pending, []
        if paths:
            self._add_paths(paths)
