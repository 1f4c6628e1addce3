"""`python -m dedup_gui` starts the desktop app."""

from dedup_gui.app.main import main

raise SystemExit(main())
