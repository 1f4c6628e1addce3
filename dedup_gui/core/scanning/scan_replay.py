"""A CLI scan of files that have not changed since the last identical scan, answered with the
document that scan wrote: no hashing, no cache read and no grouping (none of numpy, Pillow or
the grouping code is imported), so a rescan of an unchanged folder costs about what starting
Python costs.

"Identical" is the key (`replay_key`): the code (its version and the size and mtime of every
module, so an edited checkout never replays an old result), the Python version, the time
zone (the document shows local mtimes), every option of the command but --output and
--workers, the "not duplicates" list, and for every file the scan would read its path, size,
mtime, ctime, device and inode, as the scan's own discovery lists them. A file that was
written, replaced, renamed or had its permissions changed has another ctime, so another key;
the hash cache trusts less than that (size and mtime) to skip decoding a file.

Only a clean scan is kept: one without unreadable files or folders, notices or pairs left
undecided (ScanResult.undecided: every scan tries those again, so never replayed), with no deep
pass (its model is a file of its own), and a document of at most MAX_DOCUMENT_BYTES. A replay
whose header, key, length or checksum do not fit is ignored, and the scan runs as if there
were none. Files are written to a temporary file in the same folder, then renamed.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import zlib
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import dedup_gui
from dedup_gui.core.scanning import kept_files

REPLAY_VERSION = 1
MAGIC = b"dedup-gui scan replay\n"
FOLDER_NAME = "scan_replays"
SUFFIX = ".replay"
KEPT_REPLAYS = 8
"""Replays of other scans kept beside the newest (the oldest go first)."""
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
"""A larger document is not kept (about 150,000 grouped photos in JSON); a kept one is
compressed (zlib) to about a tenth."""

FileIdentity = tuple[str, int, int, int, int, int]
"""(path, size, mtime_ns, ctime_ns, st_dev, st_ino) of one file the scan reads."""

_code_version: str | None = None


@dataclass(frozen=True, slots=True)
class Replay:
    document: str
    """What the scan wrote to its output, exactly."""
    exit_status: int


def replay_key(
    settings: Mapping[str, object], files: Iterable[FileIdentity], ignore_version: str
) -> str:
    """The key of a scan with these `settings` (JSON-able values) over these `files`."""
    digest = hashlib.blake2b(digest_size=32)
    header = {
        "replay": REPLAY_VERSION,
        "code": code_version(),
        "python": sys.version,
        "time zone": [os.environ.get("TZ"), time.timezone, time.altzone, time.daylight,
                      list(time.tzname)],
        "settings": settings,
        "not duplicates": ignore_version,
    }
    digest.update(json.dumps(header, sort_keys=True, default=str).encode())
    for path, *numbers in files:
        digest.update(b"\0" + os.fsencode(path) + b"\0" + ",".join(map(str, numbers)).encode())
    return digest.hexdigest()


def code_version() -> str:
    """dedup_gui's version and the size and mtime of each of its modules (a frozen bundle:
    of its executable)."""
    global _code_version
    if _code_version is None:
        digest = hashlib.blake2b(dedup_gui.__version__.encode(), digest_size=16)
        package = Path(dedup_gui.__file__).parent
        sources = sorted(_python_files(os.fspath(package)))
        if getattr(sys, "frozen", False) or not sources:
            sources = [sys.executable]
        for source in sources:
            info = Path(source).stat()
            digest.update(f"{source}:{info.st_size}:{info.st_mtime_ns};".encode())
        _code_version = digest.hexdigest()
    return _code_version


def _python_files(folder: str) -> Iterable[str]:
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False) and entry.name != "__pycache__":
                yield from _python_files(entry.path)
            elif entry.name.endswith(".py"):
                yield entry.path


def load(folder: Path, key: str) -> Replay | None:
    """The replay saved under `key`, or None (none, or one that does not check out)."""
    try:
        data = (folder / f"{key[:32]}{SUFFIX}").read_bytes()
    except OSError:
        return None
    if not data.startswith(MAGIC):
        return None
    header_end = data.find(b"\n", len(MAGIC))
    if header_end < 0:
        return None
    try:
        header = json.loads(data[len(MAGIC):header_end])
        body = data[header_end + 1:]
        if (
            header.get("version") != REPLAY_VERSION
            or header.get("key") != key
            or header.get("length") != len(body)
            or header.get("checksum") != hashlib.blake2b(body, digest_size=32).hexdigest()
            or not isinstance(header.get("exit"), int)
        ):
            return None
        document = zlib.decompress(body)
        if len(document) != header.get("size"):
            return None
        return Replay(document=document.decode("utf-8", "surrogateescape"),
                      exit_status=header["exit"])
    except (ValueError, AttributeError, UnicodeError, zlib.error):
        return None


def save(folder: Path, key: str, replay: Replay) -> bool:
    """Keep `replay` under `key`; False (and nothing kept) when it is too large or cannot
    be written: a replay only saves time, so a failure here is never the scan's."""
    document = replay.document.encode("utf-8", "surrogateescape")
    if len(document) > MAX_DOCUMENT_BYTES:
        return False
    body = zlib.compress(document, 1)  # JSON of paths: about a tenth, in a few ms a MB
    header = {"version": REPLAY_VERSION, "key": key, "length": len(body), "size": len(document),
              "checksum": hashlib.blake2b(body, digest_size=32).hexdigest(),
              "exit": replay.exit_status}
    target = folder / f"{key[:32]}{SUFFIX}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        kept_files.write_replacing(target, MAGIC + json.dumps(header).encode() + b"\n" + body)
    except OSError:
        return False
    with suppress(OSError):
        kept_files.prune(folder, SUFFIX, keep=target, kept=KEPT_REPLAYS)
    return True
