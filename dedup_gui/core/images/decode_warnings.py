"""Warnings the image library raises while it reads one file, kept as that file's notes.

Pillow reports damaged metadata ("Corrupt EXIF data ...") with `warnings.warn`, which
would print to stderr, detached from the file it concerns. `warnings.catch_warnings` is
process-wide and not thread-safe, so instead one hook (installed once, and again if a
caller such as pytest has swapped `warnings.showwarning` since) hands each warning raised
on a thread that is collecting to that thread's list, and passes the rest on.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_local = threading.local()
_install_lock = threading.Lock()
_passed_on: Any = None
"""The `showwarning` the hook found in place, for warnings raised outside a decode."""

# Every file gets its notes, not only the first with a given message ("default" shows a
# warning once per location and text). Only UserWarnings: DecompressionBombWarning
# (a RuntimeWarning) stays an error.
warnings.filterwarnings("always", category=UserWarning, module=r"PIL(\.|$)")


def _route(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    collected: list[tuple[type[Warning], str, str]] | None = getattr(_local, "collected", None)
    if collected is not None and issubclass(category, UserWarning):
        collected.append((category, str(message), filename))
        return
    if _passed_on is not None:
        _passed_on(message, category, filename, lineno, file, line)


def _install() -> None:
    global _passed_on
    with _install_lock:
        current = warnings.showwarning
        if current is not _route:
            _passed_on = current
            warnings.showwarning = _route


@contextmanager
def collecting() -> Iterator[list[tuple[type[Warning], str, str]]]:
    """(category, message, source file) of each UserWarning (what Pillow warns with)
    raised on this thread inside the block, none of them printed."""
    _install()
    outer = getattr(_local, "collected", None)
    collected: list[tuple[type[Warning], str, str]] = []
    _local.collected = collected
    try:
        yield collected
    finally:
        _local.collected = outer
