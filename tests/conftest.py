import os
from pathlib import Path

# GUI tests run without a display; set before anything imports Qt.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
import send2trash


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Never touch the real cache, settings or trash of whoever runs the tests."""
    base = tmp_path_factory.mktemp("userdirs")
    monkeypatch.setenv("DEDUP_GUI_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(base / "xdg-cache"))
    monkeypatch.setenv("HOME", str(base / "home"))
    (base / "home").mkdir()


@pytest.fixture(autouse=True)
def temp_trash(_isolated_user_dirs, monkeypatch) -> Path:
    """The freedesktop trash under the test's XDG_DATA_HOME, for every test.

    send2trash's Linux backend reads XDG_DATA_HOME once, at import, so the environment
    variable alone would still send files to the real ~/.local/share/Trash."""
    data_home = Path(os.environ["XDG_DATA_HOME"])
    if send2trash.send2trash.__module__ == "send2trash.plat_other":
        import send2trash.plat_other as backend

        monkeypatch.setattr(backend, "XDG_DATA_HOME", os.fsencode(data_home))
        monkeypatch.setattr(backend, "HOMETRASH_B", os.fsencode(data_home / "Trash"))
        monkeypatch.setattr(backend, "HOMETRASH", str(data_home / "Trash"))
    return data_home / "Trash"
