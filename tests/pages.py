"""Helpers for reading the platform's pages in tests (a module of its own: test modules cannot import
``conftest`` reliably, because tests/e2e has a conftest of the same module name)."""

import re


def csrf_from(html: str) -> str:
    """The CSRF token a page carries in its ``<meta name="csrf-token">``."""
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)
