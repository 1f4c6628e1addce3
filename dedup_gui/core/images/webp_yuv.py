"""A lossy WebP decoded by libwebp to its own Y'CbCr planes, reduced before it is RGB.

libwebp's own output to RGB (and libvips' scaled decode, vips_decode.py) spends a fifth of
a 12 MP photo's decode upsampling the chroma and converting every pixel; hashing needs a
few hundred pixels a side. Here libwebp writes the planes it decoded (4:2:0, 1.5 bytes a
pixel), Pillow box-averages them by `factor`, and only the reduced image is converted to
RGB, with libwebp's own BT.601 coefficients: 12 MP in about 4/5 of libvips' CPU time
(benchmarks/bench_formats.py), and closer to Pillow's full decode than libvips' rescaler.

Only a still, lossy, opaque WebP comes here; anything else (alpha, animation, lossless,
any decoder error) returns None and goes to libvips or Pillow as before. Without the
`webp` package (cffi bindings to libwebp), `reduced` returns None.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import numpy as np
from PIL import Image

_LOSSY = 1
"""WebPBitstreamFeatures.format of a VP8 (lossy) bitstream; 2 is lossless, 0 mixed."""
_Y_SCALE = 19077 / 16384
"""libwebp's yuv.h, VP8YUVToR/G/B: y' = 1.164 (Y - 16), video range."""
_CR_TO_R = 26149 / 16384
_CB_TO_G = 6419 / 16384
_CR_TO_G = 13320 / 16384
_CB_TO_B = 33050 / 16384

_webp: ModuleType | None = None
_tried = False
_disabled = False


def _load() -> ModuleType | None:
    global _webp, _tried
    if not _tried:
        try:
            import webp

            _webp = webp
        except Exception:  # not installed, or its libwebp cannot be loaded
            _webp = None
        _tried = True  # after: a thread arriving meanwhile imports too, never sees None
    return _webp


def available() -> bool:
    return not _disabled and _load() is not None


@contextmanager
def disabled() -> Iterator[None]:
    """libvips (or Pillow) decodes every WebP inside the block, in every thread: the
    reference of benchmarks/eval_decode_paths.py (not for use while another scan runs)."""
    global _disabled
    before, _disabled = _disabled, True
    try:
        yield
    finally:
        _disabled = before


def reduced(data: bytes, factor: int) -> Image.Image | None:
    """The WebP file `data` shrunk by `factor` (block averages, as Image.reduce) as RGB;
    or None when it is not a still, lossy, opaque WebP or libwebp cannot decode it."""
    webp = None if _disabled else _load()
    if webp is None:
        return None
    try:
        planes = _decode_planes(webp.ffi, webp.lib, data)
    except Exception:  # cffi or libwebp surprises: another decoder says what is wrong
        return None
    if planes is None:
        return None
    luma, blue, red = planes
    return _to_rgb(*_reduced_planes(luma, blue, red, max(1, factor)))


def _decode_planes(
    ffi: Any, lib: Any, data: bytes
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    config = ffi.new("WebPDecoderConfig*")
    if not lib.WebPInitDecoderConfig(config):
        return None
    start = ffi.from_buffer("uint8_t[]", data)
    features = ffi.addressof(config, "input")
    if lib.WebPGetFeatures(start, len(data), features) != lib.VP8_STATUS_OK:
        return None
    if config.input.has_alpha or config.input.has_animation or config.input.format != _LOSSY:
        return None
    width, height = config.input.width, config.input.height
    chroma = ((height + 1) // 2, (width + 1) // 2)
    luma = np.empty((height, width), np.uint8)
    blue = np.empty(chroma, np.uint8)
    red = np.empty(chroma, np.uint8)
    config.output.colorspace = lib.MODE_YUV
    config.output.is_external_memory = 1
    buffer = config.output.u.YUVA
    for name, plane in (("y", luma), ("u", blue), ("v", red)):
        setattr(buffer, name, ffi.from_buffer("uint8_t[]", plane))
        setattr(buffer, f"{name}_stride", plane.shape[1])
        setattr(buffer, f"{name}_size", plane.size)
    status = lib.WebPDecode(start, len(data), config)
    lib.WebPFreeDecBuffer(ffi.addressof(config, "output"))  # external memory: frees nothing
    return (luma, blue, red) if status == lib.VP8_STATUS_OK else None


def _reduced_planes(
    luma: np.ndarray, blue: np.ndarray, red: np.ndarray, factor: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each plane box-averaged by `factor`; the chroma then resized to the luma's size."""
    small = _shrunk(luma, factor)
    size = small.size
    return tuple(  # type: ignore[return-value]
        np.asarray(plane, np.float32)
        for plane in (
            small,
            _shrunk(blue, factor).resize(size, Image.Resampling.BILINEAR),
            _shrunk(red, factor).resize(size, Image.Resampling.BILINEAR),
        )
    )


def _shrunk(plane: np.ndarray, factor: int) -> Image.Image:
    image = Image.frombuffer("L", (plane.shape[1], plane.shape[0]), plane, "raw", "L", 0, 1)
    return image.reduce(factor) if factor >= 2 else image


def _to_rgb(luma: np.ndarray, blue: np.ndarray, red: np.ndarray) -> Image.Image:
    y = (luma - 16.0) * _Y_SCALE
    cb = blue - 128.0
    cr = red - 128.0
    rgb = np.stack((y + _CR_TO_R * cr, y - _CB_TO_G * cb - _CR_TO_G * cr, y + _CB_TO_B * cb), -1)
    rgb += 0.5
    return Image.fromarray(np.clip(rgb, 0, 255, out=rgb).astype(np.uint8), "RGB")
