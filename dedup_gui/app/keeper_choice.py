"""Which copy of each group is suggested as the keeper: the first rule of the core's keeper
chain, chosen by the user (a copy in a protected folder is always kept first)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGroupBox, QLabel, QVBoxLayout, QWidget

from dedup_gui.core.grouping.keeper import KeeperRule, rules_preferring

CHOICES: tuple[tuple[str, KeeperRule], ...] = (
    ("the original (not edited or re-saved)", KeeperRule.ORIGINAL),
    ("the most pixels", KeeperRule.RESOLUTION),
    ("the largest file", KeeperRule.FILE_SIZE),
    ("the earliest capture date", KeeperRule.CAPTURE_DATE),
    ("the shortest path", KeeperRule.SHORTER_PATH),
)


class KeeperChoice(QGroupBox):
    """A "Keep the copy with …" combo box; `changed` fires when the user picks another."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Suggested keeper", parent)
        self.combo = QComboBox(self)
        self.combo.setAccessibleName("Keep the copy with")
        for label, rule in CHOICES:
            self.combo.addItem(label, rule.value)
        self.combo.setToolTip(
            "Which copy each group suggests keeping; ties go to the next rule (the original, "
            "most pixels, largest file, earliest capture date, shortest path). Your own "
            "Keep/Trash marks "
            "stay as you set them."
        )
        self.combo.currentIndexChanged.connect(lambda _index: self.changed.emit())
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Keep the copy with", self))
        layout.addWidget(self.combo)

    def preferred(self) -> KeeperRule:
        return KeeperRule(self.combo.currentData())

    def set_preferred(self, rule: KeeperRule) -> None:
        """Without `changed`: used when settings are restored."""
        index = self.combo.findData(rule.value)
        if index >= 0:
            self.combo.blockSignals(True)
            self.combo.setCurrentIndex(index)
            self.combo.blockSignals(False)

    def rules(self) -> tuple[KeeperRule, ...]:
        return rules_preferring(self.preferred())
