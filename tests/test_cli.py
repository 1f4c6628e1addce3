"""`dedup-cli` end to end on generated duplicates: output schema, exit codes, query, new."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from dedup_gui import __version__, cli
from dedup_gui.core.output import export
from dedup_gui.core.scanning import scanner
from tests.imagegen import make_photo
from tests.test_library import PhotoTree, build_photo_tree, copy, save

FAST = ["--workers", "1"]


@pytest.fixture
def tree(tmp_path) -> PhotoTree:
    return build_photo_tree(tmp_path)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_scan_writes_groups_as_json_and_exits_1_when_duplicates_are_found(tree, capsys):
    broken = tree.library / "2021" / "broken.jpg"
    broken.write_bytes((tree.library / "2021" / "c.jpg").read_bytes()[:200])

    status, out, err = run(capsys, "scan", str(tree.library), *FAST)

    assert status == cli.EXIT_FOUND
    document = json.loads(out)
    assert document["version"] == 1 and document["similarity"] == 90
    [group] = document["groups"]
    paths = {file["path"] for file in group["files"]}
    assert paths == {tree.lib("2020/a.jpg"), tree.lib("backup/a.jpg"),
                     tree.lib("2020/a_small.png")}
    for file in group["files"]:
        assert Path(file["path"]).is_absolute()
        assert set(export.FILE_FIELDS) <= set(file)
        assert isinstance(file["keep"], bool)
    assert [file["keep"] for file in group["files"]] == [True, False, False]
    assert group["files"][0]["width"] == 192 and group["files"][0]["similarity"] == 100.0
    assert group["reclaimable_bytes"] == sum(f["size"] for f in group["files"][1:])
    assert [error["path"] for error in document["errors"]] == [str(broken)]
    assert "errors" in err  # the count is mentioned on stderr, the list is in the JSON


def test_scan_without_duplicates_exits_0(tree, capsys):
    status, out, _ = run(capsys, "scan", str(tree.new / "trip2"), *FAST)
    assert status == cli.EXIT_NOTHING_FOUND
    assert json.loads(out)["groups"] == []


def test_reference_folder_copies_are_kept_and_marked(tree, capsys):
    status, out, _ = run(capsys, "scan", str(tree.new), "--reference", str(tree.library), *FAST)

    assert status == cli.EXIT_FOUND
    for group in json.loads(out)["groups"]:
        for file in group["files"]:
            in_library = file["path"].startswith(str(tree.library) + os.sep)
            assert file["reference"] == in_library
            if in_library:
                assert file["keep"]
        assert group["files"][0]["reference"]


def test_scan_writes_csv_to_the_output_file(tree, capsys, tmp_path):
    target = tmp_path / "result.csv"
    status, out, _ = run(capsys, "scan", str(tree.library), "--format", "csv",
                         "--output", str(target), *FAST)

    assert status == cli.EXIT_FOUND
    assert out == ""
    with export.open_for_export(target, "r") as stream:
        rows = export.read_csv(stream)
    assert len(rows) == 3 and {row["group"] for row in rows} == {1}
    assert sum(row["keep"] for row in rows) == 1


def test_similarity_option_is_recorded_and_byte_copies_match_at_100(tree, capsys):
    status, out, _ = run(capsys, "scan", str(tree.library), "--similarity", "100", *FAST)
    assert status == cli.EXIT_FOUND
    document = json.loads(out)
    assert document["similarity"] == 100
    [group] = document["groups"]
    exact = [f["path"] for f in group["files"] if f["match"] == "exact" or f["keep"]]
    assert set(exact) == {tree.lib("2020/a.jpg"), tree.lib("backup/a.jpg")}


def test_empty_folders_are_a_successful_run_with_nothing_found(tree, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    status, out, _ = run(capsys, "scan", str(tmp_path / "empty"), *FAST)
    assert status == cli.EXIT_NOTHING_FOUND
    assert json.loads(out) == {"generator": export.GENERATOR, "version": 1, "similarity": 90,
                               "groups": [], "errors": []}

    status, out, _ = run(capsys, "query", str(tree.outside / "a_again.jpg"),
                         str(tmp_path / "empty"), *FAST)
    assert status == cli.EXIT_NOTHING_FOUND
    assert "0 copies found among 0 library images" in out


def test_match_rotations_finds_a_copy_turned_in_its_pixels(tmp_path, capsys):
    folder = tmp_path / "turned"
    upright = save(11, folder / "upright.jpg")
    with Image.open(upright) as image:
        image.transpose(Image.Transpose.ROTATE_90).save(folder / "turned.jpg", quality=92)

    status, out, _ = run(capsys, "scan", str(folder), *FAST)
    assert status == cli.EXIT_NOTHING_FOUND

    status, out, _ = run(capsys, "scan", str(folder), "--match-rotations", *FAST)
    assert status == cli.EXIT_FOUND
    [group] = json.loads(out)["groups"]
    assert {Path(f["path"]).name for f in group["files"]} == {"upright.jpg", "turned.jpg"}


def test_a_folder_where_nothing_can_be_read_exits_3(tmp_path, capsys):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "one.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    (tmp_path / "bad" / "two.png").write_bytes(b"\x89PNG\r\n\x1a\n")

    status, out, err = run(capsys, "scan", str(tmp_path / "bad"), *FAST)

    assert status == cli.EXIT_NOTHING_SCANNED
    document = json.loads(out)
    assert document["groups"] == []
    assert {Path(e["path"]).name for e in document["errors"]} == {"one.jpg", "two.png"}
    assert "one.jpg" in err and "two.png" in err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["scan"],
        ["scan", "/no/such/folder"],
        ["scan", ".", "--similarity", "50"],
        ["scan", ".", "--similarity", "lots"],
        ["scan", ".", "--format", "xml"],
        ["query", "/no/such/image.jpg", "."],
        ["new", "."],
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    status, out, err = run(capsys, *argv)
    assert status == cli.EXIT_USAGE
    assert out == ""
    assert err


def test_version_and_help_document_the_exit_codes(capsys):
    status, out, _ = run(capsys, "--version")
    assert status == 0 and __version__ in out
    status, out, _ = run(capsys, "--help")
    assert status == 0
    for code in ("0", "1", "2", "3", "130"):
        assert f"\n  {code} " in out
    status, out, _ = run(capsys, "scan", "--help")
    assert status == 0 and "exit status" in out and "--match-rotations" in out


def test_query_lists_copies_and_exits_1(tree, capsys):
    status, out, _ = run(capsys, "query", str(tree.outside / "a_again.jpg"), str(tree.library),
                         "--format", "json", *FAST)

    assert status == cli.EXIT_FOUND
    document = json.loads(out)
    assert document["image"]["path"] == str(tree.outside / "a_again.jpg")
    assert [m["match"] for m in document["matches"]] == ["exact", "exact", "visual"]
    assert document["matches"][2]["path"] == tree.lib("2020/a_small.png")


def test_query_text_output_and_exit_0_without_copies(tree, capsys):
    status, out, _ = run(capsys, "query", str(tree.outside / "a_again.jpg"), str(tree.library),
                         *FAST)
    assert status == cli.EXIT_FOUND
    assert tree.lib("backup/a.jpg") in out and "3 copies found among 5 library images" in out

    status, out, _ = run(capsys, "query", str(tree.outside / "unrelated.jpg"),
                         str(tree.library), *FAST)
    assert status == cli.EXIT_NOTHING_FOUND
    assert "0 copies found" in out


def test_query_of_an_unreadable_image_exits_3(tree, capsys):
    status, out, err = run(capsys, "query", str(tree.outside / "notes.jpg"), str(tree.library),
                           *FAST)
    assert status == cli.EXIT_NOTHING_SCANNED
    assert out == "" and "notes.jpg" in err


def test_new_reports_each_folder(tree, capsys):
    status, out, _ = run(capsys, "new", str(tree.new), "--library", str(tree.library),
                         "--format", "json", *FAST)

    assert status == cli.EXIT_FOUND
    folders = {Path(f["folder"]).name: f for f in json.loads(out)["folders"]}
    assert {name: (len(f["present"]), len(f["new"])) for name, f in folders.items()} == {
        "trip1": (2, 0), "trip2": (0, 2), "mixed": (1, 1),
    }
    assert folders["mixed"]["new"] == [str(tree.new / "mixed" / "f.jpg")]
    assert folders["mixed"]["present"][0]["library_copy"]["path"] == tree.lib("2021/c.jpg")


def test_new_text_output_and_exit_0_when_everything_is_new(tree, capsys):
    status, out, _ = run(capsys, "new", str(tree.new), "--library", str(tree.library), *FAST)
    assert status == cli.EXIT_FOUND
    assert f"{tree.new / 'trip1'}: 2 images, all already in the library" in out
    assert f"{tree.new / 'trip2'}: 2 images, all new" in out
    assert f"new: {tree.new / 'mixed' / 'f.jpg'}" in out

    status, out, _ = run(capsys, "new", str(tree.new / "trip2"), "--library", str(tree.library),
                         *FAST)
    assert status == cli.EXIT_NOTHING_FOUND
    assert "0 already in the library, 2 new" in out


def test_ctrl_c_cancels_the_scan_and_exits_130(tree, capsys, monkeypatch):
    real_scan = scanner.scan

    def scan_interrupted_by_the_user(*args, **kwargs):
        report = kwargs["progress"]

        def press_ctrl_c_once(update):
            if not getattr(press_ctrl_c_once, "pressed", False):
                press_ctrl_c_once.pressed = True
                os.kill(os.getpid(), signal.SIGINT)
            report(update)

        kwargs["progress"] = press_ctrl_c_once
        return real_scan(*args, **kwargs)

    monkeypatch.setattr(scanner, "scan", scan_interrupted_by_the_user)
    previous_handler = signal.getsignal(signal.SIGINT)

    status, out, err = run(capsys, "scan", str(tree.library), *FAST)

    assert status == cli.EXIT_INTERRUPTED
    assert out == ""
    assert "nothing was written" in err
    assert signal.getsignal(signal.SIGINT) is previous_handler


def test_progress_goes_to_stderr_only_on_a_terminal(tree, capsys, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    status = cli.main(["scan", str(tree.library), *FAST])
    out, _ = capsys.readouterr()

    assert status == cli.EXIT_FOUND
    assert "\r" in terminal.getvalue() and "Hashing" in terminal.getvalue()
    assert json.loads(out)["groups"]


def test_an_unwritable_output_exits_4(tree, capsys):
    status, out, err = run(capsys, "scan", str(tree.library), "--output",
                           str(tree.outside / "missing" / "result.json"), *FAST)
    assert status == cli.EXIT_FAILED
    assert out == "" and "could not write" in err


def test_undecodable_file_names_survive_json_and_csv(tmp_path, capsys):
    folder = tmp_path / "odd"
    original = save(10, folder / "plain.jpg")
    odd_name = Path(os.fsdecode(os.fsencode(str(folder)) + b"/caf\xe9 \xff.jpg"))
    copy(original, odd_name)

    status, out, _ = run(capsys, "scan", str(folder), *FAST)
    assert status == cli.EXIT_FOUND
    paths = {f["path"] for f in json.loads(out)["groups"][0]["files"]}
    assert str(odd_name) in paths
    assert Path(str(odd_name)).read_bytes() == original.read_bytes()

    target = tmp_path / "odd.csv"
    run(capsys, "scan", str(folder), "--format", "csv", "--output", str(target), *FAST)
    assert b"/caf\xe9 \xff.jpg" in target.read_bytes()


def test_installed_command_runs_end_to_end(tree, tmp_path):
    command = shutil.which("dedup-cli")
    argv = [command] if command else [sys.executable, "-m", "dedup_gui.cli"]
    new_photo = save(9, tmp_path / "more" / "fresh.jpg")
    copy(new_photo, tmp_path / "more" / "fresh copy.jpg")

    done = subprocess.run(
        [*argv, "scan", str(tmp_path / "more")], capture_output=True, text=True,
        timeout=120, check=False,
    )

    assert done.returncode == cli.EXIT_FOUND, done.stderr
    assert done.stderr == ""  # not a terminal: no progress
    [group] = json.loads(done.stdout)["groups"]
    assert group["kind"] == "exact"


def test_keep_order_changes_which_copy_is_kept(tmp_path, capsys):
    photo = make_photo(21, 640, 480)
    large = tmp_path / "an old backup folder" / "photo.jpg"
    large.parent.mkdir()
    photo.save(large, quality=90)
    photo.resize((320, 240)).save(tmp_path / "p.png")

    def keeper(*options: str) -> str:
        status, out, _ = run(capsys, "scan", str(tmp_path), *FAST, *options)
        assert status == cli.EXIT_FOUND
        [group] = json.loads(out)["groups"]
        return next(Path(f["path"]).name for f in group["files"] if f["keep"])

    assert keeper() == "photo.jpg"  # highest resolution first by default
    assert keeper("--keep-order", "shorter-path,resolution") == "p.png"


def test_an_unknown_keep_rule_is_a_usage_error(tmp_path, capsys):
    status, _, err = run(capsys, "scan", str(tmp_path), "--keep-order", "newest")
    assert status == cli.EXIT_USAGE
    assert "choose from reference-folder, original, resolution" in err
