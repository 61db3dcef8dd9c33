"""Pyramidion plugin `bar`."""
