"""Benchmarks: ``python -m bench`` prints a table (``--json FILE`` writes the figures)."""
