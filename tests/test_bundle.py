"""Build the PyInstaller bundle and run its self-check where the project is not importable.

Takes about a minute (mostly PyInstaller); runs whenever PyInstaller is installed
(`pip install -e ".[bundle]"`), is skipped with a reason otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.bundle, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def bundle_folder(tmp_path_factory):
    pytest.importorskip("PyInstaller", reason='install it with pip install -e ".[bundle]"')
    if sys.platform == "win32":
        pytest.skip("build-bundle.sh is a bash script; see packaging/README.md for Windows")
    out = tmp_path_factory.mktemp("bundle")
    environment = {**os.environ, "DIST": str(out / "dist"), "WORK": str(out / "work")}
    subprocess.run(
        [str(ROOT / "packaging" / "build-bundle.sh")],
        env=environment, check=True, capture_output=True, text=True,
    )
    yield out / "dist" / "dedup-gui"
    shutil.rmtree(out, ignore_errors=True)  # a few hundred MB


def test_bundle_passes_its_self_check_without_the_project_installed(bundle_folder, tmp_path):
    executable = bundle_folder / ("dedup-gui.exe" if sys.platform == "win32" else "dedup-gui")
    home = tmp_path / "home"
    home.mkdir()
    # Like `env -i PATH=/usr/bin:/bin HOME=...`: no PYTHONPATH, no virtualenv, no display,
    # run from a folder where `import dedup_gui` would find nothing.
    clean_environment = {"PATH": "/usr/bin:/bin", "HOME": str(home)}
    result = subprocess.run(
        [str(executable), "--self-check"],
        env=clean_environment, cwd=tmp_path, capture_output=True, text=True, timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok      scan and group" in result.stdout
    assert "HEIF" in result.stdout
    assert "Self-check passed." in result.stdout


def test_bundle_leaves_out_the_qt_modules_the_app_does_not_use(bundle_folder):
    bindings = (bundle_folder / "_internal" / "PySide6").glob("Qt*.*")
    qt_modules = {path.name.split(".")[0] for path in bindings}
    assert {"QtCore", "QtGui", "QtWidgets"} <= qt_modules
    assert not qt_modules & {"QtNetwork", "QtQml", "QtQuick", "QtWebEngineCore", "QtSql"}


def test_bundle_has_the_app_icon_and_the_heif_plugin(bundle_folder):
    internal = bundle_folder / "_internal"
    assert list(internal.glob("dedup_gui/resources/icons/hicolor/512x512/apps/*.png"))
    assert (internal / "pillow_heif").is_dir()
