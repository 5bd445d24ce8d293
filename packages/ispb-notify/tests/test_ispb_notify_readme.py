"""The README's example runs and prints what it says (DESIGN 1: each library has a runnable example)."""

import doctest
import importlib.metadata
import re
from pathlib import Path

PYCON_BLOCK = re.compile(r"^```pycon\n(.*?)^```", re.MULTILINE | re.DOTALL)


def readme_text() -> str:
    """The README next to the tests, else the copy in the installed metadata (the isolation test copies tests/)."""
    path = Path(__file__).resolve().parents[1] / "README.md"
    if path.is_file():
        return path.read_text(encoding="utf-8")
    description = importlib.metadata.metadata("ispb-notify")["Description"]
    assert description, "the installed ispb-notify carries no README"
    return description


def test_readme_example_runs_and_its_output_matches() -> None:
    blocks = PYCON_BLOCK.findall(readme_text())
    test = doctest.DocTestParser().get_doctest("\n".join(blocks), {}, "README.md", "README.md", 0)
    assert len(test.examples) >= 15, "the README example went missing"
    failures: list[str] = []
    result = doctest.DocTestRunner().run(test, out=failures.append)
    assert result.failed == 0, "".join(failures)
