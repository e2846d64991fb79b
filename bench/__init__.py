"""Benchmarks of gridmap against the obvious alternatives (``python -m bench``)."""
