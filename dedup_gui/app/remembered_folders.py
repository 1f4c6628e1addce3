"""`dedup-gui FOLDER` opens just FOLDER: the folders remembered from earlier runs are
offered in a bar ("Also scan your 3 remembered folders?"), not scanned with it, and stay
remembered whether or not the offer is taken."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from dedup_gui.app.formatting import format_count
from dedup_gui.app.paths import display_path
from dedup_gui.app.settings import AppSettings, FolderEntry

if TYPE_CHECKING:
    from dedup_gui.app.main_window import MainWindow


def _key(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))  # noqa: PTH100 (the user's spelling)


class OfferedFoldersSettings(AppSettings):
    """Settings for a window opened on folders of the command line: it starts with no
    listed folder, and whatever it saves keeps the remembered folders not taken yet."""

    def __init__(self, remembered: list[FolderEntry], store: QSettings | None = None) -> None:
        super().__init__(store)
        self.offered = list(remembered)

    def folders(self) -> list[FolderEntry]:
        return []

    def set_folders(self, entries: list[FolderEntry]) -> None:
        listed = {_key(entry.path) for entry in entries}
        kept = [entry for entry in self.offered if _key(entry.path) not in listed]
        super().set_folders([*kept, *entries])

    def take_offered(self) -> list[FolderEntry]:
        taken, self.offered = self.offered, []
        return taken


def offered_folders(remembered: list[FolderEntry], opened: list[str]) -> list[FolderEntry]:
    """The remembered folders worth offering: those not opened already."""
    opened_keys = {_key(path) for path in opened}
    return [entry for entry in remembered if _key(entry.path) not in opened_keys]


class RememberedFoldersBar(QFrame):
    """The offer, above the window's content; gone once answered."""

    def __init__(self, window: MainWindow, settings: OfferedFoldersSettings) -> None:
        super().__init__(window)
        self.setObjectName("rememberedFoldersBar")
        self.setStyleSheet(
            "#rememberedFoldersBar { background: palette(alternate-base);"
            " border-bottom: 1px solid palette(mid); }"
        )
        self._window = window
        self._settings = settings
        count = len(settings.offered)
        self.label = QLabel(
            f"Opened just the folders you named. Also scan your "
            f"{format_count(count, 'remembered folder')}?", self,
        )
        self.label.setToolTip("\n".join(display_path(e.path) for e in settings.offered))
        self.accept_button = QPushButton(
            "Scan Them Too" if count > 1 else "Scan It Too", self
        )
        self.accept_button.clicked.connect(self.accept)
        self.dismiss_button = QPushButton("Not Now", self)
        self.dismiss_button.setToolTip("They stay remembered for the next time")
        self.dismiss_button.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.accept_button)
        layout.addWidget(self.dismiss_button)

    def accept(self) -> None:
        """List the remembered folders (with their roles) before the opened ones, and scan."""
        window = self._window
        offered = self._settings.take_offered()
        window.folder_panel.set_entries([*offered, *window.folder_panel.entries()])
        if window.is_busy():
            window.statusBar().showMessage(
                "Added. Scan again (F5) when this scan is done to include them.", 10000
            )
        else:
            window.start_scan()
        self._close()

    def dismiss(self) -> None:
        self._close()

    def _close(self) -> None:
        self.hide()
        self.deleteLater()


def offer_remembered(window: MainWindow, settings: OfferedFoldersSettings) -> QWidget | None:
    """Show the offer in `window` when there is something to offer."""
    if not settings.offered:
        return None
    bar = RememberedFoldersBar(window, settings)
    window.add_info_bar(bar)
    return bar
