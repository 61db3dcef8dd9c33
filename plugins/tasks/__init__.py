"""Pyramidion plugin `tasks`."""
