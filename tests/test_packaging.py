"""The app as users meet it: launcher, metainfo, icons, --version and --self-check."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from dedup_gui import APP_ID, __version__

ROOT = Path(__file__).resolve().parent.parent
LINUX = ROOT / "packaging" / "linux"
DESKTOP_FILE = LINUX / f"{APP_ID}.desktop"
METAINFO_FILE = LINUX / f"{APP_ID}.metainfo.xml"
ICON_TREE = ROOT / "dedup_gui" / "resources" / "icons" / "hicolor"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in desktop files
    parser.read(DESKTOP_FILE, encoding="utf-8")
    return parser["Desktop Entry"]


def run_tool(*command: str) -> subprocess.CompletedProcess[str]:
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} is not installed (Debian: desktop-file-utils, appstream)")
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_desktop_file_passes_desktop_file_validate():
    result = run_tool("desktop-file-validate", str(DESKTOP_FILE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout.lower()


def test_metainfo_passes_appstreamcli_validate():
    result = run_tool("appstreamcli", "validate", "--no-net", str(METAINFO_FILE))
    assert result.returncode == 0, result.stdout + result.stderr


def test_launcher_opens_folders_from_the_photography_menu():
    entry = desktop_entry()
    assert entry["Exec"] == "dedup-gui %F"
    assert "inode/directory" in entry["MimeType"].split(";")
    assert {"Graphics", "Photography"} <= set(entry["Categories"].split(";"))


def test_one_application_id_everywhere():
    metainfo = ET.parse(METAINFO_FILE).getroot()
    assert DESKTOP_FILE.exists()
    assert desktop_entry()["Icon"] == APP_ID
    assert metainfo.findtext("id") == APP_ID
    assert metainfo.findtext("launchable[@type='desktop-id']") == DESKTOP_FILE.name
    assert metainfo.findtext("provides/binary") == "dedup-gui"
    icon_names = {path.name for path in ICON_TREE.glob("*/apps/*")}
    assert icon_names == {f"{APP_ID}.png"}
    assert (ROOT / "resources" / f"{APP_ID}.svg").exists()


def test_metainfo_shows_a_screenshot_that_exists_in_the_repository():
    metainfo = ET.parse(METAINFO_FILE).getroot()
    url = metainfo.findtext("screenshots/screenshot[@type='default']/image")
    assert url is not None
    assert (ROOT / url.split("/main/", 1)[1]).is_file()


@pytest.mark.parametrize("size", ICON_SIZES)
def test_icon_png_has_its_size_and_a_transparent_corner(size):
    with Image.open(ICON_TREE / f"{size}x{size}" / "apps" / f"{APP_ID}.png") as icon:
        assert icon.size == (size, size)
        assert icon.mode == "RGBA"
        assert icon.getpixel((0, size - 1))[3] == 0
        assert icon.getchannel("A").getextrema()[1] == 255


def test_window_icon_carries_every_size(qapp):
    from dedup_gui.app.icon import app_icon

    icon = app_icon()
    assert sorted(s.width() for s in icon.availableSizes()) == list(ICON_SIZES)


def test_install_script_puts_launcher_and_icons_in_the_prefix_and_removes_them(tmp_path):
    script = LINUX / "install-desktop-files.sh"
    prefix = tmp_path / "prefix"
    bundle = "/opt/Dedup GUI/dedup-gui"
    subprocess.run(
        [str(script), "--prefix", str(prefix), "--exec", bundle], check=True, capture_output=True
    )
    share = prefix / "share"
    launcher = share / "applications" / DESKTOP_FILE.name
    assert f'Exec="{bundle}" %F' in launcher.read_text(encoding="utf-8").splitlines()
    assert (share / "metainfo" / METAINFO_FILE.name).is_file()
    for size in ICON_SIZES:
        assert (share / "icons/hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png").is_file()
    assert (share / "icons/hicolor/scalable/apps" / f"{APP_ID}.svg").is_file()

    subprocess.run(
        [str(script), "--prefix", str(prefix), "--uninstall"], check=True, capture_output=True
    )
    assert not [p for p in share.rglob(f"{APP_ID}*")]


def installed_script() -> Path:
    script = Path(sys.executable).parent / "dedup-gui"
    if not script.exists():
        found = shutil.which("dedup-gui")
        if found is None:
            pytest.skip("the dedup-gui script is not installed (pip install -e .)")
        script = Path(found)
    return script


@pytest.mark.parametrize("launcher", ["script", "module"])
def test_version_is_printed(launcher):
    command = (
        [str(installed_script())]
        if launcher == "script"
        else [sys.executable, "-m", "dedup_gui"]
    )
    result = subprocess.run(
        [*command, "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"dedup-gui {__version__}"


def test_self_check_passes_in_a_fresh_process(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "dedup_gui", "--self-check"],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for step in ("main window", "hash each file", "scan and group", "trash backend"):
        assert f"ok      {step}" in result.stdout
    assert "HEIF" in result.stdout
    assert "Self-check passed." in result.stdout


def test_self_check_names_the_failed_step_and_exits_non_zero(qapp, monkeypatch, capsys):
    from dedup_gui.app.selfcheck import run_self_check
    from dedup_gui.core.scanning import scanner

    def broken_hash_file(*args, **kwargs):
        raise OSError("the decoder is missing")

    monkeypatch.setattr(scanner, "hash_file", broken_hash_file)
    assert run_self_check() == 1
    output = capsys.readouterr()
    assert "FAILED  hash each file: OSError: the decoder is missing" in output.err
    assert "Self-check passed." not in output.out
