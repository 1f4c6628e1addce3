"""The version of the hashing recipe, apart from the code that hashes: the cache checks it
on every scan, and a warm rescan should not have to import numpy or Pillow to do so."""

RECIPE_VERSION = 2
"""Bump whenever decoding or any signature changes: cached records of other versions are
recomputed."""
