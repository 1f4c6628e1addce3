"""The project's structural rules, checked on every run."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_core_and_cli_never_import_qt():
    result = subprocess.run(
        # Through this interpreter, not the bare `lint-imports`: a venv need not be activated.
        [
            sys.executable, "-c",
            "import sys; from importlinter.cli import lint_imports;"
            " sys.exit(lint_imports(config_filename=sys.argv[1]))",
            str(ROOT / "pyproject.toml"),
        ],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_importing_the_core_loads_no_qt():
    code = (
        "import sys, pkgutil, importlib, dedup_gui.core as c\n"
        "for m in pkgutil.walk_packages(c.__path__, 'dedup_gui.core.'):\n"
        "    importlib.import_module(m.name)\n"
        "import dedup_gui.cli\n"
        "print(sorted(k for k in sys.modules if k.startswith(('PySide6', 'shiboken'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_ruff_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "dedup_gui", "tests", "benchmarks"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
