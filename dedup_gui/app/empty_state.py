"""The first thing a user sees: a large drop target that says what to do."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

DROP_TITLE = "Drop folders here"


class EmptyState(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emptyState")
        self.title = QLabel(DROP_TITLE, self)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setStyleSheet("font-size: 26px; font-weight: 600;")
        self.subtitle = QLabel(self)
        self.subtitle.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.subtitle.setWordWrap(True)
        self.subtitle.setStyleSheet("font-size: 14px; color: palette(placeholder-text);")
        self.frame = QWidget(self)
        self.frame.setObjectName("dropFrame")
        self.set_highlighted(False)
        inner = QVBoxLayout(self.frame)
        inner.addStretch(1)
        inner.addWidget(self.title)
        inner.addSpacing(8)
        inner.addWidget(self.subtitle)
        inner.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 32, 32, 32)
        layout.addWidget(self.frame)
        self.show_hint(DROP_TITLE, "")

    def set_highlighted(self, highlighted: bool) -> None:
        """A drag of folders is over the window: the frame lights up where they will land."""
        colour = "palette(highlight)" if highlighted else "palette(mid)"
        self.frame.setStyleSheet(
            f"#dropFrame {{ border: 3px dashed {colour}; border-radius: 18px; }}"
        )

    def show_hint(self, title: str, subtitle: str) -> None:
        self.title.setText(title)
        self.subtitle.setText(
            subtitle
            or "Drag folders of photos from your file manager onto this window,\n"
            "or click Add Folder… (Ctrl+O). Duplicates are only ever moved to the trash."
        )
