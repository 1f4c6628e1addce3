"""The engine: scanning, hashing, caching, grouping, keeper choice and file actions.

Nothing in this package imports Qt (an import-linter contract in pyproject.toml checks it),
so the CLI, the tests and the GUI all drive exactly the same code.
"""
