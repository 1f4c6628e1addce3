"""Byte-identical copies in one scan are decoded once: "copies of copies" libraries are
full of them, and decoding is nearly all of a scan's work.

Only files whose size another file shares get a content digest (scanner.py), and the
scanner queues them by size in blocks (one file of each size first, then the others), so
the copies of one photo reach the workers soon after their twin: a small window of recent
digests finds them. A copy whose twin is being decoded right now waits for it rather than
decoding the same bytes in parallel. A copy of a file the cache already knows (a backup
folder scanned with the library) takes the cached record and thumbnail.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from dedup_gui.core.models import ImageRecord

RECENT_DIGESTS = 256
"""Digests remembered (with a ~12 KB thumbnail each): ~3 MB whatever the library size.
The scanner queues this many sizes at a time, so a block's twins are all still here."""
TWIN_WAIT_SECONDS = 30.0
"""How long a copy waits for its twin's decode before decoding itself."""

Decoded = tuple[ImageRecord, bytes]
"""A record and its JPEG review thumbnail."""


@dataclass
class _Slot:
    ready: threading.Event = field(default_factory=threading.Event)
    decoded: Decoded | None = None


@dataclass
class CopyClaim:
    """What `DecodedCopies.decode_once` hands its caller."""

    twin: Decoded | None
    """The decoded twin: use it instead of decoding. None: decode, then `publish`."""
    _slot: _Slot | None
    """Set when this caller is the first with these bytes (its result is shared)."""

    def publish(self, record: ImageRecord, thumbnail_jpeg: bytes) -> None:
        if self._slot is not None:
            self._slot.decoded = (record, thumbnail_jpeg)


class DecodedCopies:
    """Decoded images of one scan by content digest, and the cached records (with digests)
    it found, whose thumbnails `cached_thumbnail` reads back. Thread-safe; not picklable,
    so process workers go without it."""

    def __init__(
        self,
        capacity: int = RECENT_DIGESTS,
        cached_thumbnail: Callable[[ImageRecord], bytes | None] | None = None,
    ) -> None:
        self.capacity = capacity
        self._cached_thumbnail = cached_thumbnail
        self._lock = threading.Lock()
        self._slots: OrderedDict[bytes, _Slot] = OrderedDict()
        self._cached: dict[bytes, ImageRecord] = {}

    def add_cached(self, record: ImageRecord) -> None:
        """A record from the cache whose content digest is known: a new copy of the file
        (a backup folder scanned with the library) takes it over instead of decoding."""
        if record.content_digest is not None and self._cached_thumbnail is not None:
            with self._lock:
                self._cached.setdefault(record.content_digest, record)

    @contextmanager
    def decode_once(self, digest: bytes) -> Iterator[CopyClaim]:
        """The first caller with `digest` gets no twin and publishes what it decodes; later
        ones get that (after waiting for it), or no twin if it failed. A digest the cache
        knows gets the cached record and thumbnail, when the thumbnail is still there."""
        with self._lock:
            slot = self._slots.get(digest)
            cached = self._cached.get(digest) if slot is None else None
        if cached is not None and self._cached_thumbnail is not None:
            thumbnail = self._cached_thumbnail(cached)
            if thumbnail is not None:
                yield CopyClaim(twin=(cached, thumbnail), _slot=None)
                return
        with self._lock:
            slot = self._slots.get(digest)
            first = slot is None
            if slot is None:
                slot = self._slots[digest] = _Slot()
                while len(self._slots) > self.capacity:
                    self._slots.popitem(last=False)
        if not first:
            slot.ready.wait(TWIN_WAIT_SECONDS)
            yield CopyClaim(twin=slot.decoded, _slot=None)
            return
        try:
            yield CopyClaim(twin=None, _slot=slot)
        finally:
            slot.ready.set()  # also when the decode failed: the copies then try themselves
