"""The frozen app's entry point (PyInstaller runs this file as __main__)."""

import multiprocessing

from dedup_gui.app.main import main

if __name__ == "__main__":
    # Scans with worker processes re-launch this executable; without this, on Windows and
    # macOS each worker would start another copy of the app instead of doing its work.
    multiprocessing.freeze_support()
    raise SystemExit(main())
