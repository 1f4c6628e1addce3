"""Python's cyclic garbage collector held off while a block builds many objects that all
stay alive (a grouping's members, a cached library's 100,000 records and their rows): each
full collection it would set off walks every object built so far, for nothing."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The collector off for the block (as it was after). Nothing is lost: what became
    garbage meanwhile is collected by the next collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
