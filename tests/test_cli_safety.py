"""`dedup-cli` never harms a file or the terminal: --output never replaces a photo or any
file that is not an earlier export of ours; file names cannot forge lines; a closed pipe,
a bug and Ctrl+C each end the run with their own exit status and no stray traceback."""

from __future__ import annotations

import csv
import errno
import json
import os
import select
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from dedup_gui import cli
from dedup_gui.core.output import export, output_file
from dedup_gui.core.scanning import scanner
from tests.test_library import PhotoTree, build_photo_tree, copy, save

FAST = ["--workers", "1"]
CLI = [sys.executable, "-m", "dedup_gui.cli"]


@pytest.fixture
def tree(tmp_path) -> PhotoTree:
    return build_photo_tree(tmp_path)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def no_temp_files_left(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


# --output never writes over a file that is not ours

@pytest.mark.parametrize(
    ("command", "victim"),
    [
        (["scan", "{library}"], "{library}/2020/b.jpg"),
        (["scan", "{library}", "--format", "csv"], "{library}/2020/b.jpg"),
        (["scan", "{new}", "--reference", "{library}"], "{library}/2021/c.jpg"),
        (["query", "{outside}/a_again.jpg", "{library}"], "{outside}/a_again.jpg"),
        (["new", "{new}", "--library", "{library}"], "{library}/2020/a_small.png"),
    ],
)
def test_output_never_replaces_a_photo(tree, capsys, command, victim):
    folders = {"library": tree.library, "new": tree.new, "outside": tree.outside}
    photo = Path(victim.format(**folders))
    before = photo.read_bytes()

    argv = [part.format(**folders) for part in command]
    status, out, err = run(capsys, *argv, "--output", str(photo), *FAST)

    assert status == cli.EXIT_FAILED
    assert photo.read_bytes() == before
    assert out == ""
    assert f"refusing to write over {photo}: it is " in err
    assert no_temp_files_left(photo.parent)


def test_a_refused_output_is_refused_before_the_scan(tree, capsys, monkeypatch):
    def scan_that_must_not_run(*args, **kwargs):
        raise AssertionError("the user was made to wait for the scan")

    monkeypatch.setattr(scanner, "scan", scan_that_must_not_run)
    photo = tree.library / "2020" / "b.jpg"

    status, _, err = run(capsys, "scan", str(tree.library), "-o", str(photo), *FAST)

    assert status == cli.EXIT_FAILED and "refusing to write over" in err


def test_an_output_in_a_missing_folder_fails_before_the_scan(tree, capsys, monkeypatch):
    monkeypatch.setattr(scanner, "scan", lambda *args, **kwargs: pytest.fail("scanned"))
    target = tree.outside / "missing" / "groups.json"

    status, _, err = run(capsys, "scan", str(tree.library), "-o", str(target), *FAST)

    assert status == cli.EXIT_FAILED
    assert f"could not write the results: [Errno 2] No such folder: '{target.parent}'" in err


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("holiday.dat", None, "it is an image (JPEG by its content)"),
        ("notes.txt", b"my own notes\n", "it is not a previous export of dedup_gui"),
        ("old.json", b'{"version": 1, "groups": []}\n', "not a previous export"),
        ("sheet.csv", b"path,size\n/a.jpg,1\n", "not a previous export"),
    ],
)
def test_output_never_replaces_a_file_that_is_not_an_export_of_ours(
    tree, tmp_path, capsys, name, content, reason
):
    target = tmp_path / name
    photo_bytes = (tree.library / "2021" / "c.jpg").read_bytes()
    target.write_bytes(photo_bytes if content is None else content)
    before = target.read_bytes()

    status, out, err = run(capsys, "scan", str(tree.library), "--output", str(target), *FAST)

    assert status == cli.EXIT_FAILED
    assert target.read_bytes() == before
    assert reason in err and out == ""


def test_a_file_inside_a_scanned_folder_is_refused_and_named_so(tree, capsys):
    readme = tree.library / "README.txt"
    readme.write_text("Scans of grandma's albums, do not touch\n")

    status, _, err = run(capsys, "scan", str(tree.library), "-o", str(readme), *FAST)

    assert status == cli.EXIT_FAILED
    assert readme.read_text() == "Scans of grandma's albums, do not touch\n"
    assert f"inside the scanned folder {tree.library}" in err


@pytest.mark.parametrize(
    ("command", "name"),
    [
        (["scan", "{library}"], "groups.json"),
        (["scan", "{library}", "--format", "csv"], "groups.csv"),
        (["query", "{outside}/a_again.jpg", "{library}"], "copies.txt"),
        (["query", "{outside}/a_again.jpg", "{library}", "--format", "json"], "copies.json"),
        (["new", "{new}", "--library", "{library}"], "new.txt"),
        (["new", "{new}", "--library", "{library}", "--format", "json"], "new.json"),
    ],
)
def test_running_the_same_command_again_replaces_its_previous_export(
    tree, tmp_path, capsys, command, name
):
    folders = {"library": tree.library, "new": tree.new, "outside": tree.outside}
    argv = [part.format(**folders) for part in command]
    target = tmp_path / name

    first, _, _ = run(capsys, *argv, "--output", str(target), *FAST)
    fresh = target.read_bytes()
    folder = str(tmp_path).encode()
    target.write_bytes(fresh.replace(folder, folder + b"/old", 1))  # an older export
    again, out, err = run(capsys, *argv, "--output", str(target), *FAST)

    assert first == again == cli.EXIT_FOUND, err
    assert out == "" and "refusing" not in err
    assert target.read_bytes() == fresh
    assert no_temp_files_left(tmp_path)


def test_an_empty_file_such_as_one_from_mktemp_is_written(tree, tmp_path, capsys):
    target = tmp_path / "tmp.Xa81Qz"
    target.touch()

    status, _, _ = run(capsys, "scan", str(tree.library), "-o", str(target), *FAST)

    assert status == cli.EXIT_FOUND
    assert json.loads(target.read_text())["groups"]


def test_the_output_is_judged_again_right_before_writing(tree, tmp_path, capsys, monkeypatch):
    target = tmp_path / "report.txt"
    real_scan = scanner.scan

    def scan_while_the_user_saves_notes(*args, **kwargs):
        result = real_scan(*args, **kwargs)
        target.write_text("notes written while the scan ran\n")
        return result

    monkeypatch.setattr(scanner, "scan", scan_while_the_user_saves_notes)

    status, _, err = run(capsys, "scan", str(tree.library), "-o", str(target), *FAST)

    assert status == cli.EXIT_FAILED
    assert target.read_text() == "notes written while the scan ran\n"
    assert "refusing to write over" in err
    assert no_temp_files_left(tmp_path)


def test_a_link_is_judged_and_written_by_what_it_points_to(tree, tmp_path, capsys):
    photo = tree.library / "2020" / "b.jpg"
    before = photo.read_bytes()
    to_photo = tmp_path / "results.json"
    to_photo.symlink_to(photo)

    status, _, err = run(capsys, "scan", str(tree.library), "-o", str(to_photo), *FAST)

    assert status == cli.EXIT_FAILED
    assert photo.read_bytes() == before and to_photo.is_symlink()
    assert "link to" in err

    export_file = tmp_path / "exports" / "2024.json"
    export_file.parent.mkdir()
    export_file.write_text(json.dumps({"generator": export.GENERATOR, "groups": []}))
    latest = tmp_path / "latest.json"
    latest.symlink_to(export_file)

    status, _, _ = run(capsys, "scan", str(tree.library), "-o", str(latest), *FAST)

    assert status == cli.EXIT_FOUND
    assert latest.is_symlink() and latest.resolve() == export_file
    assert json.loads(export_file.read_text())["groups"]


@pytest.mark.parametrize("replayed", [True, False], ids=["replayed", "scanned"])
def test_a_full_disk_leaves_the_previous_export_whole(
    tree, tmp_path, capsys, monkeypatch, replayed
):
    target = tmp_path / "groups.json"
    run(capsys, "scan", str(tree.library), "-o", str(target), *FAST)
    previous = target.read_bytes()
    real_open_output = output_file.open_output

    @contextmanager
    def disk_full_while_writing(path, guard=None):
        with real_open_output(path, guard) as stream:
            stream.write('{"generator": "dedup_gui", "gro')
            stream.flush()
            raise OSError(errno.ENOSPC, "No space left on device")
            yield stream

    monkeypatch.setattr(output_file, "open_output", disk_full_while_writing)
    other = () if replayed else ("--similarity", "95")  # not the first scan's replay

    status, _, err = run(capsys, "scan", str(tree.library), "-o", str(target), *FAST, *other)

    assert status == cli.EXIT_FAILED and "No space left on device" in err
    assert target.read_bytes() == previous
    assert no_temp_files_left(tmp_path)


def test_a_device_such_as_dev_null_is_still_a_valid_output(tree, capsys):
    status, out, err = run(capsys, "scan", str(tree.library), "-o", os.devnull, *FAST)
    assert status == cli.EXIT_FOUND and out == "" and "refusing" not in err


# File names cannot forge lines

FORGED = "\n  100.0%  exact  forged.jpg  1x1  1 B\ndedup-cli: all fine"
"""A file-name part that, printed raw, would add a fake copy and a fake message."""


def test_query_text_output_escapes_control_characters_in_names(tree, capsys):
    sneaky = copy(tree.library / "2020" / "a.jpg", tree.library / f"x{FORGED}\x1b[2J.jpg")

    status, out, _ = run(capsys, "query", str(tree.outside / "a_again.jpg"),
                         str(tree.library), *FAST)

    assert status == cli.EXIT_FOUND
    lines = out.splitlines()
    assert len(lines) == 1 + 4 + 1  # the image, its four copies, the summary
    assert not any(line.startswith(("  100.0%  exact  forged", "dedup-cli")) for line in lines)
    assert "\x1b" not in out
    assert "x\\n  100.0%  exact  forged.jpg  1x1  1 B\\ndedup-cli: all fine\\x1b[2J" in out

    status, out, _ = run(capsys, "query", str(tree.outside / "a_again.jpg"),
                         str(tree.library), "--format", "json", *FAST)
    assert str(sneaky) in {match["path"] for match in json.loads(out)["matches"]}


def test_new_text_output_escapes_control_characters_in_names(tree, capsys):
    folder = tree.new / f"trip{FORGED}"
    save(30, folder / f"photo{FORGED}.jpg")
    copy(tree.library / "2021" / "c.jpg", folder / "c.jpg")

    status, out, _ = run(capsys, "new", str(tree.new), "--library", str(tree.library), *FAST)

    assert status == cli.EXIT_FOUND
    assert not any(line.startswith(("  100.0%", "dedup-cli")) for line in out.splitlines())
    assert f"{tree.new}/trip\\n  100.0%" in out
    assert "  new: " + str(folder).replace("\n", "\\n") + "/photo\\n" in out


def test_messages_on_stderr_escape_control_characters_in_names(tmp_path, capsys):
    save(31, tmp_path / "good.jpg")
    (tmp_path / f"bad{FORGED}\x1b[31m.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
    undecodable = os.fsdecode(os.fsencode(str(tmp_path)) + b"/caf\xe9.jpg")
    Path(undecodable).write_bytes(b"\xff\xd8\xff\xe0 cut short")

    status, _, err = run(capsys, "scan", str(tmp_path), "--format", "csv", *FAST)

    assert status == cli.EXIT_NOTHING_FOUND
    assert all(line.startswith("dedup-cli: skipped ") for line in err.splitlines())
    assert len(err.splitlines()) == 2
    assert "\x1b" not in err and "\\x1b[31m.jpg" in err
    assert f"{tmp_path}/caf\\xe9.jpg" in err


def test_csv_and_json_keep_odd_names_exact_and_csv_cells_never_start_a_formula(
    tmp_path, capsys
):
    folder = tmp_path / "=HYPERLINK(evil)"
    original = save(32, folder / "=1+2.jpg")
    for name in ("+SUM(1).jpg", "-2.jpg", "@cmd.jpg", "line\nbreak.jpg"):
        copy(original, folder / name)
    target = tmp_path / "groups.csv"

    status, _, _ = run(capsys, "scan", str(folder), "--format", "csv", "-o", str(target), *FAST)

    assert status == cli.EXIT_FOUND
    with target.open(newline="", encoding="utf-8") as stream:
        rows = list(csv.reader(stream))
    cells = [cell for row in rows[1:] for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert {Path(row[1]).name for row in rows[1:]} == {
        "=1+2.jpg", "+SUM(1).jpg", "-2.jpg", "@cmd.jpg", "line\nbreak.jpg",
    }

    status, out, _ = run(capsys, "scan", str(folder), *FAST)
    paths = {file["path"] for file in json.loads(out)["groups"][0]["files"]}
    assert str(folder / "line\nbreak.jpg") in paths


# A closed pipe, a bug

def test_a_closed_pipe_ends_the_run_quietly_with_141(tmp_path):
    photo = save(33, tmp_path / "photos" / "a.jpg")
    copy(photo, tmp_path / "photos" / "b.jpg")
    reader, writer = os.pipe()
    os.close(reader)  # like `| head -1` that has already quit
    try:
        done = subprocess.run(
            [*CLI, "scan", str(tmp_path / "photos"), "--no-cache"],
            stdout=writer, stderr=subprocess.PIPE, timeout=120, check=False,
        )
    finally:
        os.close(writer)

    assert done.returncode == cli.EXIT_BROKEN_PIPE == 141
    assert done.stderr == b""


def test_an_unforeseen_error_exits_70_with_a_traceback(tree, capsys, monkeypatch):
    def damaged_cache(*args, **kwargs):
        raise KeyError("phash")

    monkeypatch.setattr(scanner, "scan", damaged_cache)

    status, out, err = run(capsys, "scan", str(tree.library), *FAST)

    assert status == cli.EXIT_INTERNAL_ERROR == 70
    assert out == ""
    first, *rest = err.splitlines()
    assert first.startswith("dedup-cli: internal error") and "report" in first
    assert "KeyError: 'phash'" in first
    assert rest[0] == "Traceback (most recent call last):" and rest[-1] == "KeyError: 'phash'"


def test_help_documents_the_new_exit_codes_and_follow_links(capsys):
    _, out, _ = run(capsys, "--help")
    assert "\n  70 " in out and "\n  141 " in out
    for command in ("scan", "query", "new"):
        _, out, _ = run(capsys, command, "--help")
        assert "--follow-links" in out and "outside the chosen" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["scan", "{new}"],
        ["query", "{outside}/a_again.jpg", "{library}"],
        ["new", "{new}", "--library", "{library}"],
    ],
)
def test_follow_links_is_handed_to_the_scan(tree, capsys, monkeypatch, argv):
    """Discovery itself decides where a followed link may lead (tested with discovery)."""
    folders = {"library": tree.library, "new": tree.new, "outside": tree.outside}
    argv = [part.format(**folders) for part in argv]
    asked = []
    real_options = scanner.ScanOptions

    def recording_options(**kwargs):
        if "follow_links" in kwargs:  # the CLI's options, not the scanner's own defaults
            asked.append(kwargs["follow_links"])
        return real_options(**kwargs)

    monkeypatch.setattr(scanner, "ScanOptions", recording_options)
    run(capsys, *argv, *FAST)
    run(capsys, *argv, "--follow-links", *FAST)
    assert asked == [False, True]


# Ctrl+C

SLOW_DIGEST = """
import sys, time
from dedup_gui.core.scanning import scanner
from dedup_gui import cli

def digest_that_ignores_the_cancel(path, **_options):
    print("digesting", file=sys.stderr, flush=True)
    time.sleep(120)
    return bytes(32)

scanner.file_digest = digest_that_ignores_the_cancel
scanner.IN_MEMORY_LIMIT_BYTES = 0  # every file that may have a byte copy is streamed
scanner.CANCEL_GRACE_SECONDS = float(sys.argv.pop(1))
sys.exit(cli.main())
"""


def start_slow_scan(folder: Path, grace_seconds: float) -> subprocess.Popen[bytes]:
    photo = save(34, folder / "a.jpg")
    copy(photo, folder / "b.jpg")
    return subprocess.Popen(
        [sys.executable, "-c", SLOW_DIGEST, str(grace_seconds), "scan", str(folder),
         "--no-cache", *FAST],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def wait_for_stderr(process: subprocess.Popen[bytes], text: bytes, timeout: float) -> None:
    seen = b""
    deadline = time.monotonic() + timeout
    assert process.stderr is not None
    while text not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"never saw {text!r} on stderr: {seen!r}"
        if select.select([process.stderr], [], [], left)[0]:
            seen += os.read(process.stderr.fileno(), 4096)


def seconds_to_exit(process: subprocess.Popen[bytes], limit: float) -> float:
    start = time.monotonic()
    try:
        process.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"still running {limit} s after Ctrl+C")
    return time.monotonic() - start


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process")
def test_ctrl_c_ends_the_process_at_once_even_while_a_worker_is_still_reading(tmp_path):
    process = start_slow_scan(tmp_path / "photos", grace_seconds=0.2)
    wait_for_stderr(process, b"digesting", timeout=60)

    process.send_signal(signal.SIGINT)

    assert seconds_to_exit(process, limit=10) < 2
    out, err = process.communicate()
    assert process.returncode == cli.EXIT_INTERRUPTED
    assert out == b"" and b"Traceback" not in err and b"nothing was written" in err


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process")
def test_a_second_ctrl_c_stops_at_once_without_a_traceback(tmp_path):
    process = start_slow_scan(tmp_path / "photos", grace_seconds=60)
    wait_for_stderr(process, b"digesting", timeout=60)

    process.send_signal(signal.SIGINT)
    wait_for_stderr(process, b"Ctrl+C again", timeout=10)
    process.send_signal(signal.SIGINT)

    assert seconds_to_exit(process, limit=10) < 1
    out, err = process.communicate()
    assert process.returncode == cli.EXIT_INTERRUPTED
    assert out == b"" and b"Traceback" not in err


def bytes_read(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    return 0


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux /proc/PID/io")
def test_ctrl_c_during_the_digest_of_huge_files_ends_within_two_seconds(tmp_path):
    """Two same-size photos padded (sparse) to 8 GiB: each digest reads 8 GiB."""
    folder = tmp_path / "huge"
    for seed, name in ((35, "a.jpg"), (36, "b.jpg")):
        photo = save(seed, folder / name)
        with photo.open("r+b") as handle:
            handle.truncate(8 << 30)
    process = subprocess.Popen(
        [*CLI, "scan", str(folder), "--no-cache", *FAST],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while bytes_read(process.pid) < 256 << 20:
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)

    process.send_signal(signal.SIGINT)

    assert seconds_to_exit(process, limit=30) < 2
    _, err = process.communicate()
    assert process.returncode == cli.EXIT_INTERRUPTED and b"Traceback" not in err
