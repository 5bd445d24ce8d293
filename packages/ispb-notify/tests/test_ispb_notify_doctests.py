"""The examples in the docstrings are true (they document the rules; a wrong example is a wrong rule)."""

import doctest
import importlib
import pkgutil

import pytest

import ispb_notify

MODULES = sorted(info.name for info in pkgutil.iter_modules(ispb_notify.__path__, "ispb_notify."))


def test_every_module_is_covered() -> None:
    assert {"ispb_notify.templates", "ispb_notify.segments", "ispb_notify.rules", "ispb_notify.gateways"} <= set(
        MODULES
    )


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    failures: list[str] = []
    runner = doctest.DocTestRunner()
    tests = doctest.DocTestFinder().find(module)
    failed = sum(runner.run(test, out=failures.append).failed for test in tests)
    assert failed == 0, "".join(failures)
