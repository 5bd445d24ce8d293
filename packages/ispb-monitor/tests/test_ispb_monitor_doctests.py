"""The examples in the docstrings are true (they document the rules; a wrong example is a wrong rule)."""

import doctest
import importlib
import pkgutil

import pytest

import ispb_monitor
import ispb_monitor.checks

MODULES = sorted(
    {info.name for info in pkgutil.iter_modules(ispb_monitor.__path__, "ispb_monitor.")}
    | {info.name for info in pkgutil.iter_modules(ispb_monitor.checks.__path__, "ispb_monitor.checks.")}
    | {"ispb_monitor.checks"}
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    failures: list[str] = []
    runner = doctest.DocTestRunner()
    tests = doctest.DocTestFinder().find(module)
    failed = sum(runner.run(test, out=failures.append).failed for test in tests)
    assert failed == 0, "".join(failures)
