"""What to suggest for RAW+JPEG pairs (a RAW and the camera's JPEG of the same shot): keep
both (the default), only the RAW, or only the JPEG; shown under "Suggested keeper"."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from dedup_gui.app import dialogs
from dedup_gui.app.settings import AppSettings
from dedup_gui.core.grouping.raw_pairs import RawJpegPolicy

CHOICES: tuple[tuple[str, RawJpegPolicy], ...] = (
    ("Keep both", RawJpegPolicy.KEEP_BOTH),
    ("Keep only the RAW", RawJpegPolicy.KEEP_RAW),
    ("Keep only the JPEG", RawJpegPolicy.KEEP_JPEG),
)

KEEP_JPEG_QUESTION = (
    "RAW files will be suggested for the trash when a JPEG of the same shot is kept.\n\n"
    "A RAW holds everything the camera recorded; its JPEG cannot be turned back into it. "
    "You can still keep any RAW by its Keep mark, and nothing is moved to the trash until "
    "you confirm it."
)


class RawPairChoice(QWidget):
    """A "RAW+JPEG pairs" combo box, remembered in the settings; `changed` fires once the
    user has picked another policy (keeping only the JPEG asks first, the first time)."""

    changed = Signal()

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self.combo = QComboBox(self)
        self.combo.setAccessibleName("RAW+JPEG pairs")
        for label, policy in CHOICES:
            self.combo.addItem(label, policy.value)
        self.combo.setToolTip(
            "A camera RAW and the JPEG or HEIC of the same shot (same name in the same "
            "folder, or the same capture time) are a pair, shown as one image with a "
            "RAW+JPG badge. Keep both, or only one of each pair."
        )
        self._select(settings.raw_jpeg_policy())
        self._shown = self.policy()
        self.combo.currentIndexChanged.connect(self._on_picked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("RAW+JPEG pairs", self))
        layout.addWidget(self.combo)

    def policy(self) -> RawJpegPolicy:
        return RawJpegPolicy(self.combo.currentData())

    def _select(self, policy: RawJpegPolicy) -> None:
        self.combo.blockSignals(True)
        self.combo.setCurrentIndex(max(0, self.combo.findData(policy.value)))
        self.combo.blockSignals(False)

    def _on_picked(self, _index: int) -> None:
        policy = self.policy()
        if policy is RawJpegPolicy.KEEP_JPEG and not self._settings.keep_jpeg_confirmed():
            if not dialogs.confirm(
                self.window(), "Keep only the JPEG of each pair?", KEEP_JPEG_QUESTION,
                accept_label="Keep Only the JPEG",
            ):
                self._select(self._shown)
                return
            self._settings.set_keep_jpeg_confirmed()
        self._shown = policy
        self._settings.set_raw_jpeg_policy(policy)
        self.changed.emit()
