"""The "Also find crops and edited copies" option: deep copy detection (core/deep), off by
default, greyed out with a one-line install hint when the `deep` extra is missing; and its
model: the built-in SSCD (distilled), or an SSCD-compatible ONNX file the user chooses,
checked off the GUI thread by loading it (model_check.py) before it is taken. Both choices
are remembered; the engine work runs in the scan job (scan_jobs.ScanJob)."""

from __future__ import annotations

import os

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from dedup_gui import APP_NAME
from dedup_gui.app.model_check import ModelCheck, ModelChecker
from dedup_gui.app.paths import display_path
from dedup_gui.app.settings import ORGANIZATION, AppSettings
from dedup_gui.core.deep import availability

SETTING = "deep/enabled"
LABEL = "Also find crops and edited copies"
BUILT_IN = "Built-in SSCD (distilled)"
BUILT_IN_MISSING = "Built-in SSCD (not installed)"
CHOOSE = "Choose file…"
ERROR_STYLE = "color: #cf222e;"
NOTE_STYLE = "color: palette(placeholder-text);"


def file_name(path: str) -> str:
    return display_path(os.path.basename(path))  # noqa: PTH119


class DeepOption(QWidget):
    toggled = Signal(bool)
    model_changed = Signal()
    """Another model was chosen (and checked): descriptors of the last scan are stale."""

    def __init__(self, parent: QWidget | None = None, store: QSettings | None = None) -> None:
        super().__init__(parent)
        self._store = store or QSettings(ORGANIZATION, APP_NAME)
        self._settings = AppSettings(self._store)
        self._model_file = self._settings.deep_model_file()
        self.problem: str | None = None
        self.checker = ModelChecker(self)
        self.checker.finished.connect(self._on_checked)

        self.box = QCheckBox(LABEL, self)
        self.box.setToolTip(
            "A copy-detection model also finds crops, small turns, stickers and colour "
            "grades that look too different for the hashes; each match is checked by "
            "keypoints. Slower: about 20 ms more per image on the first scan."
        )
        self.hint = QLabel(self)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(NOTE_STYLE)
        self.model_combo = QComboBox(self)
        self.model_combo.setAccessibleName("Deep matching model")
        self.model_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.model_combo.setMinimumContentsLength(12)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.hide()
        model_row = QHBoxLayout()
        model_row.setContentsMargins(20, 0, 0, 0)
        model_row.addWidget(QLabel("Model:", self))
        model_row.addWidget(self.model_combo, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.box)
        layout.addWidget(self.hint)
        layout.addLayout(model_row)
        layout.addWidget(self.message)
        self._refresh()
        self.box.toggled.connect(self._on_toggled)
        self.model_combo.activated.connect(self._on_model_activated)

    def enabled(self) -> bool:
        return self.problem is None and self.box.isChecked()

    def model_file(self) -> str | None:
        """The chosen ONNX file; None for the built-in model (or $DEDUP_GUI_DEEP_MODEL)."""
        return self._model_file

    def is_checking(self) -> bool:
        return self.checker.busy()

    def try_model(self, path: str) -> None:
        """Check `path` off the GUI thread; it becomes the model only if it loads."""
        self._say(f"Checking “{file_name(path)}”…", NOTE_STYLE)
        self.model_combo.setEnabled(False)
        self.checker.check(path)

    def choose_built_in(self) -> None:
        if self._model_file is not None:
            self._set_model(None)

    def _ask_for_file(self) -> str | None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Choose an SSCD-compatible ONNX model", "",
            "ONNX models (*.onnx);;All files (*)",
        )
        return path or None

    def _on_model_activated(self, index: int) -> None:
        if self.model_combo.itemText(index) == CHOOSE:
            self._fill_models()  # the current choice stays shown while the dialog is open
            path = self._ask_for_file()
            if path:
                self.try_model(path)
        elif self.model_combo.itemData(index) is None:
            self.choose_built_in()

    def _on_checked(self, result: ModelCheck) -> None:
        self.model_combo.setEnabled(True)
        if result.problem is not None:
            self._say(result.problem, ERROR_STYLE)  # the previous choice stays
            self._refresh()
            return
        self._say(f"“{file_name(result.path)}” loaded: descriptors of {result.dimensions} "
                  "numbers.", NOTE_STYLE)
        self._set_model(result.path)

    def _set_model(self, path: str | None) -> None:
        self._model_file = path
        self._settings.set_deep_model_file(path)
        if path is None:
            self.message.hide()
        self._refresh()
        self.model_changed.emit()

    def _say(self, text: str, style: str) -> None:
        self.message.setStyleSheet(style)
        self.message.setText(f"<small>{text}</small>")
        self.message.setToolTip(text)
        self.message.show()

    def _fill_models(self) -> None:
        combo = self.model_combo
        combo.blockSignals(True)
        combo.clear()
        built_in_problem = availability()
        combo.addItem(BUILT_IN if built_in_problem is None else BUILT_IN_MISSING, None)
        model = combo.model()
        if built_in_problem is not None and isinstance(model, QStandardItemModel):
            item = model.item(0)
            item.setEnabled(False)
            item.setToolTip(built_in_problem)
        if self._model_file is not None:
            combo.addItem(file_name(self._model_file), self._model_file)
            combo.setItemData(1, display_path(self._model_file), Qt.ItemDataRole.ToolTipRole)
        combo.addItem(CHOOSE, None)
        combo.setCurrentIndex(1 if self._model_file is not None else 0)
        combo.setToolTip(display_path(self._model_file) if self._model_file
                         else built_in_problem or BUILT_IN)
        combo.blockSignals(False)

    def _refresh(self) -> None:
        """What can run now: the runtime, then the chosen file or the built-in model."""
        # With a file given, availability() asks only for what running a model needs.
        runtime_problem = availability(self._model_file or "")
        hint = problem = runtime_problem
        if problem is None and self._model_file is None:
            problem = availability()
            hint = None if problem is None else (
                f"{problem.split(';')[0]} — or choose an SSCD ONNX file as the model below."
            )
        elif problem is None and not os.path.isfile(self._model_file or ""):  # noqa: PTH113
            name = file_name(self._model_file or "")
            problem = hint = f"The model file “{name}” is missing: choose it again, or another."
        self.problem = problem
        self.hint.setText(f"<small>{hint}</small>" if hint else "")
        self.hint.setVisible(bool(hint))
        self._fill_models()
        self.model_combo.setEnabled(runtime_problem is None and not self.is_checking())
        self.box.setEnabled(problem is None)
        self.box.blockSignals(True)
        self.box.setChecked(
            problem is None and bool(self._store.value(SETTING, False, type=bool))
        )
        self.box.blockSignals(False)

    def _on_toggled(self, checked: bool) -> None:
        self._store.setValue(SETTING, checked)
        self.toggled.emit(checked)
