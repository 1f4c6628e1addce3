"""Which copy of each group is suggested as the keeper: the first rule of the core's keeper
chain, chosen by the user (a copy in a protected folder is always kept first)."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
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
        self.combo.activated.connect(self._on_chosen)
        self._focus_after_choice: QWidget | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Keep the copy with", self))
        layout.addWidget(self.combo)

    def return_focus_to(self, widget: QWidget) -> None:
        """After each choice the keyboard goes to `widget` (the group list): a combo box that
        kept the focus would take the arrow keys meant for the groups and change its value."""
        self._focus_after_choice = widget

    def _on_chosen(self, _index: int) -> None:
        target = self._focus_after_choice
        if target is not None:
            # After the popup has closed and handed the focus back to the combo box.
            QTimer.singleShot(0, target.setFocus)

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
