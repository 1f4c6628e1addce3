"""Writing results (JSON/CSV exports) without ever writing over a photo."""
