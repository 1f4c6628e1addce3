"""Before Qt starts on Linux: is there a display, and can Qt's platform plugin load?

Without them Qt aborts (SIGABRT) with a hint that names only one package, often the wrong
one ("xcb-cursor0 is needed" when libxcb-icccm4 is missing). This module imports no Qt: it
reads the shared libraries the platform plugin and the Qt libraries under it need (their
ELF DT_NEEDED entries), tries to load each one that is not shipped with Qt, and says which
packages to install on the common distributions.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import struct
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

LIBRARY_PACKAGES: dict[str, tuple[str, str, str]] = {
    # soname: (Debian/Ubuntu, Fedora, Arch)
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util", "xcb-util"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil",
                                "xcb-util-renderutil"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb", "libx11"),
    "libX11.so.6": ("libx11-6", "libX11", "libx11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
    "libGL.so.1": ("libgl1", "libglvnd-glx", "libglvnd"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl", "libglvnd"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype", "freetype2"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2", "glib2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs", "dbus"),
    "libwayland-client.so.0": ("libwayland-client0", "libwayland-client", "wayland"),
    "libwayland-cursor.so.0": ("libwayland-cursor0", "libwayland-cursor", "wayland"),
    "libwayland-egl.so.1": ("libwayland-egl1", "libwayland-egl", "wayland"),
}  # fmt: skip
DISTRIBUTIONS = (
    ("Debian/Ubuntu", "sudo apt install"),
    ("Fedora", "sudo dnf install"),
    ("Arch", "sudo pacman -S"),
)
_WINDOWING_PLATFORMS = ("xcb", "wayland")

LibraryLoader = Callable[[str], bool]


def startup_problem(
    environ: Mapping[str, str] | None = None,
    *,
    qt_folder: Path | None = None,
    can_load: LibraryLoader | None = None,
) -> str | None:
    """Why Qt would abort instead of opening a window, as a message to print; None when
    nothing is known to be wrong (and always outside Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    environ = os.environ if environ is None else environ
    platform = _platform(environ)
    if platform not in _WINDOWING_PLATFORMS:
        return None  # offscreen, minimal, vnc, eglfs...: the user chose it
    if not environ.get("DISPLAY") and not environ.get("WAYLAND_DISPLAY"):
        return (
            "dedup-gui: no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is "
            "set). Start it from a desktop session, or use dedup-cli in a terminal."
        )
    if platform == "wayland" and not environ.get("WAYLAND_DISPLAY"):
        platform = "xcb"
    qt_folder = qt_folder if qt_folder is not None else _qt_folder()
    if qt_folder is None:
        return None
    missing = missing_libraries(qt_folder, platform, can_load or _can_load)
    return install_hint(missing) if missing else None


def missing_libraries(qt_folder: Path, platform: str, can_load: LibraryLoader) -> list[str]:
    """System libraries (sonames) that the platform plugin needs and that cannot be loaded."""
    plugin = qt_folder / "plugins" / "platforms" / f"libq{platform}.so"
    if not plugin.is_file():
        return []
    shipped_folders = [qt_folder / "lib"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        shipped_folders.append(Path(bundle))
    needed: list[str] = []
    seen: set[str] = set()
    pending = [plugin]
    while pending:
        for name in elf_needed(pending.pop()):
            if name in seen:
                continue
            seen.add(name)
            shipped = next((f / name for f in shipped_folders if (f / name).is_file()), None)
            if shipped is not None:
                pending.append(shipped)  # shipped with Qt: what it needs counts too
            elif not name.startswith("libQt6"):
                needed.append(name)
    return [name for name in needed if not can_load(name)]


def install_hint(missing: list[str]) -> str:
    lines = [
        "dedup-gui: Qt cannot open a window because these system libraries are missing: "
        + ", ".join(missing) + ".",
        "Install them with:",
    ]
    for column, (distribution, command) in enumerate(DISTRIBUTIONS):
        packages = dict.fromkeys(
            LIBRARY_PACKAGES[name][column] for name in missing if name in LIBRARY_PACKAGES
        )
        if packages:
            lines.append(f"  {distribution}: {command} {' '.join(packages)}")
    unknown = [name for name in missing if name not in LIBRARY_PACKAGES]
    if unknown:
        lines.append(f"  (and the packages that provide {', '.join(unknown)})")
    return "\n".join(lines)


def elf_needed(path: Path) -> list[str]:
    """The DT_NEEDED sonames of a 64- or 32-bit ELF file ([] if it is not one)."""
    try:
        data = path.read_bytes()
    except OSError:
        return []
    if data[:4] != b"\x7fELF" or len(data) < 64:
        return []
    wide = data[4] == 2
    order = "<" if data[5] == 1 else ">"
    if wide:
        shoff, = struct.unpack_from(order + "Q", data, 0x28)
        shentsize, shnum = struct.unpack_from(order + "HH", data, 0x3A)
    else:
        shoff, = struct.unpack_from(order + "I", data, 0x20)
        shentsize, shnum = struct.unpack_from(order + "HH", data, 0x2E)
    sections = []
    for index in range(shnum):
        start = shoff + index * shentsize
        if wide:
            kind, = struct.unpack_from(order + "I", data, start + 4)
            offset, size = struct.unpack_from(order + "QQ", data, start + 0x18)
            link, = struct.unpack_from(order + "I", data, start + 0x28)
        else:
            kind, = struct.unpack_from(order + "I", data, start + 4)
            offset, size = struct.unpack_from(order + "II", data, start + 0x10)
            link, = struct.unpack_from(order + "I", data, start + 0x18)
        sections.append((kind, offset, size, link))
    names: list[str] = []
    entry = struct.Struct(order + ("qQ" if wide else "iI"))
    for kind, offset, size, link in sections:
        if kind != 6:  # SHT_DYNAMIC
            continue
        strings_offset = sections[link][1]
        for position in range(offset, offset + size, entry.size):
            tag, value = entry.unpack_from(data, position)
            if tag == 0:  # DT_NULL
                break
            if tag == 1:  # DT_NEEDED
                end = data.index(b"\x00", strings_offset + value)
                names.append(data[strings_offset + value : end].decode("ascii", "replace"))
    return names


def _platform(environ: Mapping[str, str]) -> str:
    chosen = environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen:
        return chosen
    # Qt 6 prefers Wayland in a Wayland session and falls back to xcb.
    if environ.get("XDG_SESSION_TYPE") == "wayland" and environ.get("WAYLAND_DISPLAY"):
        return "wayland"
    return "xcb"


def _qt_folder() -> Path | None:
    spec = importlib.util.find_spec("PySide6")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        folders.append(str(Path(bundle) / "PySide6"))
    for folder in folders:
        qt = Path(folder) / "Qt"
        if (qt / "plugins" / "platforms").is_dir():
            return qt
    return None


def _can_load(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True
