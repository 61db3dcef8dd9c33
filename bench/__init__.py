"""Benchmarks of the platform, measured as ratios against references run alongside."""
