"""Runs with only ispb-billing installed: the package imports and reports its own version."""

import importlib.metadata

import ispb_billing


def test_version_matches_installed_metadata() -> None:
    assert ispb_billing.__version__ == importlib.metadata.version("ispb-billing")
