"""Turning one file into pixels and signatures: decoding within a memory budget, RAW,
provenance, thumbnails, hashes.
"""
