"""Runs with only ispb-monitor installed: the package imports and reports its own version."""

import importlib.metadata

import ispb_monitor


def test_version_matches_installed_metadata() -> None:
    assert ispb_monitor.__version__ == importlib.metadata.version("ispb-monitor")
