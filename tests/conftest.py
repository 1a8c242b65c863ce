"""Shared pytest configuration."""

from __future__ import annotations


def pytest_collection_modifyitems(config, items):
    # Start the long tests (papermill notebook runs, marked `slow`) first, so that with
    # `pytest -n 2` they overlap with the quick ones instead of trailing at the end.
    items.sort(key=lambda item: 0 if item.get_closest_marker("slow") else 1)  # stable sort
