"""A scan: the worker pool, byte copies decoded once, the hash cache."""
