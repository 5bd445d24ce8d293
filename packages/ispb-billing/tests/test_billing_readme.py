"""The README's example runs and prints what it says (DESIGN 1: each library has a runnable example)."""

import doctest
import importlib.metadata
import re
from pathlib import Path

PYCON_BLOCK = re.compile(r"^```pycon\n(.*?)^```", re.MULTILINE | re.DOTALL)


def readme_text() -> str:
    """The README next to the tests in the repository, else the copy shipped in the installed metadata.

    The isolation test copies only `tests/` into a fresh venv; there the package's long description (the
    README, as built into the wheel) is the same text.
    """
    path = Path(__file__).resolve().parents[1] / "README.md"
    if path.is_file():
        return path.read_text(encoding="utf-8")
    description = importlib.metadata.metadata("ispb-billing")["Description"]
    assert description, "the installed ispb-billing carries no README"
    return description


def test_readme_example_runs_and_its_output_matches() -> None:
    blocks = PYCON_BLOCK.findall(readme_text())
    assert blocks, "the README example went missing"
    test = doctest.DocTestParser().get_doctest("\n".join(blocks), {}, "README.md", "README.md", 0)
    assert len(test.examples) >= 15, "the README example went missing"
    failures: list[str] = []
    result = doctest.DocTestRunner().run(test, out=failures.append)
    assert result.failed == 0, "".join(failures)
