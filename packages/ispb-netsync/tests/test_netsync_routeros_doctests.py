"""The examples in the RouterOS adapter's docstrings are true (they document the rules)."""

import doctest
import importlib
import pkgutil

import pytest

import ispb_netsync.routeros

MODULES = sorted(info.name for info in pkgutil.iter_modules(ispb_netsync.routeros.__path__, "ispb_netsync.routeros."))


@pytest.mark.parametrize("name", ["ispb_netsync.routeros", *MODULES])
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    failures: list[str] = []
    runner = doctest.DocTestRunner()
    failed = sum(runner.run(test, out=failures.append).failed for test in doctest.DocTestFinder().find(module))
    assert failed == 0, "".join(failures)
