"""What the window says about where it is: the empty page or the results, the empty
state's hint, which actions are enabled, and the status line's counts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from dedup_gui.app.empty_state import DROP_TITLE
from dedup_gui.app.formatting import format_bytes, format_count

if TYPE_CHECKING:
    from dedup_gui.app.main_window import MainWindow

EMPTY_PAGE, RESULTS_PAGE = 0, 1


class WindowStatus(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window

    def update_state(self) -> None:
        window = self._window
        has_groups = window.group_model.rowCount() > 0
        scanned = window.scan_flow.result is not None
        window.pages.setCurrentIndex(RESULTS_PAGE if scanned else EMPTY_PAGE)
        window.duplicates_page.setCurrentWidget(
            window.review_splitter if has_groups else window.no_groups
        )
        if not has_groups:
            self._update_empty_hint()
        window.scan_button.setEnabled(
            window.jobs.job is None and window.folder_panel.has_folders_to_scan()
        )
        window.scan_action.setEnabled(window.scan_button.isEnabled())
        self.update_actions()
        self.update_status()

    def _update_empty_hint(self) -> None:
        window = self._window
        if window.regrouping.job is not None:
            window.no_groups.show_hint("Regrouping…", "")
            return
        if window.is_busy():
            return
        if not window.folder_panel.paths():
            window.empty_state.show_hint(DROP_TITLE, "")
        elif window.scan_flow.result is None:
            window.empty_state.show_hint(
                "Ready to scan",
                "Click Scan for Duplicates, or drop more folders here.",
            )
        else:
            window.no_groups.show_hint(
                "No duplicates found",
                f"{len(window.scan_flow.result.records):,} images compared at"
                f" {window.similarity()}% similarity. Move the slider to the left to find"
                " looser matches.",
            )

    def update_actions(self) -> None:
        window = self._window
        has_current = window.group_view.current_row() >= 0
        idle = not window.is_busy()
        window.trash_action.setEnabled(idle and window.group_model.rowCount() > 0)
        window.move_to_folder_action.setEnabled(idle and window.group_model.group_count() > 0)
        window.open_action.setEnabled(has_current)
        window.show_folder_action.setEnabled(has_current)
        window.export_action.setEnabled(window.scan_flow.result is not None)

    def update_status(self) -> None:
        window = self._window
        if window.regrouping.job is not None:
            window.status_label.setText("Regrouping…")
            return
        if window.scan_flow.result is None:
            if window.is_busy():
                text = "Scanning…"
            elif window.folder_panel.paths():
                text = "Ready: click Scan for Duplicates (F5)."
            else:
                text = "Add folders, then scan."
            window.status_label.setText(text)
            return
        marked_files, marked_bytes = window.group_model.marked_totals()
        shown, total = window.group_model.rowCount(), window.group_model.group_count()
        parts = [
            format_count(total, "group") if shown == total
            else f"{shown:,} of {total:,} groups shown",
            f"{format_count(marked_files, 'file')} marked for the trash "
            f"({format_bytes(marked_bytes)} to free)",
            f"{format_count(len(window.scan_flow.result.records), 'image')} scanned",
        ]
        if window.scan_flow.result.errors:
            parts.append(f"{len(window.scan_flow.result.errors):,} not scanned")
        window.status_label.setText("  ·  ".join(parts))

