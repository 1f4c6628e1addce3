"""The version of the hashing recipe, apart from the code that hashes: the cache checks it
on every scan, and a warm rescan should not have to import numpy or Pillow to do so."""

RECIPE_VERSION = 2
"""Bump whenever decoding or any signature changes: cached records of other versions are
recomputed."""
CONVERSION_RULE_VERSION = 1
"""Bump whenever images/decode_match.py's rule changes: the cache's conversion verdicts of
other versions are made again."""
