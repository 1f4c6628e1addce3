"""Hand files to the desktop: open with the default viewer, show the containing folder.
When the desktop cannot (no program is set up for the file's type), `problems.reported`
says so, for the windows to show instead of nothing happening."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from PySide6.QtCore import QByteArray, QMimeDatabase, QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices

XDG_QUERY_TIMEOUT_SECONDS = 2.0
TYPE_NAMES = {"JPG": "JPEG", "JPE": "JPEG", "TIF": "TIFF"}


class DesktopProblems(QObject):
    reported = Signal(str)
    """A sentence for the user: what the desktop could not do."""


problems = DesktopProblems()


def file_url(path: str) -> QUrl:
    """The file:// URL of the bytes on disk: QUrl.fromLocalFile would turn a file name that is
    not UTF-8 (surrogate escapes in Python) into the URL of a different, missing file."""
    return QUrl.fromEncoded(QByteArray(b"file://" + quote(os.fsencode(path)).encode("ascii")))


def type_name(path: str) -> str:
    """"JPEG", "PNG", "NEF": how a user names a file's type."""
    suffix = Path(path).suffix.lstrip(".").upper()
    return TYPE_NAMES.get(suffix, suffix) or "these"


def no_viewer_text(path: str) -> str:
    return f"No program is set up to open {type_name(path)} files."


def open_file(path: str) -> bool:
    """Open `path` in its default program; False (and a reported problem) when the
    desktop has none for its type, or could not start it."""
    # Qt's answer first (False: nothing could be started); then whether what it started
    # (xdg-open) has a program to hand the file to, which it would not say.
    if not QDesktopServices.openUrl(file_url(path)) or not has_default_program(path):
        problems.reported.emit(no_viewer_text(path))
        return False
    return True


def show_in_folder(path: str) -> bool:
    """Open the parent folder: portable, unlike selecting the file in each file manager."""
    folder = str(Path(path).parent)
    if not QDesktopServices.openUrl(file_url(folder)):
        problems.reported.emit("No file manager is set up to show the folder.")
        return False
    return True


def has_default_program(path: str) -> bool:
    """On freedesktop systems, whether xdg-mime knows a default program for the file's
    type: xdg-open fails without a word when there is none. Elsewhere (and without
    xdg-mime) True: the desktop's own answer to opening is taken."""
    if sys.platform in ("darwin", "win32"):
        return True
    xdg_mime = shutil.which("xdg-mime")
    if xdg_mime is None:
        return True
    mime = QMimeDatabase().mimeTypeForFile(path).name()
    try:
        answer = subprocess.run(
            [xdg_mime, "query", "default", mime],
            capture_output=True, text=True, timeout=XDG_QUERY_TIMEOUT_SECONDS, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return True  # cannot tell: let the desktop try
    return bool(answer.stdout.strip())
