"""Checking a model file the user picked for deep matching, off the GUI thread: it is
loaded through the core loader (core/deep/model.load_model, which also runs one image
through it), so the scan later reuses the loaded model; a file that fails gets one line
that says why."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from dedup_gui.app.paths import display_path

MAX_REASON = 160
ONNXRUNTIME_PREFIX = re.compile(r"\[ONNXRuntimeError\] : \d+ : \w+ : ")
"""onnxruntime's "[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : " before its message."""


@dataclass(frozen=True, slots=True)
class ModelCheck:
    path: str
    problem: str | None = None
    """One line for the user when the file cannot be used; None when it can."""
    dimensions: int = 0
    """The length of the descriptors it gives (512 for SSCD)."""


def check_model_file(path: str) -> ModelCheck:
    """Load `path` as an SSCD-compatible model (this blocks: call it off the GUI thread)."""
    try:
        from dedup_gui.core.deep.model import load_model

        model = load_model(path)
    except Exception as error:  # DeepUnavailable, or onnxruntime's own classes
        return ModelCheck(path, problem=problem_line(path, error))
    return ModelCheck(path, dimensions=model.dimensions)


def problem_line(path: str, error: BaseException) -> str:
    """“name.onnx” cannot be used: the reason, on one line, without the full path."""
    name = display_path(os.path.basename(path))  # noqa: PTH119
    message = str(error) or type(error).__name__
    if "INVALID_PROTOBUF" in message or "Protobuf parsing failed" in message:
        reason = "it is not an ONNX model (the file could not be read as one)"
    elif "Unexpected input data type" in message:
        reason = "it does not take 8-bit RGB images as an SSCD model does"
    elif "does not exist" in message:
        reason = "the file does not exist"
    else:
        shown = display_path(path)
        message = message.replace(f" ({shown})", "").replace(f" ({path})", "")
        message = message.replace(shown, name).replace(path, name)
        message = ONNXRUNTIME_PREFIX.sub("", message)
        reason = re.sub(r"\s+", " ", message).strip()
        if len(reason) > MAX_REASON:
            reason = reason[: MAX_REASON - 1].rstrip() + "…"
    return f"“{name}” cannot be used: {reason}"


class _Signals(QObject):
    finished = Signal(object)
    """ModelCheck"""


class _CheckTask(QRunnable):
    def __init__(self, path: str, signals: _Signals) -> None:
        super().__init__()
        self._path = path
        self._signals = signals

    def run(self) -> None:
        self._signals.finished.emit(check_model_file(self._path))


class ModelChecker(QObject):
    """Checks one file at a time; `finished(ModelCheck)` arrives on the GUI thread."""

    finished = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # The pool before the signals: children are deleted in order, and deleting the pool
        # waits for a running check, so its report never reaches a deleted object.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _Signals(self)
        self._signals.finished.connect(self._on_finished)
        self._running = 0

    def check(self, path: str) -> None:
        self._running += 1
        self._pool.start(_CheckTask(path, self._signals))

    def busy(self) -> bool:
        return self._running > 0

    def wait(self, msecs: int = -1) -> bool:
        return self._pool.waitForDone(msecs)

    def _on_finished(self, result: ModelCheck) -> None:
        self._running -= 1
        self.finished.emit(result)
