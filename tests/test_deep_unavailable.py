"""Without the `deep` extra (or its model) --deep is refused with the install hint, and
everything else works as before (runs with or without the extra)."""

from __future__ import annotations

from imagegen import make_photo

import dedup_gui.core.deep as deep
from dedup_gui import cli


def test_scan_deep_without_the_extra_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    hint = f"Deep matching needs onnxruntime: {deep.INSTALL_HINT}"
    monkeypatch.setattr(deep, "availability", lambda model_file=None: hint)
    make_photo(1).save(tmp_path / "a.jpg")
    status = cli.main(["scan", str(tmp_path), "--deep"])
    assert status == cli.EXIT_USAGE
    assert 'pip install "dedup-gui[deep]"' in capsys.readouterr().err


def test_deep_model_without_deep_is_a_usage_error(tmp_path, capsys):
    make_photo(1).save(tmp_path / "a.jpg")
    assert cli.main(["scan", str(tmp_path), "--deep-model", "x.onnx"]) == cli.EXIT_USAGE
    assert "--deep-model needs --deep" in capsys.readouterr().err


def test_the_missing_model_is_named_on_python_before_3_12(monkeypatch):
    import importlib.util
    import sys

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec",
        lambda name, *args: None if name == deep.MODEL_PACKAGE else real_find_spec(name, *args),
    )
    monkeypatch.setattr(sys, "version_info", (3, 11, 7))
    problem = deep.availability()
    assert problem is not None
    assert "3.12" in problem or "onnxruntime" in problem or "opencv" in problem
