"""Runs with only ispb-netsync installed: the package imports and reports its own version."""

import importlib.metadata

import ispb_netsync


def test_version_matches_installed_metadata() -> None:
    assert ispb_netsync.__version__ == importlib.metadata.version("ispb-netsync")
