"""Scan progress: files done / total, speed, time left, and a Cancel button."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from dedup_gui.app.formatting import format_bytes, format_duration
from dedup_gui.core.models import ScanProgress


def describe_progress(progress: ScanProgress) -> str:
    if progress.phase == "discovering":
        return f"Looking for images… {progress.done:,} found"
    if progress.phase == "confirming":
        return (f"Checking {progress.total:,} photos read from their thumbnails…"
                f" {progress.done:,} done")
    if progress.phase == "comparing":
        return (f"Comparing {progress.total:,} possible lossless conversions in full…"
                f" {progress.done:,} done")
    parts = [f"{progress.done:,} / {progress.total:,} files"]
    if progress.files_per_second > 0:
        speed = format_bytes(progress.bytes_per_second)
        parts.append(f"{progress.files_per_second:,.0f} files/s ({speed}/s)")
        left = (progress.total - progress.done) / progress.files_per_second
        parts.append(f"about {format_duration(left)} left")
    if progress.from_cache:
        parts.append(f"{progress.from_cache:,} from cache")
    if progress.phase == "describing" or progress.to_describe:
        parts.append(f"crops and edits: {progress.described:,} / {progress.to_describe:,}")
    return "  ·  ".join(parts)


class ProgressPanel(QWidget):
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar(self)
        self.bar.setTextVisible(True)
        self.bar.setMinimumWidth(240)
        self.label = QLabel(self)
        # Long texts ("Exporting to <path>") are cut, never allowed to widen the window.
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop; files hashed so far are kept (Esc)")
        self.cancel_button.clicked.connect(self._on_cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.bar, 2)
        layout.addWidget(self.label, 3)
        layout.addWidget(self.cancel_button)

    def start(self, text: str) -> None:
        self.bar.setRange(0, 0)
        self.label.setText(text)
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel")
        self.show()

    def show_scan_progress(self, progress: ScanProgress) -> None:
        if progress.phase in ("hashing", "confirming", "comparing") and progress.total > 0:
            self.bar.setRange(0, progress.total)
            self.bar.setValue(progress.done)
            self.bar.setFormat("%p%")
        elif progress.phase == "describing" and progress.to_describe > 0:
            self.bar.setRange(0, progress.to_describe)
            self.bar.setValue(progress.described)
            self.bar.setFormat("%p%")
        else:
            self.bar.setRange(0, 0)
        self.label.setText(describe_progress(progress))

    def show_count(self, done: int, total: int, text: str) -> None:
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(done)
        self.label.setText(text)

    def _on_cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")
        self.cancel_requested.emit()
