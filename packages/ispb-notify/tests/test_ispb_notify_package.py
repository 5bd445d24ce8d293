"""Runs with only ispb-notify installed: the package imports and reports its own version."""

import importlib.metadata

import ispb_notify


def test_version_matches_installed_metadata() -> None:
    assert ispb_notify.__version__ == importlib.metadata.version("ispb-notify")
