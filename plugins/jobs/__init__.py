"""Pyramidion plugin `jobs`."""
