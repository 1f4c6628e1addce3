"""`dedup-gui [FOLDER...]`: the desktop app's entry point."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from dedup_gui import APP_ID, APP_NAME, __version__

if TYPE_CHECKING:
    from dedup_gui.app.main_window import MainWindow
    from dedup_gui.app.settings import AppSettings, FolderEntry


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="dedup-gui",
        description="Find duplicate and near-duplicate photos and move the extra copies "
        "to the trash.",
    )
    parser.add_argument(
        "folders", nargs="*", metavar="FOLDER",
        help="folders (or image files) to add and scan right away",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--self-check", action="store_true",
        help="check that the installation works (imports, image formats, trash) and exit",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    try:
        arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    except SystemExit as exit_:  # --version, --help and usage errors end here
        return exit_.code if isinstance(exit_.code, int) else 2
    if arguments.self_check:
        from dedup_gui.app.selfcheck import run_self_check

        return run_self_check()

    from dedup_gui.app.system_libraries import startup_problem

    problem = startup_problem()
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = open_main_window(arguments.folders)  # kept referenced while the loop runs
    exit_code = app.exec()
    del window
    return exit_code


def open_main_window(folders: list[str], settings: AppSettings | None = None) -> MainWindow:
    """Name the application, show the window, add `folders` and scan them. With folders,
    only those are listed and scanned: the remembered ones are offered, not scanned.
    Needs a QApplication."""
    from PySide6.QtGui import QGuiApplication

    from dedup_gui.app.file_open import FileOpenForwarder
    from dedup_gui.app.icon import app_icon
    from dedup_gui.app.main_window import MainWindow
    from dedup_gui.app.remembered_folders import (
        OfferedFoldersSettings,
        offer_remembered,
        offered_folders,
    )
    from dedup_gui.app.settings import ORGANIZATION, AppSettings

    QGuiApplication.setApplicationName(APP_NAME)
    QGuiApplication.setOrganizationName(ORGANIZATION)
    QGuiApplication.setApplicationVersion(__version__)
    QGuiApplication.setDesktopFileName(APP_ID)
    QGuiApplication.setWindowIcon(app_icon())
    settings = settings or AppSettings()
    remembered = settings.folders()
    offered = None
    if folders:
        offered = OfferedFoldersSettings(offered_folders(remembered, folders), settings.store)
        settings = offered
    window = MainWindow(settings)
    app = QGuiApplication.instance()
    if app is not None:
        app.installEventFilter(FileOpenForwarder(window.add_paths, window))
    window.show()
    if folders:
        window.add_paths(folders)
        keep_remembered_roles(window, remembered)
        window.start_scan()
    if offered is not None:
        offer_remembered(window, offered)
    return window


def keep_remembered_roles(window: MainWindow, remembered: list[FolderEntry]) -> None:
    """A folder named on the command line that was remembered Protected stays Protected
    (one remembered as Excluded was named to be scanned: it is Normal now)."""
    from dedup_gui.core.files.folder_roles import FolderRole

    listed = set(window.folder_panel.paths())
    for entry in remembered:
        if entry.path in listed and entry.role is FolderRole.PROTECTED:
            window.folder_panel.set_role(entry.path, entry.role)
