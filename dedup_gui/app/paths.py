"""File paths across the Qt boundary. Qt strings cannot hold a name that is not UTF-8
(Python keeps its bytes as surrogate escapes, which PySide drops), so paths are kept as
Python `str` or bytes and only shown through Qt."""

from __future__ import annotations

import os
import urllib.parse

from PySide6.QtCore import QUrl


def local_path(url: QUrl) -> str:
    """The local file a dropped or opened `file:` URL names, byte for byte on POSIX, where
    a name need not be UTF-8 (an old disk's Latin-1 folders): QUrl.toLocalFile() would
    turn those bytes into U+FFFD, naming a file that does not exist."""
    if os.name != "posix" or url.host():
        return url.toLocalFile()
    encoded = url.path(QUrl.ComponentFormattingOption.FullyEncoded)
    return os.fsdecode(urllib.parse.unquote_to_bytes(encoded))


def display_path(path: str) -> str:
    """`path` as text for the user: bytes that are not UTF-8 become U+FFFD."""
    return os.fsencode(path).decode("utf-8", "replace")


def is_qt_safe(path: str) -> bool:
    """Whether `path` survives a trip through a Qt string unchanged."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
