"""dedup_gui: find and safely remove duplicate and near-duplicate photos."""

__version__ = "0.1.0"
APP_NAME = "Dedup GUI"
APP_ID = "io.github.dedup_gui.DedupGui"
