"""The "Also find crops and edited copies" option: deep copy detection (core/deep), off by
default, greyed out with a one-line install hint when the `deep` extra is missing. The
choice is remembered; the engine work runs in the scan job (workers.ScanJob)."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QCheckBox, QLabel, QVBoxLayout, QWidget

from dedup_gui import APP_NAME
from dedup_gui.app.settings import ORGANIZATION
from dedup_gui.core.deep import availability

SETTING = "deep/enabled"
LABEL = "Also find crops and edited copies"


class DeepOption(QWidget):
    toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None, store: QSettings | None = None) -> None:
        super().__init__(parent)
        self._store = store or QSettings(ORGANIZATION, APP_NAME)
        self.problem = availability()
        self.box = QCheckBox(LABEL, self)
        self.box.setToolTip(
            "A copy-detection model also finds crops, small turns, stickers and colour "
            "grades that look too different for the hashes; each match is checked by "
            "keypoints. Slower: about 20 ms more per image on the first scan."
        )
        self.hint = QLabel(self)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: palette(placeholder-text);")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.box)
        layout.addWidget(self.hint)
        if self.problem is not None:
            self.box.setEnabled(False)
            self.hint.setText(f"<small>{self.problem}</small>")
        else:
            self.hint.hide()
            self.box.setChecked(bool(self._store.value(SETTING, False, type=bool)))
        self.box.toggled.connect(self._on_toggled)

    def enabled(self) -> bool:
        return self.problem is None and self.box.isChecked()

    def _on_toggled(self, checked: bool) -> None:
        self._store.setValue(SETTING, checked)
        self.toggled.emit(checked)
