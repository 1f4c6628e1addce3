"""A long read or wait that gives up when its scan is cancelled."""

from __future__ import annotations

from typing import Protocol


class CancelFlag(Protocol):
    """What a read or a wait checks: models.CancelToken, or a flag shared with worker
    processes."""

    @property
    def cancelled(self) -> bool: ...


class Cancelled(Exception):
    """The scan was cancelled while this file was being read or waited for."""


def raise_if_cancelled(cancel: CancelFlag | None) -> None:
    if cancel is not None and cancel.cancelled:
        raise Cancelled
