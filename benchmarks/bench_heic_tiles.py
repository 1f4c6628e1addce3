"""Would decoding a grid HEIC's HEVC tiles with FFmpeg (PyAV) be cheaper than pillow-heif?

Issue 13 asked for >= 2x less CPU a 12 MP HEIC without an embedded thumbnail, and set
1.8x as the bar for trying it. Both paths on one thread, in the same process, alternating
rounds; the results are in benchmarks/notes/heic_pyav_tiles.md.

- current: decode.open_reduced (pillow-heif, libheif + libde265, full-size RGB), then the
  256 px thumbnail and compute_signatures: what a scan does for such a file;
- pyav: the tiles decoded by FFmpeg's hevc decoder, Y (and U/V at half size) pasted into
  planes, cropped, reduced, converted to RGB at about 300 px, then the same thumbnail and
  signatures (Y only: grey copied into RGB);
- decode-only floors of both: pillow-heif's load, and FFmpeg's decode of the packets.

A prototype, not a decoder: the packets come from FFmpeg's own HEIF demuxer (which lists
every tile as a stream, in item order) and the grid from pillow-heif's info["tiling"], both
set aside before the timing (av.open + demux costs about 4 ms a photo). It assumes the
streams are in row-major grid order, which holds for the files pillow-heif writes.

Needs `pip install av` (not a dependency of the project).

    python benchmarks/bench_heic_tiles.py [--folder benchmarks/_data/formats/heic_12mp]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pillow_heif
from PIL import Image

from dedup_gui.core.images import decode
from dedup_gui.core.images.signatures import Signatures, compute_signatures
from dedup_gui.core.images.thumbnails import THUMBNAIL_SIDE, fit_within

DEFAULT_FOLDER = Path(__file__).resolve().parent / "_data" / "formats" / "heic_12mp"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Tiles:
    """One file's grid and tile packets, read before any timing."""

    def __init__(self, av: Any, path: Path) -> None:
        self.av = av
        self.tiling = pillow_heif.open_heif(path)[0].info["tiling"]
        container = av.open(str(path))
        width = self.tiling["tile_width"]
        streams = [s for s in container.streams if s.codec_context.width == width]
        self.extradata = streams[0].codec_context.extradata
        self.packets = [bytes(p) for p in container.demux(streams) if p.size]
        container.close()

    def decode(self) -> list[Any]:
        context = self.av.CodecContext.create("hevc", "r")
        context.extradata = self.extradata
        context.thread_count = 1
        frames = []
        for data in self.packets:
            frames.extend(context.decode(self.av.Packet(data)))
        frames.extend(context.decode(None))
        return frames

    def signatures(self, with_chroma: bool) -> Signatures:
        t = self.tiling
        cols, rows = t["num_columns"], t["num_rows"]
        tile_w, tile_h = t["tile_width"], t["tile_height"]
        width, height = t["image_width"], t["image_height"]
        planes = [np.empty((rows * tile_h, cols * tile_w), np.uint8)]
        if with_chroma:
            planes += [np.empty((rows * tile_h // 2, cols * tile_w // 2), np.uint8) for _ in "uv"]
        for index, frame in enumerate(self.decode()):
            row, col = divmod(index, cols)
            for k, target in enumerate(planes):
                shift = 0 if k == 0 else 1
                h, w = tile_h >> shift, tile_w >> shift
                source = frame.planes[k]
                pixels = np.frombuffer(source, np.uint8).reshape(h, source.line_size)[:, :w]
                target[row * h : (row + 1) * h, col * w : (col + 1) * w] = pixels
        luma = Image.fromarray(planes[0][:height, :width]).reduce(2)
        if with_chroma:
            chroma = [
                Image.fromarray(p[: (height + 1) // 2, : (width + 1) // 2]) for p in planes[1:]
            ]
            small = Image.merge("YCbCr", (luma, *chroma))
        else:
            small = luma
        small = small.reduce(max(1, min(small.size) // decode.REDUCED_MIN_SIDE))
        return compute_signatures(fit_within(small.convert("RGB"), THUMBNAIL_SIDE))


def current(path: Path) -> Signatures:
    image, _info = decode.open_reduced(path)
    return compute_signatures(fit_within(image, THUMBNAIL_SIDE))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    try:
        import av
    except ImportError:
        print("needs PyAV: pip install av")
        return 1
    pillow_heif.options.DECODE_THREADS = 1
    files = sorted(args.folder.glob("*.heic"))
    if not files:
        print(f"no .heic in {args.folder} (benchmarks/format_corpus.py makes them)")
        return 1
    tiles = {f: Tiles(av, f) for f in files}
    paths: dict[str, Callable[[Path], object]] = {
        "current (pillow-heif)": current,
        "pyav Y+UV": lambda f: tiles[f].signatures(True),
        "pyav Y only": lambda f: tiles[f].signatures(False),
        "floor: pillow-heif load": lambda f: np.asarray(pillow_heif.open_heif(f)[0]),
        "floor: pyav decode": lambda f: tiles[f].decode(),
    }
    reference = {f: current(f) for f in files}
    for name in ("pyav Y+UV", "pyav Y only"):
        bits = []
        for f in files:
            got = paths[name](f)
            assert isinstance(got, Signatures)
            want = reference[f]
            bits.append(
                ((got.dhash ^ want.dhash).bit_count(), (got.phash ^ want.phash).bit_count())
            )
        print(f"{name}: (dHash, pHash) bits from current, per file: {bits}")
    cpu = dict.fromkeys(paths, 0.0)
    wall = dict.fromkeys(paths, 0.0)
    for _ in range(args.rounds):
        for name, run in paths.items():
            start_cpu, start_wall = cpu_seconds(), time.perf_counter()
            for f in files:
                run(f)
            cpu[name] += cpu_seconds() - start_cpu
            wall[name] += time.perf_counter() - start_wall
    count = args.rounds * len(files)
    base = cpu["current (pillow-heif)"]
    print(f"{len(files)} files x {args.rounds} rounds, one thread each")
    for name in paths:
        print(
            f"{name:24s} CPU {cpu[name] / count:.3f} s/photo  wall {wall[name] / count:.3f} s"
            f"  current / this: {base / cpu[name]:.2f}x"
        )
    print("load:", os.getloadavg())
    return 0


if __name__ == "__main__":
    sys.exit(main())
