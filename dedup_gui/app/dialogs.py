"""Every modal question the app asks, in one place.

The main window only calls these functions, so tests replace them with
`monkeypatch.setattr(dialogs, "confirm", ...)` and never block on a modal dialog.
"""

from __future__ import annotations

import html

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget


def confirm(parent: QWidget | None, title: str, text: str, *, accept_label: str) -> bool:
    """Ask a yes/no question; the safe answer (Cancel) is the default button.

    The first paragraph of `text` is the question, shown in bold; the rest explains it."""
    question, _, explanation = text.partition("\n\n")
    box = QMessageBox(QMessageBox.Icon.Warning, title, f"<b>{html.escape(question)}</b>",
                      parent=parent)
    box.setInformativeText(explanation)
    accept = box.addButton(accept_label, QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.exec()
    return box.clickedButton() is accept


def inform(parent: QWidget | None, title: str, text: str, details: str = "") -> None:
    box = QMessageBox(QMessageBox.Icon.Information, title, text, parent=parent)
    if details:
        box.setDetailedText(details)
    box.exec()


def warn(parent: QWidget | None, title: str, text: str, details: str = "") -> None:
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=parent)
    if details:
        box.setDetailedText(details)
    box.exec()


def report(
    parent: QWidget | None,
    title: str,
    text: str,
    details: str = "",
    *,
    warning: bool = False,
    action_label: str = "",
) -> bool:
    """`inform` (or `warn`), with a second button `action_label` (such as Undo) when given.
    Returns whether the user chose it."""
    if not action_label:
        (warn if warning else inform)(parent, title, text, details)
        return False
    icon = QMessageBox.Icon.Warning if warning else QMessageBox.Icon.Information
    box = QMessageBox(icon, title, text, parent=parent)
    if details:
        box.setDetailedText(details)
    action = box.addButton(action_label, QMessageBox.ButtonRole.ActionRole)
    box.setDefaultButton(box.addButton(QMessageBox.StandardButton.Ok))
    box.exec()
    return box.clickedButton() is action


def choose_folder(
    parent: QWidget | None, title: str = "Add a folder to scan", start: str = ""
) -> str | None:
    folder = QFileDialog.getExistingDirectory(parent, title, start)
    return folder or None


def choose_export_path(parent: QWidget | None) -> str | None:
    path, chosen_filter = QFileDialog.getSaveFileName(
        parent, "Export results", "duplicates.csv", "CSV (*.csv);;JSON (*.json)"
    )
    if not path:
        return None
    # The format follows the extension: a name typed without one gets the chosen filter's.
    if not path.lower().endswith((".csv", ".json")):
        path += ".json" if chosen_filter.startswith("JSON") else ".csv"
    return path
