"""Files for benchmarks/fault_injection.py: a small photo library, hostile images crafted
cheaply, cache damage, and the bookkeeping that proves no file was lost.

Hostile images are tiny on disk but declare huge pictures: the header says what a decoder
would have to allocate, the data is a few compressed kilobytes. Nothing here ever writes
into a file it did not create.

    python benchmarks/hostile_files.py grow PATH SECONDS   # append to PATH while it is read
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import shutil
import struct
import sys
import time
import urllib.parse
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

GroupSet = frozenset[frozenset[str]]
"""Duplicate groups as sets of paths relative to the scanned library."""


# --- the library ----------------------------------------------------------------------

def make_photo(seed: int, width: int = 480, height: int = 360) -> Image.Image:
    """A distinct photo-like picture per seed: colour fields, shapes with edges, grain."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    xs /= width
    ys /= height
    canvas = np.zeros((height, width, 3), np.float32)
    for _ in range(6):
        cx, cy = rng.random(2)
        radius = 0.1 + 0.4 * rng.random()
        weight = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * radius**2))
        canvas += weight[..., None] * (rng.random(3) * 255)
    canvas = canvas / max(float(canvas.max()), 1.0) * 220
    image = Image.fromarray(canvas.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x1 = x0 + int(rng.integers(width // 20, width // 3))
        y1 = y0 + int(rng.integers(height // 20, height // 3))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)((x0, y0, x1, y1), fill=fill)
    noise = rng.normal(0, 6, (height, width, 3))
    return Image.fromarray(np.clip(np.asarray(image, np.float32) + noise, 0, 255).astype(np.uint8))


def jpeg_bytes(image: Image.Image, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=int(options.pop("quality", 90)), **options)
    return buffer.getvalue()


def write_library(root: Path, originals: int = 36) -> None:
    """~60 photos in three folders: `originals` distinct photos, a byte copy of every third
    (two byte copies of every ninth) and a near copy (smaller, re-encoded) of every third."""
    for folder in ("camera", "backup", "edits"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    base_time = 1_600_000_000
    for index in range(originals):
        original = root / "camera" / f"IMG_{index:04}.jpg"
        photo = make_photo(100 + index)
        original.write_bytes(jpeg_bytes(photo))
        os.utime(original, (base_time + index, base_time + index))
        if index % 3 == 0:
            shutil.copy2(original, root / "backup" / original.name)
        if index % 9 == 0:
            shutil.copy2(original, root / "backup" / f"copy of {original.name}")
        if index % 3 == 1:
            smaller = photo.resize((360, 270), Image.Resampling.LANCZOS)
            near = root / "edits" / f"IMG_{index:04}_small.jpg"
            near.write_bytes(jpeg_bytes(smaller, quality=80))


def write_byte_pairs(root: Path, count: int) -> None:
    """`count` tiny distinct photos, each with a byte copy: a long JSON output, cheaply."""
    root.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        data = jpeg_bytes(make_photo(5000 + index, 96, 72))
        (root / f"p{index:04}.jpg").write_bytes(data)
        (root / f"p{index:04} copy.jpg").write_bytes(data)


# --- hostile images -------------------------------------------------------------------

def progressive_jpeg_declaring(path: Path, width: int, height: int) -> None:
    """A ~1.5 KB progressive JPEG whose frame header (SOF2) claims width x height."""
    data = bytearray(jpeg_bytes(make_photo(7, 32, 32), quality=50, progressive=True))
    marker = data.find(b"\xff\xc2")
    if marker < 0:
        raise RuntimeError("Pillow wrote no progressive frame header")
    # SOF2: marker(2) length(2) precision(1) height(2) width(2)
    data[marker + 5 : marker + 9] = struct.pack(">HH", height, width)
    path.write_bytes(bytes(data))


def _zeros_deflated(total: int, chunk: int = 1 << 20) -> bytes:
    compressor = zlib.compressobj(9)
    zeros = bytes(chunk)
    parts = []
    while total > 0:
        parts.append(compressor.compress(zeros[: min(chunk, total)]))
        total -= chunk
    parts.append(compressor.flush())
    return b"".join(parts)


def float_tiff_declaring(path: Path, side: int) -> None:
    """A deflated 32-bit float greyscale TIFF, side x side, all zeros (a few hundred KB)."""
    strip = _zeros_deflated(side * side * 4)
    entries = [  # tag, type (3 SHORT, 4 LONG), value
        (256, 4, side), (257, 4, side), (258, 3, 32), (259, 3, 8), (262, 3, 1),
        (273, 4, 0), (277, 3, 1), (278, 4, side), (279, 4, len(strip)), (339, 3, 3),
    ]  # fmt: skip
    ifd_size = 2 + 12 * len(entries) + 4
    strip_offset = 8 + ifd_size
    ifd = bytearray(struct.pack("<H", len(entries)))
    for tag, kind, value in entries:
        value = strip_offset if tag == 273 else value
        packed = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, 1) + packed
    ifd += struct.pack("<I", 0)
    path.write_bytes(b"II*\x00" + struct.pack("<I", 8) + bytes(ifd) + strip)


def grey16_png_declaring(path: Path, side: int) -> None:
    """A 16-bit greyscale PNG, side x side, all zeros (a few hundred KB)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF
        )

    header = struct.pack(">IIBBBBB", side, side, 16, 0, 0, 0, 0)
    rows = _zeros_deflated(side * (1 + 2 * side))  # filter byte 0 + samples, every row
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def sparse_jpeg(path: Path, total_size: int, seed: int) -> None:
    """A real small JPEG followed by a hole up to `total_size` bytes (no disk used)."""
    path.write_bytes(jpeg_bytes(make_photo(seed, 64, 48)))
    os.truncate(path, total_size)
    if path.stat().st_blocks * 512 > 16 << 20:
        path.unlink()
        raise RuntimeError(f"{path.parent} does not keep sparse files sparse")


def grow(path: Path, seconds: float, limit: int = 64 << 20) -> None:
    """Append to `path` for `seconds` (up to `limit` bytes): a file growing while read."""
    stop = time.monotonic() + seconds
    block = os.urandom(64 << 10)
    with path.open("ab") as handle:
        while time.monotonic() < stop and handle.tell() < limit:
            handle.write(block)
            handle.flush()
            time.sleep(0.005)


# --- cache damage ---------------------------------------------------------------------

DAMAGE_PLACES = (
    "header", "first page", "middle page", "last page", "anywhere", "an index page",
    "a table leaf page", "an index row link",
)  # fmt: skip
_PAGE_TYPES = {"an index page": (0x02, 0x0A), "a table leaf page": (0x0D,)}


def damage(path: Path, seed: int) -> str:
    """Damage the SQLite file at `path` in place; returns what was done, for the report.
    Seeds cycle through DAMAGE_PLACES: the header, the first, middle and last pages,
    anywhere, and a random page of the B-tree kind named (index pages hold the path ->
    row links, table leaf pages the records themselves)."""
    rng = random.Random(seed)
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 4096
    page = 65536 if page == 1 else page
    pages = max(1, len(data) // page)
    where = DAMAGE_PLACES[seed % len(DAMAGE_PLACES)]
    if where == "an index row link":
        done = _redirect_index_entries(data, page, pages, rng)
        path.write_bytes(bytes(data))
        return done
    if where == "header":
        start, end = 0, 100
    elif where == "first page":
        start, end = 100, min(len(data), page)
    elif where == "middle page":
        start = (pages // 2) * page
        end = start + page
    elif where == "last page":
        start, end = (pages - 1) * page, len(data)
    elif where in _PAGE_TYPES:
        kinds = _PAGE_TYPES[where]
        found = [n for n in range(1, pages) if data[n * page] in kinds]
        number = rng.choice(found) if found else pages // 2
        where = f"{where} (page {number + 1} of {pages})"
        start, end = number * page + page // 2, (number + 1) * page  # the cells
    else:
        start, end = 0, len(data)
    end = max(start + 1, min(end, len(data)))
    if rng.random() < 0.5:
        flips = rng.randint(1, 16)
        for _ in range(flips):
            offset = rng.randrange(start, end)
            data[offset] ^= 1 << rng.randrange(8)
        done = f"{flips} bit flips in the {where}"
    else:
        length = min(end - start, rng.randint(8, 2048))
        offset = rng.randrange(start, end - length + 1)
        data[offset : offset + length] = rng.randbytes(length)
        done = f"{length} random bytes at {offset} ({where})"
    path.write_bytes(bytes(data))
    return done


def _redirect_index_entries(data: bytearray, page: int, pages: int, rng: random.Random) -> str:
    """Shuffle which rows the entries of one index leaf page point at (the rowid, the last
    field of each entry). Every entry still points at a row that exists, so SQLite reads
    the file without complaint; only an integrity check would notice that the index
    disagrees with the table."""
    leaves = [n for n in range(1, pages) if data[n * page] == 0x0A]
    if not leaves:
        return "no index leaf page to damage"
    number = rng.choice(leaves)
    base = number * page
    rowids: dict[int, list[int]] = {}  # rowid width in bytes -> where each one starts
    for index in range(int.from_bytes(data[base + 3 : base + 5], "big")):
        pointer = base + 8 + 2 * index
        cell = base + int.from_bytes(data[pointer : pointer + 2], "big")
        size, at = _varint(data, cell)
        header_size, cursor = _varint(data, at)
        serial_type = 0
        while cursor < at + header_size:
            serial_type, cursor = _varint(data, cursor)
        width = {1: 1, 2: 2, 3: 3, 4: 4}.get(serial_type)
        if width and at + size <= base + page:
            rowids.setdefault(width, []).append(at + size - width)
    shuffled = 0
    for width, starts in rowids.items():
        values = [bytes(data[start : start + width]) for start in starts]
        rng.shuffle(values)
        for start, value in zip(starts, values, strict=True):
            data[start : start + width] = value
        shuffled += len(starts)
    return f"the {shuffled} entries of index page {number + 1} shuffled between rows"


def _varint(data: bytearray, at: int) -> tuple[int, int]:
    """SQLite's big-endian varint at `at`: (value, the offset after it)."""
    value = 0
    for used in range(9):
        byte = data[at + used]
        if used == 8:
            return (value << 8) | byte, at + 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, at + used + 1
    return value, at + 9


# --- bookkeeping ----------------------------------------------------------------------

def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def snapshot(*roots: Path) -> dict[str, str]:
    """sha256 of every regular file under `roots`, by real path (links are not followed)."""
    hashes = {}
    for root in roots:
        for folder, _dirs, files in os.walk(root):
            for name in files:
                path = Path(folder) / name
                if path.is_file() and not path.is_symlink():
                    hashes[str(path)] = sha256(path)
    return hashes


def trash_index(data_home: Path) -> dict[str, str]:
    """Original path -> sha256 of every file in the freedesktop trash under `data_home`."""
    trash = data_home / "Trash"
    found = {}
    for info in (trash / "info").glob("*.trashinfo"):
        payload = trash / "files" / info.name.removesuffix(".trashinfo")
        if not payload.is_file():
            continue  # killed between writing the info and moving the file
        for line in info.read_text(errors="replace").splitlines():
            if line.startswith("Path="):
                found[urllib.parse.unquote(line[5:])] = sha256(payload)
    return found


@dataclass(frozen=True)
class Accounting:
    lost: tuple[str, ...]
    """Files neither at their place byte-identical nor (if meant to be) in the trash."""
    trashed: tuple[str, ...]


def account(before: dict[str, str], meant_for_trash: set[str], data_home: Path) -> Accounting:
    in_trash = trash_index(data_home)
    lost, trashed = [], []
    for path, digest in before.items():
        if path in in_trash and in_trash[path] == digest:
            trashed.append(path)
            if path in meant_for_trash:
                continue
            lost.append(path)  # trashed though it was not meant to be
            continue
        here = Path(path)
        if here.is_file() and not here.is_symlink() and sha256(here) == digest:
            continue
        lost.append(path)
    return Accounting(tuple(lost), tuple(trashed))


TEMPORARY_MARK = ".dedup-move-"


@dataclass(frozen=True)
class MoveAccounting:
    lost: tuple[str, ...]
    """Files neither at their place byte-identical nor byte-identical at TARGET/<their path
    below the library>."""
    moved: tuple[str, ...]
    debris: tuple[str, ...]
    """Our temporary files (".NAME.dedup-move-...") still in the target."""


def account_move(
    before: dict[str, str], library: Path, target: Path,
    target_files: dict[str, str] | None = None,
) -> MoveAccounting:
    """Where each file of `before` (path -> sha256) is now. `target_files` (relative path
    -> sha256) stands for the target when it is gone (a private mount); else it is read."""
    if target_files is None:
        target_files = {
            os.path.relpath(path, target): digest for path, digest in snapshot(target).items()
        }
    lost, moved = [], []
    for path, digest in before.items():
        here = Path(path)
        at_place = here.is_file() and not here.is_symlink() and sha256(here) == digest
        at_destination = here.is_relative_to(library) and (
            target_files.get(os.path.relpath(path, library)) == digest)
        if at_destination:
            moved.append(path)  # the case says whether it was meant to move
        if not (at_place or at_destination):
            lost.append(path)
    debris = tuple(name for name in target_files if TEMPORARY_MARK in Path(name).name)
    return MoveAccounting(tuple(lost), tuple(moved), debris)


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "grow":
        grow(Path(argv[1]), float(argv[2]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
