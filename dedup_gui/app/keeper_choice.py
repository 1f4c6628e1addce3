"""Which copy of each group is suggested as the keeper: the first rule of the core's keeper
chain, chosen by the user, or the whole chain the user ordered in the Rule Chain dialog (a
copy in a protected folder is always kept first)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QGroupBox, QLabel, QPushButton, QVBoxLayout, QWidget

from dedup_gui.core.grouping.keeper import (
    DEFAULT_KEEPER_RULES,
    ChainRule,
    KeeperRule,
    rules_preferring,
)

CHOICES: tuple[tuple[str, KeeperRule], ...] = (
    ("the original (not edited or re-saved)", KeeperRule.ORIGINAL),
    ("the most pixels", KeeperRule.RESOLUTION),
    ("the largest file", KeeperRule.FILE_SIZE),
    ("the earliest capture date", KeeperRule.CAPTURE_DATE),
    ("the shortest path", KeeperRule.SHORTER_PATH),
)
CHAIN_CHOICE = "chain"
CHAIN_LABEL = "my rule chain"


class KeeperChoice(QGroupBox):
    """A "Keep the copy with …" combo box; `changed` fires when the user picks another."""

    changed = Signal()
    chain_requested = Signal()
    """The user asked to order the whole chain (the Rule Chain dialog)."""

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
        self.combo.addItem(CHAIN_LABEL, CHAIN_CHOICE)
        self._chain: tuple[ChainRule, ...] = DEFAULT_KEEPER_RULES
        self._last_rule = KeeperRule(CHOICES[0][1])
        self.combo.currentIndexChanged.connect(self._on_index_changed)
        self.chain_button = QPushButton("Rule Chain…", self)
        self.chain_button.setToolTip("Order every rule yourself, and apply them to the groups")
        self.chain_button.clicked.connect(self.chain_requested.emit)
        self.combo.activated.connect(self._on_chosen)
        self._focus_after_choice: QWidget | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Keep the copy with", self))
        layout.addWidget(self.combo)
        layout.addWidget(self.chain_button)

    def _on_index_changed(self, _index: int) -> None:
        if not self.uses_chain():
            self._last_rule = KeeperRule(self.combo.currentData())
        self.changed.emit()

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
        """The single rule chosen (the last one, while the rule chain is used)."""
        return self._last_rule

    def uses_chain(self) -> bool:
        return self.combo.currentData() == CHAIN_CHOICE

    def chain(self) -> tuple[ChainRule, ...]:
        return self._chain

    def set_chain(self, chain: Sequence[ChainRule], *, use: bool) -> None:
        """Without `changed`: the caller regroups when it wants to."""
        self._chain = tuple(chain)
        if use:
            self.combo.blockSignals(True)
            self.combo.setCurrentIndex(self.combo.findData(CHAIN_CHOICE))
            self.combo.blockSignals(False)

    def set_preferred(self, rule: KeeperRule) -> None:
        """Without `changed`: used when settings are restored."""
        index = self.combo.findData(rule.value)
        if index >= 0:
            self._last_rule = rule
            self.combo.blockSignals(True)
            self.combo.setCurrentIndex(index)
            self.combo.blockSignals(False)

    def rules(self) -> tuple[ChainRule, ...]:
        return self._chain if self.uses_chain() else rules_preferring(self.preferred())
