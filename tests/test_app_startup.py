"""Starting the app where Qt cannot open a window: a message that says what to do, no abort."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dedup_gui.app import system_libraries
from dedup_gui.app.system_libraries import elf_needed, startup_problem

LINUX_ONLY = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


@pytest.fixture
def qt_folder():
    folder = system_libraries._qt_folder()
    if folder is None or not (folder / "plugins" / "platforms" / "libqxcb.so").is_file():
        pytest.skip("PySide6's xcb platform plugin is not installed")
    return folder


@LINUX_ONLY
def test_missing_xcb_libraries_are_named_with_the_packages_to_install(qt_folder):
    absent = {"libxcb-icccm.so.4", "libxcb-keysyms.so.1"}
    message = startup_problem(
        {"DISPLAY": ":0"}, qt_folder=qt_folder, can_load=lambda name: name not in absent
    )
    assert message is not None
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in message
    assert "Debian/Ubuntu: sudo apt install libxcb-icccm4 libxcb-keysyms1" in message
    assert "Fedora: sudo dnf install xcb-util-wm xcb-util-keysyms" in message
    assert "Arch: sudo pacman -S xcb-util-wm xcb-util-keysyms" in message
    # The misleading hint Qt gives for the same situation names another package.
    assert "cursor" not in message


@LINUX_ONLY
def test_nothing_is_reported_when_every_library_loads(qt_folder):
    assert startup_problem({"DISPLAY": ":0"}, qt_folder=qt_folder, can_load=lambda _: True) is None


@LINUX_ONLY
def test_the_platform_the_user_chose_is_not_second_guessed(qt_folder):
    for platform in ("offscreen", "minimal", "vnc"):
        environment = {"QT_QPA_PLATFORM": platform}
        assert startup_problem(environment, qt_folder=qt_folder, can_load=lambda _: False) is None


@LINUX_ONLY
def test_no_display_is_one_line():
    message = startup_problem({}, qt_folder=None, can_load=lambda _: True)
    assert message is not None
    assert "\n" not in message
    assert "DISPLAY" in message and "dedup-cli" in message


@LINUX_ONLY
def test_the_plugins_needs_are_read_from_the_plugin_itself(qt_folder):
    needed = elf_needed(qt_folder / "plugins" / "platforms" / "libqxcb.so")
    assert "libQt6XcbQpa.so.6" in needed
    assert elf_needed(Path(__file__)) == []  # not an ELF file


@LINUX_ONLY
def test_the_app_started_without_a_display_says_so_and_exits(tmp_path):
    environment = {
        key: value for key, value in os.environ.items()
        if key not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    done = subprocess.run(
        [sys.executable, "-m", "dedup_gui"], env=environment, cwd=tmp_path,
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().count("\n") == 0
    assert "no display" in done.stderr
    assert "Traceback" not in done.stderr
