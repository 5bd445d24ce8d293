"""The README's RRD example runs and prints what it says (DESIGN 1: a runnable example per library)."""

import doctest
import importlib.metadata
import re
from pathlib import Path

PYCON_BLOCK = re.compile(r"^```pycon\n(.*?)^```", re.MULTILINE | re.DOTALL)


def rrd_section() -> str:
    """The README's RRD section, from the repository or else from the installed package's metadata."""
    path = Path(__file__).resolve().parents[1] / "README.md"
    if path.is_file():
        text = path.read_text(encoding="utf-8")
    else:  # the isolation test copies only tests/: the wheel's long description is the same README
        text = importlib.metadata.metadata("ispb-netsync")["Description"]
    start = text.index("## RRD traffic graphs")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_readme_rrd_example_runs() -> None:
    blocks = PYCON_BLOCK.findall(rrd_section())
    test = doctest.DocTestParser().get_doctest("\n".join(blocks), {}, "README.md", "README.md", 0)
    assert len(test.examples) >= 15, "the README example went missing"
    failures: list[str] = []
    assert doctest.DocTestRunner().run(test, out=failures.append).failed == 0, "".join(failures)
