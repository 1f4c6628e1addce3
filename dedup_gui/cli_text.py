"""What the CLI prints about files: one line each, names escaped so they cannot forge
lines or drive the terminal; and the usage error every command may raise."""

from __future__ import annotations

import sys
from contextlib import suppress


class UsageError(Exception):
    """A problem with the command line itself (exit status 2)."""


def say(message: str) -> None:
    """One line on stderr; file names in it cannot start a line of their own."""
    # OSError: stderr is closed; RuntimeError: re-entered from the Ctrl+C handler.
    with suppress(OSError, RuntimeError):
        print(f"dedup-cli: {shown(message)}", file=sys.stderr)


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def shown(text: str) -> str:
    """`text` with control characters and other non-printables escaped (\\n, \\x1b, an
    undecodable byte of a file name as \\xff), so a name cannot forge lines or drive
    the terminal."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's stand-in for a byte that is not UTF-8
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
