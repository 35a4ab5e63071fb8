"""Benchmarks: each module prints its figures as JSON."""
