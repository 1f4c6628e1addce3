"""How much memory the decodes of one scan may use at once: a semaphore counted in bytes.

Each decode reserves its estimate (decode_cost.py) before decoding and gives it back after,
so two 400 MB decodes never run together under a 512 MB budget while small ones go on
beside either. Admission is not first come first served, so a small decode does not queue
behind a big one; but once a big one has waited PATIENCE_SECONDS it is owed its room, and
only decodes that leave that room start until it has run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.context import BaseContext

from dedup_gui.core.files.interrupt import CancelFlag, raise_if_cancelled

DEFAULT_MEMORY_BUDGET_BYTES = 1 << 30
PATIENCE_SECONDS = 1.0
"""How long a decode waits for room before later decodes must leave room for it."""
_POLL_SECONDS = 0.1
"""How often a waiting decode looks at the cancel flag."""
_USED, _OWED = 0, 1


class MemoryBudget:
    """Thread-safe; with `processes` (a multiprocessing context) it is shared by worker
    processes instead, and must reach them at their start (a pool initializer)."""

    def __init__(
        self,
        total_bytes: int = DEFAULT_MEMORY_BUDGET_BYTES,
        *,
        processes: BaseContext | None = None,
        patience_seconds: float = PATIENCE_SECONDS,
    ) -> None:
        if total_bytes <= 0:
            raise ValueError("a memory budget must be positive")
        self.total_bytes = total_bytes
        self.patience_seconds = patience_seconds
        # [bytes reserved, bytes owed to the decode that has waited too long]
        if processes is None:
            self._condition: threading.Condition = threading.Condition()
            self._state: list[float] = [0.0, 0.0]
        else:
            self._condition = processes.Condition()  # type: ignore[assignment]
            self._state = processes.Array("d", 2, lock=False)  # type: ignore[assignment]

    @property
    def reserved_bytes(self) -> int:
        with self._condition:
            return int(self._state[_USED])

    @contextmanager
    def reserve(self, nbytes: int, cancel: CancelFlag | None = None) -> Iterator[None]:
        """Hold `nbytes` of the budget for the duration of the block, waiting for room.
        Raises ValueError for more than the whole budget, interrupt.Cancelled when
        `cancel` is set while waiting."""
        if nbytes > self.total_bytes:
            raise ValueError(f"{nbytes} bytes is more than the whole budget")
        nbytes = max(0, nbytes)
        self._acquire(nbytes, cancel)
        try:
            yield
        finally:
            with self._condition:
                self._state[_USED] -= nbytes
                self._condition.notify_all()

    def _acquire(self, nbytes: int, cancel: CancelFlag | None) -> None:
        started = time.monotonic()
        owed_to_me = False
        with self._condition:
            try:
                while True:
                    raise_if_cancelled(cancel)
                    used, owed = self._state[_USED], self._state[_OWED]
                    room_to_leave = 0.0 if owed_to_me else owed
                    if used + nbytes + room_to_leave <= self.total_bytes:
                        break
                    waited = time.monotonic() - started
                    if not owed_to_me and owed == 0 and waited >= self.patience_seconds:
                        owed_to_me = True
                        self._state[_OWED] = nbytes
                        continue
                    self._condition.wait(_POLL_SECONDS)
                self._state[_USED] += nbytes
            finally:
                if owed_to_me:
                    self._state[_OWED] = 0
                    self._condition.notify_all()
