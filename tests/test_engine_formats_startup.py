"""Start-up: the CLI imports only what a command needs (scipy only when grouping)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.engine_fixtures import write_photo

_HEAVY = ("scipy", "rawpy", "imagehash")


def _modules_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    ).stdout
    return set(json.loads(output.splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in _HEAVY)


def test_importing_the_cli_imports_neither_scipy_nor_rawpy_nor_imagehash():
    assert _heavy(_modules_after("import dedup_gui.cli")) == []


def test_hashing_a_photo_imports_no_scipy(tmp_path):
    photo = write_photo(tmp_path / "a.jpg", size=(320, 240))
    code = (
        "from dedup_gui.core.scanning import scanner\n"
        f"assert scanner.scan([{str(tmp_path)!r}]).records\n"
    )
    assert photo.exists()
    assert _heavy(_modules_after(code)) == []
