"""Benchmarks: `python -m benchmarks.<name>`; the last line each prints is a JSON summary."""
