"""Measurements behind choices in probe; run them with `python -m benchmarks`."""
