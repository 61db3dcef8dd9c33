"""Pyramidion plugin `rentals`."""
