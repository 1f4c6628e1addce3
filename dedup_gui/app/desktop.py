"""Hand files to the desktop: open with the default viewer, show the containing folder."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

from PySide6.QtCore import QByteArray, QUrl
from PySide6.QtGui import QDesktopServices


def file_url(path: str) -> QUrl:
    """The file:// URL of the bytes on disk: QUrl.fromLocalFile would turn a file name that is
    not UTF-8 (surrogate escapes in Python) into the URL of a different, missing file."""
    return QUrl.fromEncoded(QByteArray(b"file://" + quote(os.fsencode(path)).encode("ascii")))


def open_file(path: str) -> bool:
    return QDesktopServices.openUrl(file_url(path))


def show_in_folder(path: str) -> bool:
    """Open the parent folder: portable, unlike selecting the file in each file manager."""
    return QDesktopServices.openUrl(file_url(str(Path(path).parent)))
