"""Tiny ONNX models written byte by byte (protobuf wire format), so a test can give the app
an SSCD-compatible model file without the `onnx` package or the bundled model.

The model follows the contract of core/deep/model.py: one input, uint8 RGB NHWC of any
size; one float output (N, 3): the mean colour of the image (normalised by the loader).
"""

from __future__ import annotations

from pathlib import Path

UINT8, FLOAT = 2, 1
"""TensorProto.DataType values."""
ATTRIBUTE_INT, ATTRIBUTE_INTS = 2, 7
"""AttributeProto.AttributeType values."""


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _int(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _bytes(field: int, value: bytes | str) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _tensor_value(name: str, elem_type: int, dims: list[int | str]) -> bytes:
    """A ValueInfoProto: a name, and a tensor type whose dims are sizes or symbols."""
    shape = b"".join(
        _bytes(1, _bytes(2, dim) if isinstance(dim, str) else _int(1, dim)) for dim in dims
    )
    tensor = _int(1, elem_type) + _bytes(2, shape)
    return _bytes(1, name) + _bytes(2, _bytes(1, tensor))


def _node(op: str, inputs: list[str], outputs: list[str], attributes: bytes = b"") -> bytes:
    fields = b"".join(_bytes(1, name) for name in inputs)
    fields += b"".join(_bytes(2, name) for name in outputs)
    return fields + _bytes(3, f"{op}_0") + _bytes(4, op) + attributes


def mean_colour_model(input_type: int = UINT8) -> bytes:
    """uint8 (N, H, W, 3) -> float (N, 3): Cast, then ReduceMean over height and width.
    With `input_type` FLOAT the model wants float images: not SSCD-compatible."""
    nodes = b""
    pixels = "image"
    if input_type == UINT8:
        pixels = "pixels"
        nodes += _bytes(1, _node(
            "Cast", ["image"], [pixels],
            _bytes(5, _bytes(1, "to") + _int(20, ATTRIBUTE_INT) + _int(3, FLOAT)),
        ))
    axes = _bytes(1, "axes") + _int(20, ATTRIBUTE_INTS) + _int(8, 1) + _int(8, 2)
    keepdims = _bytes(1, "keepdims") + _int(20, ATTRIBUTE_INT) + _int(3, 0)
    nodes += _bytes(1, _node("ReduceMean", [pixels], ["descriptor"],
                             _bytes(5, axes) + _bytes(5, keepdims)))
    graph = (
        nodes + _bytes(2, "mean_colour")
        + _bytes(11, _tensor_value("image", input_type, ["batch", "height", "width", 3]))
        + _bytes(12, _tensor_value("descriptor", FLOAT, ["batch", 3]))
    )
    opset = _int(2, 13)  # ReduceMean still takes its axes as an attribute
    return _int(1, 7) + _bytes(2, "dedup_gui tests") + _bytes(7, graph) + _bytes(8, opset)


def write_mean_colour_model(path: Path, input_type: int = UINT8) -> Path:
    path.write_bytes(mean_colour_model(input_type))
    return path
