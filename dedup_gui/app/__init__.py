"""The PySide6 desktop app: a thin layer of models, views and workers over dedup_gui.core."""
