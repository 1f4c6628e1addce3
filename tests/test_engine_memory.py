"""Memory stays bounded whatever a file declares: the decode estimate, the scan's budget,
and the conversions of high-depth images."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dedup_gui.core.files.interrupt import Cancelled
from dedup_gui.core.images import decode
from dedup_gui.core.images.decode import ImageLoadError, open_reduced
from dedup_gui.core.images.memory_budget import MemoryBudget
from dedup_gui.core.models import CancelToken, ErrorKind
from dedup_gui.core.scanning.scanner import ScanOptions, scan
from tests.engine_fixtures import write_photo

REPO = Path(__file__).resolve().parent.parent


def write_jpeg_declaring(path: Path, width: int, height: int, *, progressive: bool) -> Path:
    """A JPEG of a few hundred bytes whose frame header declares `width` x `height`: a
    small image's header with the size patched (the scan data then ends early)."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (120, 80, 40)).save(
        buffer, "JPEG", progressive=progressive, quality=50
    )
    data = bytearray(buffer.getvalue())
    marker = b"\xff\xc2" if progressive else b"\xff\xc0"
    frame = data.index(marker)
    data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    path.write_bytes(bytes(data))
    return path


def peak_memory_of_decoding(path: Path) -> dict[str, object]:
    """Decode `path` in a fresh process: how far its peak RSS rose during the decode (the
    peak is reset after the imports, so their own peak does not hide the decode's), and the
    error kind, if any."""
    program = f"""
import json
from dedup_gui.core.images.decode import ImageLoadError, open_reduced

def status_mb(field):
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field))
    return int(line.split()[1]) / 1024

with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # peak RSS := current RSS
before = status_mb("VmRSS")
try:
    open_reduced({str(path)!r})
    kind = None
except ImageLoadError as error:
    kind = error.kind.value
print(json.dumps({{"rise_mb": status_mb("VmHWM") - before, "kind": kind}}))
"""
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, env=environment,
        cwd=REPO, timeout=120, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


needs_linux_peak_reset = pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="measures peak RSS through /proc"
)


def test_a_tiny_progressive_jpeg_declaring_a_gigapixel_is_refused_before_it_is_decoded(
    tmp_path,
):
    path = write_jpeg_declaring(tmp_path / "tiny.jpg", 32768, 32768, progressive=True)
    assert path.stat().st_size < 2000

    with pytest.raises(ImageLoadError) as caught:
        open_reduced(path)

    assert caught.value.kind is ErrorKind.TOO_LARGE
    assert caught.value.message.startswith("The image is too large to open safely (it needs")
    assert "MB to decode)." in caught.value.message


@needs_linux_peak_reset
def test_refusing_the_gigapixel_jpeg_takes_no_memory(tmp_path):
    path = write_jpeg_declaring(tmp_path / "tiny.jpg", 32768, 32768, progressive=True)
    measured = peak_memory_of_decoding(path)
    assert measured["kind"] == "too-large"
    assert measured["rise_mb"] < 50  # today's libjpeg buffer for it would be 3.2 GB


def test_the_same_header_without_progressive_scans_is_decoded_at_an_eighth_not_refused(
    tmp_path,
):
    """A baseline JPEG decodes row by row at 1/8 scale: its declared size is no reason."""
    path = write_jpeg_declaring(tmp_path / "baseline.jpg", 32768, 32768, progressive=False)
    image, info = open_reduced(path)
    assert (info.width, info.height) == (32768, 32768)
    assert 256 <= min(image.size) <= 4096


def write_float_tiff(path: Path, side: int) -> Path:
    gradient = np.linspace(0.0, 1.0, side, dtype=np.float32)
    Image.fromarray(np.tile(gradient, (side, 1)), "F").save(path)
    return path


def write_grey16_png(path: Path, side: int) -> Path:
    Image.new("I;16", (side, side), 40_000).save(path, compress_level=1)
    return path


@needs_linux_peak_reset
@pytest.mark.parametrize(
    ("write", "name", "decoded_mb"),
    [
        pytest.param(write_float_tiff, "deep.tiff", 4 * 9, id="float-tiff"),
        pytest.param(write_grey16_png, "deep.png", 2 * 9, id="16-bit-grey-png"),
    ],
)
def test_high_depth_images_are_converted_without_multiplying_their_memory(
    tmp_path, write, name, decoded_mb
):
    path = write(tmp_path / name, 3000)  # 9 Mpx
    measured = peak_memory_of_decoding(path)
    assert measured["kind"] is None
    # The decoded image, its 8-bit grey copy (9 MB) and strips; never float64 copies
    # of the whole image (which took 219 MB for the TIFF, 70 MB for the PNG).
    assert measured["rise_mb"] < 2 * decoded_mb + 9


def test_a_float_tiff_in_zero_to_one_looks_like_its_eight_bit_picture(tmp_path):
    path = write_float_tiff(tmp_path / "gradient.tiff", 600)
    image, info = open_reduced(path)
    expected = np.tile(np.linspace(0, 255, 600), (600, 1))[::2, ::2]
    assert info.format == "TIFF"
    assert np.abs(np.asarray(image)[..., 0] - expected).mean() < 2


def test_a_decode_needing_more_than_the_scans_budget_is_refused_and_the_rest_scanned(tmp_path):
    Image.new("RGB", (3000, 3000), (20, 140, 90)).save(tmp_path / "large.png")  # ~45 MB
    write_photo(tmp_path / "small.jpg")
    result = scan([tmp_path], options=ScanOptions(workers=2, memory_budget_bytes=32 << 20))
    assert [Path(r.path).name for r in result.records] == ["small.jpg"]
    [error] = result.errors
    assert (Path(error.path).name, error.kind) == ("large.png", ErrorKind.TOO_LARGE)
    assert "it needs about" in error.message


def concurrent_decodes_in(tmp_path, monkeypatch, budget_bytes: int) -> int:
    """Most decodes that held their pixels at once while scanning four ~37 MB images."""
    for index in range(4):
        Image.new("RGB", (2700, 2700), (index * 40, 90, 90)).save(tmp_path / f"{index}.png")
    active, most = 0, 0
    lock = threading.Lock()

    def slowed(real):  # the pixels come from Pillow (_reduced_8bit) or libvips, never both
        def slow(*args):
            nonlocal active, most
            with lock:
                active += 1
                most = max(most, active)
            time.sleep(0.2)
            try:
                return real(*args)
            finally:
                with lock:
                    active -= 1

        return slow

    monkeypatch.setattr(decode, "_reduced_8bit", slowed(decode._reduced_8bit))
    monkeypatch.setattr(decode, "_reduced_while_decoding", slowed(decode._reduced_while_decoding))
    result = scan([tmp_path], options=ScanOptions(workers=2, memory_budget_bytes=budget_bytes))
    assert len(result.records) == 4 and not result.errors
    return most


def test_large_decodes_take_turns_when_two_would_exceed_the_budget(tmp_path, monkeypatch):
    assert concurrent_decodes_in(tmp_path, monkeypatch, budget_bytes=64 << 20) == 1


def test_decodes_that_fit_the_budget_together_run_together(tmp_path, monkeypatch):
    assert concurrent_decodes_in(tmp_path, monkeypatch, budget_bytes=1 << 30) == 2


def hold(budget: MemoryBudget, nbytes: int, release: threading.Event, log: list, name: str):
    def run():
        with budget.reserve(nbytes):
            log.append(f"{name} started")
            release.wait(5)
        log.append(f"{name} done")

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_small_decode_does_not_wait_behind_a_big_one_waiting_for_room():
    budget = MemoryBudget(1000, patience_seconds=60)
    log: list[str] = []
    first, big, small = threading.Event(), threading.Event(), threading.Event()
    threads = [hold(budget, 600, first, log, "first")]
    wait_for(lambda: "first started" in log)
    threads.append(hold(budget, 600, big, log, "big"))
    time.sleep(0.1)
    threads.append(hold(budget, 100, small, log, "small"))
    wait_for(lambda: "small started" in log)
    assert "big started" not in log  # 600 + 600 do not fit; 600 + 100 do
    for event in (small, first, big):
        event.set()
    for thread in threads:
        thread.join(5)
    assert log.index("big started") > log.index("first done")
    assert budget.reserved_bytes == 0


def test_a_big_decode_that_has_waited_long_enough_is_not_overtaken_any_more():
    budget = MemoryBudget(1000, patience_seconds=0.05)
    log: list[str] = []
    first, big, small = threading.Event(), threading.Event(), threading.Event()
    threads = [hold(budget, 600, first, log, "first")]
    wait_for(lambda: "first started" in log)
    threads.append(hold(budget, 600, big, log, "big"))
    time.sleep(0.3)  # past its patience: the room it needs is now kept for it
    threads.append(hold(budget, 300, small, log, "small"))  # fits beside first, not both
    time.sleep(0.2)
    assert "small started" not in log
    first.set()
    wait_for(lambda: "small started" in log and "big started" in log)
    for event in (big, small):
        event.set()
    for thread in threads:
        thread.join(5)


def test_more_than_the_whole_budget_is_never_reserved():
    with pytest.raises(ValueError), MemoryBudget(1000).reserve(1001):
        pass


def test_a_decode_waiting_for_room_gives_up_when_the_scan_is_cancelled():
    budget = MemoryBudget(1000)
    cancel = CancelToken()
    threading.Timer(0.2, cancel.cancel).start()
    started = time.monotonic()
    with budget.reserve(900), pytest.raises(Cancelled), budget.reserve(200, cancel):
        pass
    assert time.monotonic() - started < 1.0
    assert budget.reserved_bytes == 0


@needs_linux_peak_reset
def test_the_estimate_of_a_single_strip_compressed_tiff_covers_what_its_decode_takes(
    tmp_path, monkeypatch
):
    """libtiff decodes a compressed strip into a buffer of its own first: a file written as
    one strip needs the whole image twice, and the estimate must say so."""
    from PIL import TiffImagePlugin

    from dedup_gui.core.images.decode_cost import decode_bytes_needed

    path = tmp_path / "one_strip.tiff"
    monkeypatch.setattr(TiffImagePlugin, "STRIP_SIZE", 1 << 30)  # the whole image, one strip
    Image.fromarray(np.zeros((2000, 2000), np.float32), "F").save(
        path, compression="tiff_deflate"
    )
    with Image.open(path) as image:
        estimate = decode_bytes_needed(image, image.size, path.stat().st_size)
    measured = peak_memory_of_decoding(path)
    assert measured["kind"] is None
    # Within the few MB a decode also takes for the plugin and interpreter.
    assert estimate / 1e6 + 8 >= measured["rise_mb"] * 1.048576
    assert estimate >= 2 * 2000 * 2000 * 4  # the image and libtiff's strip buffer
