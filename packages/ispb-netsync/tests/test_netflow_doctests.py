"""The examples in the netflow module's docstrings are true (filters, holders, nfcapd's command line)."""

import doctest
import importlib
import pkgutil

import pytest

import ispb_netsync.netflow

MODULES = sorted(info.name for info in pkgutil.iter_modules(ispb_netsync.netflow.__path__, "ispb_netsync.netflow."))


@pytest.mark.parametrize("name", ["ispb_netsync.netflow", *MODULES])
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    failures: list[str] = []
    runner = doctest.DocTestRunner()
    failed = sum(runner.run(test, out=failures.append).failed for test in doctest.DocTestFinder().find(module))
    assert failed == 0, "".join(failures)


def test_the_modules_have_examples() -> None:
    examples = sum(
        len(test.examples) for name in MODULES for test in doctest.DocTestFinder().find(importlib.import_module(name))
    )
    assert examples >= 5
