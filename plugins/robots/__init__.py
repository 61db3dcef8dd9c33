"""Pyramidion plugin `robots`."""
