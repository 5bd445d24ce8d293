"""The README's three-line OLT example walks a (simulated) OLT as written."""

import asyncio
import contextlib
import importlib.metadata
import io
import re
import tempfile
import textwrap
from pathlib import Path

from ispb_netsync.olt import PROFILES, OnuRecord, OnuStatus, write_recording
from ispb_netsync.olt.simulator import OltSimulator

PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def olt_example() -> str:
    path = Path(__file__).resolve().parents[1] / "README.md"
    text = (
        path.read_text(encoding="utf-8")
        if path.is_file()
        else importlib.metadata.metadata("ispb-netsync")["Description"]
    )
    start = text.index("## OLTs and ONUs over SNMP")
    return PYTHON_BLOCK.findall(text[start : text.find("\n## ", start + 1)])[0]


def test_the_example_is_three_lines() -> None:
    assert len([line for line in olt_example().splitlines() if line.strip()]) == 3


def test_the_readme_example_walks_an_olt() -> None:
    directory = Path(tempfile.mkdtemp(prefix="ispb-olt-readme-"))
    onu = OnuRecord("0/1/3", 1, "HWTC0000BEEF", OnuStatus.ONLINE, -19.5, 2.0, 900, "C-0001")
    write_recording(directory / "public.snmprec", PROFILES["huawei_gpon"], [onu], description="readme")
    with OltSimulator(directory) as simulator:
        code = olt_example().replace(
            '"10.0.0.2", community="public"', f'"127.0.0.1", community="public", port={simulator.port}'
        )
        namespace: dict[str, object] = {}
        exec(f"async def example():\n{textwrap.indent(code, '    ')}", namespace)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            asyncio.run(namespace["example"]())  # type: ignore[operator]
    assert printed.getvalue().strip() == "[('0/1/3:1', 'HWTC0000BEEF', <OnuStatus.ONLINE: 'online'>, -19.5)]"
