"""The README's NetFlow examples run and print what they say (DESIGN 1: a runnable example per library)."""

import doctest
import importlib.metadata
import re
from pathlib import Path

PYCON_BLOCK = re.compile(r"^```pycon\n(.*?)^```", re.MULTILINE | re.DOTALL)


def netflow_section() -> str:
    path = Path(__file__).resolve().parents[1] / "README.md"
    if path.is_file():
        text = path.read_text(encoding="utf-8")
    else:  # the isolation test copies only tests/: the wheel's long description is the same README
        text = importlib.metadata.metadata("ispb-netsync")["Description"]
    start = text.index("## NetFlow records")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_readme_netflow_examples_run() -> None:
    blocks = PYCON_BLOCK.findall(netflow_section())
    test = doctest.DocTestParser().get_doctest("\n".join(blocks), {}, "README.md", "README.md", 0)
    assert len(test.examples) >= 10, "the README example went missing"
    failures: list[str] = []
    assert doctest.DocTestRunner().run(test, out=failures.append).failed == 0, "".join(failures)
